/**
 * Outputs of a cached toolchain step are restored as new files on every build;
 * the layer cache still hits because they are identified by their content
 * digest, not by inode and ctime.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ociasm, tempDir } from '../harness/util.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('layer cache with toolchain outputs', () => {
  it('reuses the layer when the toolchain step came from its cache', async () => {
    writeFileSync(path.join(tmp.dir, 'input.txt'), 'v1\n');
    const file = path.join(tmp.dir, 'ociasm.yaml');
    writeFileSync(file, `
images:
  - name: tool
    platforms: [linux/amd64, linux/arm/v7]
    build:
      run: [sh, -c, "echo run >> ${tmp.dir}/runs; cp input.txt {{out}}/out-{{arch}}"]
      dir: .
      inputs: [input.txt]
      outputs: { "{{out}}/out-{{arch}}": /opt/out }
`);
    const env = { ...process.env, OCIASM_CACHE_DIR: path.join(tmp.dir, 'cache') };
    const build = async () => {
      const r = await ociasm(['build', '-f', file, '-o', path.join(tmp.dir, 'oci'), '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).images[0];
    };
    const cold = await build();
    const warm = await build();
    expect(cold.platforms.map((p: any) => p.layer.cached)).toEqual([false, false]);
    expect(warm.platforms.map((p: any) => p.layer.cached)).toEqual([true, true]);
    expect(warm.index.digest).toBe(cold.index.digest);
    expect(readFileSync(path.join(tmp.dir, 'runs'), 'utf8')).toBe('run\nrun\n'); // once per platform, cold only
  });
});
