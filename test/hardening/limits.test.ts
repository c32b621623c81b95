/**
 * Bounded work on hostile base layers (issue 12, "Memory and loops without
 * bounds"): decompression bombs (gzip and zstd) are refused past the inflate
 * limits before the spool grows, the limits are configurable, and a base
 * layer of 10,000 nested directories builds (every tree walk is iterative)
 * into a layer GNU tar lists whole.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handLayout, tarOf } from '../harness/hand-layers.js';
import { must, ociasm, platformImages, readLayoutIndex, tempDir } from '../harness/util.js';

const tmp = tempDir();
const j = (...p: string[]) => path.join(tmp.dir, ...p);

function buildFile(name: string, baseSpec: string): string {
  const file = j(`${name}.yaml`);
  writeFileSync(file, `images:\n  - name: ${name}\n    base: "${baseSpec}"\n    platforms: [linux/amd64]\n`);
  return file;
}

/** A private TMPDIR, so the spool's size after a refusal can be checked. */
function env(name: string): NodeJS.ProcessEnv {
  const dir = j(`tmp-${name}`);
  mkdirSync(dir, { recursive: true });
  return { ...process.env, TMPDIR: dir };
}

async function refused(name: string, spec: string, extra: string[], ...mention: string[]): Promise<void> {
  const out = j(`${name}-out`);
  const e = env(name);
  const r = await ociasm(['build', '-f', buildFile(name, spec), '-o', out, ...extra], { env: e, timeout: 120_000 });
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain('error[LIMIT_EXCEEDED]');
  for (const m of mention) expect(r.stderr).toContain(m);
  expect(readLayoutIndex(out).manifests).toEqual([]);
  expect(readdirSync(e.TMPDIR!)).toEqual([]); // the spool is gone
}

// 200 MiB of zeros in one file: gzip makes ~200 KiB of it (ratio ~1000).
const ZEROS = 200 * 2 ** 20;
let bombTar: Buffer;

beforeAll(() => {
  bombTar = tarOf([{ path: 'zeros', body: Buffer.alloc(ZEROS) }]);
});
afterAll(() => tmp.cleanup());

describe('decompression bombs', () => {
  it('a gzip layer inflating ~1000 times its size is refused past the default ratio (1000, past 64 MiB)', async () => {
    const spec = await handLayout(j('gz-bomb'), 'v1', [{ tar: bombTar, blob: gzipSync(bombTar, { level: 9 }) }]);
    await refused('gz', spec, [], 'decompression bomb', '--max-inflate-ratio');
  });
  it('a zstd layer likewise', async () => {
    const spec = await handLayout(j('zst-bomb'), 'v1', [{ tar: bombTar, compression: 'zstd' }]);
    await refused('zst', spec, [], 'decompression bomb');
  });
  it('--max-inflate-ratio raises the ratio and --max-layer-size caps the size', async () => {
    const spec = await handLayout(j('gz-bomb'), 'v2', [{ tar: bombTar, blob: gzipSync(bombTar, { level: 9 }) }]);
    await refused('size', spec, ['--max-inflate-ratio', '5000', '--max-layer-size', '100M'], `past ${100 * 2 ** 20} bytes`, '--max-layer-size');
  });
  it('a small, very compressible layer (under 64 MiB) is fine at the default ratio', async () => {
    const small = tarOf([{ path: 'zeros', body: Buffer.alloc(16 * 2 ** 20) }]);
    const spec = await handLayout(j('small'), 'v1', [{ tar: small, blob: gzipSync(small, { level: 9 }) }]);
    const r = await ociasm(['build', '-f', buildFile('small', spec), '-o', j('small-out')]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('deep trees', () => {
  it('a base layer of 10,000 nested directories builds, and GNU tar lists every entry of the result', async () => {
    const DEPTH = 10_000;
    const entries = [];
    let p = '';
    for (let i = 0; i < DEPTH; i++) {
      p = p === '' ? 'd' : `${p}/d`;
      entries.push({ path: p, type: 'directory' as const });
    }
    entries.push({ path: `${p}/leaf`, body: 'deep\n' });
    const tar = tarOf(entries);
    const spec = await handLayout(j('deep'), 'v1', [{ tar }]);
    const out = j('deep-out');
    const r = await ociasm(['build', '-f', buildFile('deep', spec), '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const layer = platformImages(out, 'deep:latest')[0].layerPath;
    const names = (await must('tar', ['-tzf', layer], { maxBuffer: 1 << 30 })).split('\n').filter(Boolean);
    expect(names).toHaveLength(DEPTH + 1);
    expect(names[DEPTH]).toBe(`${p}/leaf`);
  }, 600_000); // 113 MB of tar headers each way: ~15 s alone, minutes on a loaded 2-core machine
});
