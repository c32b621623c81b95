/**
 * One copy between two OCI layouts, checked with skopeo: the whole index keeps
 * its digest, one platform copies as its own manifest, two make a new index,
 * and a cyclic index is refused.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../src/copy/copy.js';
import { openDestination, openSource } from '../../src/transports/index.js';
import { parsePlatform } from '../../src/codec/platform.js';
import { sha256 } from '../../src/cas/blob-store.js';
import { blobPath, must, ociasm, readLayoutIndex, refDescriptor, ROOT, tempDir } from '../harness/util.js';

const tmp = tempDir();
const ctx = { cwd: tmp.dir, env: {} };
let src: string;
afterAll(() => tmp.cleanup());
beforeAll(async () => {
  src = path.join(tmp.dir, 'src');
  const r = await ociasm(['build', '-f', path.join(ROOT, 'docs/examples/hello/ociasm.yaml'), '-o', src], { cwd: tmp.dir });
  expect(r.code, r.stderr).toBe(0);
});

describe('copy between oci: layouts', () => {
  it('copies the whole index under a new ref, digest unchanged', async () => {
    const source = await openSource(`oci:${src}:hello:1.0`, ctx);
    const dest = await openDestination('oci:out1:copied', ctx);
    const r = await copyImage(source, dest);
    const want = refDescriptor(src, 'hello:1.0').digest;
    expect(r.images[0]!.digest).toBe(want);
    expect(r.images[0]!.tags).toEqual(['copied']);
    const raw = await must('skopeo', ['inspect', '--raw', `oci:${path.join(tmp.dir, 'out1')}:copied`]);
    expect(sha256(Buffer.from(raw))).toBe(want);
    expect(JSON.parse(raw).manifests).toHaveLength(5);
    // A second copy finds everything present.
    const again = await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('oci:out1:copied', ctx));
    expect(again.stats.uploaded).toBe(0);
    expect(again.stats.present).toBeGreaterThan(0);
  });

  it('one platform copies as that platform\'s manifest; two make a new index of them', async () => {
    const one = await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('oci:out2:arm', ctx), { platforms: [parsePlatform('linux/arm/v7')] });
    const config = JSON.parse(await must('skopeo', ['inspect', '--config', `oci:${path.join(tmp.dir, 'out2')}:arm`]));
    expect([config.architecture, config.variant]).toEqual(['arm', 'v7']);
    expect(one.images[0]!.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const two = await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('oci:out2:two', ctx), {
      platforms: [parsePlatform('linux/amd64'), parsePlatform('linux/arm64')],
    });
    const raw = JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${path.join(tmp.dir, 'out2')}:two`]));
    expect(raw.manifests.map((m: any) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(two.images[0]!.digest).not.toBe(refDescriptor(src, 'hello:1.0').digest);
  });

  it('refuses an index that lists itself, and a manifest whose bytes changed', async () => {
    const bad = path.join(tmp.dir, 'cyclic');
    await must('cp', ['-r', src, bad]);
    // A content-addressed index cannot list itself, so a hostile layout names a blob that does and whose bytes do not match.
    const self = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}');
    const selfDigest = sha256(self);
    const idx = readLayoutIndex(bad);
    const entry = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: selfDigest, size: self.length, annotations: { 'org.opencontainers.image.ref.name': 'loop' } };
    idx.manifests.push(entry);
    writeFileSync(path.join(bad, 'index.json'), JSON.stringify(idx));
    writeFileSync(blobPath(bad, selfDigest), JSON.stringify({ schemaVersion: 2, mediaType: entry.mediaType, manifests: [{ ...entry, annotations: undefined }] }));
    await expect(copyImage(await openSource(`oci:${bad}:loop`, ctx), await openDestination('oci:out3:x', ctx))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(readLayoutIndex(path.join(tmp.dir, 'out3')).manifests).toEqual([]);
  });
});
