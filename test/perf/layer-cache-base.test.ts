/** The layer cache with a base image: base contents are known by the digest taken while spooling them. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ociasm, tempDir } from '../harness/util.js';

const tmp = tempDir();
const env = { ...process.env, OCIASM_CACHE_DIR: path.join(tmp.dir, 'cache') };
afterAll(() => tmp.cleanup());

async function build(file: string, out: string) {
  const r = await ociasm(['build', '-f', path.join(tmp.dir, file), '-o', path.join(tmp.dir, out), '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  const image = JSON.parse(r.stdout).images[0];
  return { index: image.index.digest as string, cached: image.platforms.map((p: any) => p.layer.cached) as boolean[] };
}

describe('layer cache on a base image', () => {
  it('hits when the base is unchanged and misses when its content changes', async () => {
    const base = (content: string) => writeFileSync(path.join(tmp.dir, 'base.yaml'),
      `images:\n  - name: base\n    platforms: [linux/amd64]\n    paths: [{ path: /etc/release, type: file, content: "${content}" }]\n`);
    writeFileSync(path.join(tmp.dir, 'app.yaml'),
      'images:\n  - name: app\n    base: oci:baselayout:base:latest\n    paths: [{ path: /app, type: file, content: app }]\n');
    base('one');
    await build('base.yaml', 'baselayout');
    const cold = await build('app.yaml', 'out');
    const warm = await build('app.yaml', 'out');
    expect(cold.cached).toEqual([false]);
    expect(warm).toEqual({ index: cold.index, cached: [true] });
    base('two'); // same size, other bytes
    await build('base.yaml', 'baselayout');
    const changed = await build('app.yaml', 'out');
    expect(changed.cached).toEqual([false]);
    expect(changed.index).not.toBe(cold.index);
  });
});
