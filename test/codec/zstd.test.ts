/**
 * The zstd layer codec: golden digests (the format's bytes) for every worker
 * count and chunking of the input, output read back by Debian's zstd (a
 * decoder that is not ours), one frame per block, and its refusals.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goldenInput } from '../../src/codec/gzip/index.js';
import { checkZstdBuild, createZstd, GOLDEN_ZSTD_SHA256, ZSTD_FORMAT, type ZstdCompressor, zstdSettingsKey } from '../../src/codec/zstd/index.js';
import { OciasmError } from '../../src/errors.js';

const MiB = 1 << 20;
const dir = mkdtempSync(join(tmpdir(), 'ociasm-zstd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function zst(c: ZstdCompressor, data: Uint8Array, chunk = 256 * 1024): Promise<Buffer> {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let o = 0; o < data.length; o += chunk) yield data.subarray(o, o + chunk);
  }
  const out: Buffer[] = [];
  for await (const part of c.compress(chunks())) out.push(part);
  return Buffer.concat(out);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('zstd format v1', () => {
  for (const level of Object.keys(GOLDEN_ZSTD_SHA256).map(Number)) {
    it(`level ${level}: the golden digest with 1, 2 and 3 workers and any input chunking`, async () => {
      for (const [workers, chunk] of [[1, 256 * 1024], [2, 7777], [3, 3 * MiB]] as const) {
        const c = createZstd({ level, workers });
        try {
          expect(sha(await zst(c, goldenInput(), chunk)), `${workers} workers, chunks of ${chunk}`).toBe(GOLDEN_ZSTD_SHA256[level]);
        } finally {
          await c.close();
        }
      }
    });
  }

  it('is one frame per 2 MiB block, and Debian zstd reads it back', async () => {
    const c = createZstd({ workers: 2 });
    try {
      for (const [name, data] of Object.entries({
        empty: new Uint8Array(0), 'one byte': Uint8Array.of(7), 'exactly one block': goldenInput(ZSTD_FORMAT.blockSize),
        '5.3 MiB': goldenInput(Math.floor(5.3 * MiB)), compressible: new Uint8Array(9 * MiB + 5).fill(0x61),
      })) {
        const out = await zst(c, data);
        const file = join(dir, 'x.zst');
        writeFileSync(file, out);
        execFileSync('zstd', ['-t', '-q', file]);
        expect(sha(execFileSync('zstd', ['-d', '-c', '-q', file], { maxBuffer: 64 * MiB })), name).toBe(sha(data));
        // zstd -lv counts the frames; one per block (an empty input still has one).
        const frames = Number(/# Zstandard Frames: *(\d+)/.exec(execFileSync('zstd', ['-lv', file], { encoding: 'utf8' }))?.[1]);
        expect(frames, name).toBe(Math.max(1, Math.ceil(data.length / ZSTD_FORMAT.blockSize)));
      }
    } finally {
      await c.close();
    }
  });

  it('refuses a bad level and a zstd build that is not the pinned one', () => {
    for (const level of [0, 20, 2.5, -1]) expect(() => createZstd({ level })).toThrow(/zstd compression level/);
    expect(() => zstdSettingsKey({ level: 0 })).toThrow(OciasmError);
    expect(zstdSettingsKey({ level: 3 })).toBe('zstd/v1/level3');
    const fake = join(dir, 'zstd.wasm');
    writeFileSync(fake, 'not the pinned build');
    expect(() => checkZstdBuild(fake)).toThrow(/is not the pinned zstd build/);
    expect(() => checkZstdBuild(join(dir, 'missing.wasm'))).toThrow(/cannot read the zstd WebAssembly module/);
  });
});
