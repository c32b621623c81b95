/**
 * The layer cache: a rebuild with nothing changed reuses the blob without
 * compressing (the `cached` flag in --json), gives the same digests as a cold
 * build, and any change to content, metadata or settings is a miss.
 */
import { chmodSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ociasm, tempDir } from '../harness/util.js';

const tmp = tempDir();
const src = path.join(tmp.dir, 'src');
const file = path.join(tmp.dir, 'ociasm.yaml');
const env = { ...process.env, OCIASM_CACHE_DIR: path.join(tmp.dir, 'cache') };

interface Built { index: string; layers: string[]; cached: boolean[] }

async function buildInto(out: string, ...extra: string[]): Promise<Built> {
  const r = await ociasm(['build', '-f', file, '-o', path.join(tmp.dir, out), '--json', ...extra], { env });
  expect(r.code, r.stderr).toBe(0);
  const image = JSON.parse(r.stdout).images[0];
  return {
    index: image.index.digest,
    layers: image.platforms.map((p: any) => p.layer.digest),
    cached: image.platforms.map((p: any) => p.layer.cached),
  };
}

let cold: Built;
beforeAll(async () => {
  mkdirSync(path.join(src, 'bin'), { recursive: true });
  writeFileSync(path.join(src, 'bin', 'tool'), Buffer.alloc(300_000, 7));
  linkSync(path.join(src, 'bin', 'tool'), path.join(src, 'bin', 'tool-link'));
  writeFileSync(path.join(src, 'data.txt'), 'version 1\n');
  writeFileSync(file, `
sourceDateEpoch: 1700000000
images:
  - name: cached
    platforms: [linux/amd64, linux/arm64]
    files: [{ src: src/, dest: /app/ }]
    paths: [{ path: /etc/motd, type: file, content: "{{platform}}\\n" }]
`);
  cold = await buildInto('a');
});
afterAll(() => tmp.cleanup());

describe('layer cache', () => {
  it('reuses every layer of an unchanged rebuild, with the same digests', async () => {
    expect(cold.cached).toEqual([false, false]);
    const warm = await buildInto('a');
    expect(warm.cached).toEqual([true, true]);
    expect(warm).toEqual({ ...cold, cached: [true, true] });
  });

  it('never reuses a blob the layout does not hold; a fresh layout gives the same digests', async () => {
    const fresh = await buildInto('b');
    expect(fresh).toEqual(cold);
    expect(await buildInto('c', '--no-layer-cache')).toEqual(cold);
  });

  it('misses on changed content, mode or compression level, and comes back to the same digest', async () => {
    writeFileSync(path.join(src, 'data.txt'), 'version 2\n'); // same size, new content
    const changed = await buildInto('a');
    expect(changed.cached).toEqual([false, false]);
    expect(changed.layers[0]).not.toBe(cold.layers[0]);

    writeFileSync(path.join(src, 'data.txt'), 'version 1\n');
    chmodSync(path.join(src, 'data.txt'), 0o600);
    const mode = await buildInto('a');
    expect(mode.cached).toEqual([false, false]);
    expect(mode.layers[0]).not.toBe(cold.layers[0]);

    chmodSync(path.join(src, 'data.txt'), 0o644);
    const back = await buildInto('a');
    expect(back.cached).toEqual([false, false]); // new ctime: checked by compressing again
    expect(back).toEqual(cold);
    expect((await buildInto('a')).cached).toEqual([true, true]);

    const level1 = await buildInto('a', '--compression-level', '1');
    expect(level1.cached).toEqual([false, false]);
    expect(level1.layers[0]).not.toBe(cold.layers[0]);
  });
});
