/**
 * The differential test: three real multi-layer bases made by umoci, each
 * squashed by `ociasm build` with nothing injected; GNU tar's extraction of
 * our single layer must equal `umoci unpack` of the base, entry by entry.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_SOURCES } from '../harness/inputs.js';
import { busyboxSteps, CHURN, DEEP, umociBase } from '../harness/umoci-bases.js';
import { must, ociasm, platformImages, readBlobJson, refDescriptor, tempDir } from '../harness/util.js';
import { snapshot } from './snapshot.js';

const tmp = tempDir('ociasm-squash-');
const bases = path.join(tmp.dir, 'bases');
const BASES = ['churn', 'deep', 'busy'] as const;

const BUILD_FILE = `
sourceDateEpoch: 1700000000
images:
  - { name: churn, base: "oci:bases:churn" }
  - { name: deep, base: "oci:bases:deep" }
  - { name: busy, base: "oci:bases:busy", platforms: [linux/arm64] }
`;

async function build(out: string): Promise<Record<string, string>> {
  const r = await ociasm(['build', '-f', path.join(tmp.dir, 'ociasm.yaml'), '-o', path.join(tmp.dir, out), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries(JSON.parse(r.stdout).images.map((i: any) => [i.name, i.index.digest]));
}

let first: Record<string, string> = {};

beforeAll(async () => {
  await umociBase(bases, 'churn', CHURN);
  await umociBase(bases, 'deep', DEEP);
  await umociBase(bases, 'busy', busyboxSteps(BUSYBOX_SOURCES.arm64v8!), 'arm64');
  writeFileSync(path.join(tmp.dir, 'ociasm.yaml'), BUILD_FILE);
  first = await build('oci');
  for (const name of BASES) {
    await must('umoci', ['unpack', '--image', `${bases}:${name}`, path.join(tmp.dir, 'ref', name)]);
    const [img] = platformImages(path.join(tmp.dir, 'oci'), `${name}:latest`);
    const dir = path.join(tmp.dir, 'ours', name);
    mkdirSync(dir, { recursive: true });
    await must('tar', ['--xattrs', '--xattrs-include=*', '-xpf', img.layerPath, '-C', dir]);
  }
});
afterAll(() => tmp.cleanup());

describe('squash of real umoci multi-layer bases', () => {
  it('each base really has several layers, and each image exactly one', () => {
    for (const name of BASES) {
      const baseManifest = readBlobJson(bases, refDescriptor(bases, name).digest);
      expect(baseManifest.layers.length).toBeGreaterThanOrEqual(2);
      const [img] = platformImages(path.join(tmp.dir, 'oci'), `${name}:latest`);
      expect(img.manifest.layers).toHaveLength(1);
    }
  });

  for (const name of BASES) {
    it(`${name}: the extracted layer equals umoci unpack of the base`, () => {
      const ours = snapshot(path.join(tmp.dir, 'ours', name));
      const ref = snapshot(path.join(tmp.dir, 'ref', name, 'rootfs'));
      expect(Object.keys(ours.entries).length).toBeGreaterThan(5);
      expect(ours.entries).toEqual(ref.entries);
      expect(ours.hardlinks).toEqual(ref.hardlinks);
    });
  }

  it('churn: the tricky cases came out as an extractor sees them', () => {
    const ours = (p: string) => path.join(tmp.dir, 'ours', 'churn', p);
    const snap = snapshot(path.join(tmp.dir, 'ours', 'churn')).entries;
    expect(readFileSync(ours('links/alias'), 'utf8')).toBe('shared content\n'); // original deleted
    expect(readFileSync(ours('links/alias2'), 'utf8')).toBe('old content\n'); // target overwritten later
    expect(readFileSync(ours('links/orig2'), 'utf8')).toBe('new content\n');
    expect(snap['swap']).toMatch(/^file 600 /);
    expect(snap['data/dir']).toMatch(/^file /);
    expect(snap['etc/keep']).toBeUndefined();
    expect(snap['sym/abs']).toContain('-> /etc/config');
    expect(snap['run/fifo']).toMatch(/^fifo 620 /);
    expect(snap['dev/null']).toMatch(/^char 666 /);
    expect(snap['owned/big']).toContain('3000000:3000001');
    expect(snap['etc/config']).toContain(`user.bin=00ff1080`);
    expect(snap['etc/config']).not.toContain('user.note');
  });

  it('gives the same digests when built again', async () => {
    expect(await build('oci2')).toEqual(first);
  });
});
