/**
 * `ociasm index create|append` between OCI layouts: per-platform manifests
 * (made by skopeo from our build) and indexes become one index whose entries
 * skopeo reads in the documented order with each platform from its config;
 * blobs are copied into DEST; the bytes do not depend on the order of SRCs;
 * append replaces a platform; bad uses fail clearly.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/cas/blob-store.js';
import { must, ociasm, tempDir } from '../harness/util.js';

const tmp = tempDir();
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const raw = async (ref: string) => {
  const text = await must('skopeo', ['inspect', '--raw', ref]);
  return { digest: sha256(Buffer.from(text)), doc: JSON.parse(text) };
};
const platforms = (doc: any) => doc.manifests.map((m: any) => [m.platform.os, m.platform.architecture, m.platform.variant ?? ''].join('/'));

async function index(args: string[]): Promise<any> {
  const r = await ociasm(['index', ...args, '--json'], { cwd: tmp.dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  const yaml = (content: string) => `images:
  - name: img
    platforms: [linux/arm/v7, linux/arm64, linux/amd64, linux/riscv64]
    paths: [{ path: /etc/which, type: file, content: "${content} {{platform}}" }]
`;
  writeFileSync(j('v1.yaml'), yaml('v1'));
  writeFileSync(j('v2.yaml'), yaml('v2'));
  for (const v of ['v1', 'v2']) {
    const r = await ociasm(['build', '-f', j(`${v}.yaml`), '-o', j(v)]);
    expect(r.code, r.stderr).toBe(0);
  }
  // One layout per platform, each holding that platform's manifest alone, as separate CI runners would.
  const one = async (v: string, arch: string, variant?: string) =>
    must('skopeo', ['copy', '-q', '--override-arch', arch, ...(variant ? ['--override-variant', variant] : []), `oci:${j(v)}:img:latest`, `oci:${j(`${v}-${arch}${variant ?? ''}`)}:img`]);
  await one('v1', 'amd64');
  await one('v1', 'arm64', 'v8');
  await one('v1', 'arm', 'v7');
  await one('v1', 'riscv64');
  await one('v2', 'amd64');
});
afterAll(() => tmp.cleanup());

describe('ociasm index', () => {
  it('create: manifests from separate layouts become one index, in the build\'s platform order, blobs copied', async () => {
    const r = await index(['create', 'oci:out:multi', 'oci:v1-riscv64:img', 'oci:v1-armv7:img', 'oci:v1-amd64:img', 'oci:v1-arm64v8:img']);
    const got = await raw(`oci:${j('out')}:multi`);
    expect(got.digest).toBe(r.digest);
    expect(platforms(got.doc)).toEqual(['linux/amd64/', 'linux/arm64/v8', 'linux/arm/v7', 'linux/riscv64/']);
    expect(got.doc.annotations).toBeUndefined();
    // Each entry is the very manifest of its source, and pulls from DEST alone.
    for (const [arch, variant, src] of [['amd64', '', 'v1-amd64'], ['arm64', 'v8', 'v1-arm64v8'], ['arm', 'v7', 'v1-armv7']] as const) {
      const want = await raw(`oci:${j(src)}:img`);
      expect(got.doc.manifests.find((m: any) => m.platform.architecture === arch).digest).toBe(want.digest);
      await must('skopeo', ['copy', '-q', '--override-arch', arch, ...(variant ? ['--override-variant', variant] : []), `oci:${j('out')}:multi`, `dir:${j(`pulled-${arch}`)}`]);
      const config = JSON.parse(await must('skopeo', ['inspect', '--config', `dir:${j(`pulled-${arch}`)}`]));
      expect([config.architecture, config.variant ?? '']).toEqual([arch, variant]);
    }
    // The same images named in another order give the same bytes.
    const again = await index(['create', 'oci:out2:multi', 'oci:v1-arm64v8:img', 'oci:v1-amd64:img', 'oci:v1-armv7:img', 'oci:v1-riscv64:img']);
    expect(again.digest).toBe(r.digest);
  });

  it('create takes an index as a source, and refuses one platform given twice', async () => {
    const r = await index(['create', 'oci:out3:mixed', `oci:v1:img:latest`]);
    expect(platforms((await raw(`oci:${j('out3')}:mixed`)).doc)).toEqual(['linux/amd64/', 'linux/arm64/v8', 'linux/arm/v7', 'linux/riscv64/']);
    expect(r.platforms).toHaveLength(4);
    const twice = await ociasm(['index', 'create', 'oci:out4:x', 'oci:v1-amd64:img', 'oci:v2-amd64:img'], { cwd: tmp.dir });
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain('PLATFORM_INVALID');
    expect(twice.stderr).toContain('linux/amd64 is given twice');
    expect(twice.stderr).toContain(j('v2-amd64'));
  });

  it('append adds platforms and replaces the entry of a platform given again', async () => {
    await index(['create', 'oci:out5:app', 'oci:v1-amd64:img', 'oci:v1-arm64v8:img']);
    const before = await raw(`oci:${j('out5')}:app`);
    const r = await index(['append', 'oci:out5:app', 'oci:v2-amd64:img', 'oci:v1-armv7:img']);
    const after = await raw(`oci:${j('out5')}:app`);
    expect(after.digest).toBe(r.digest);
    expect(platforms(after.doc)).toEqual(['linux/amd64/', 'linux/arm64/v8', 'linux/arm/v7']);
    expect(after.doc.manifests[0].digest).toBe((await raw(`oci:${j('v2-amd64')}:img`)).digest);
    expect(after.doc.manifests[1].digest).toBe(before.doc.manifests[1].digest);
    // Appending what is there already changes nothing.
    expect((await index(['append', 'oci:out5:app', 'oci:v1-armv7:img'])).digest).toBe(r.digest);
  });

  it('append to nothing, no sources, and a destination without a tag fail clearly', async () => {
    const missing = await ociasm(['index', 'append', 'oci:v1:nope', 'oci:v1-amd64:img'], { cwd: tmp.dir });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('REF_NOT_FOUND');
    expect(missing.stderr).toContain('use index create');
    const untagged = await ociasm(['index', 'create', 'oci:out6', 'oci:v1-amd64:img'], { cwd: tmp.dir });
    expect(untagged.code).not.toBe(0);
    expect(untagged.stderr).toContain('names no tag');
    const none = await ociasm(['index', 'create', 'oci:out7:x'], { cwd: tmp.dir });
    expect(none.code).not.toBe(0);
  });
});
