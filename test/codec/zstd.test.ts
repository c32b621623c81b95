/**
 * The zstd layer codec (format v2): golden digests for every libzstd worker
 * count (1, 2, 3) and any chunking of the input, the self-test, output read
 * back by Debian's zstd (a decoder that is not ours, another libzstd
 * release), one frame whose window is ZSTD_FORMAT.windowLog, and refusals.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goldenInput } from '../../src/codec/gzip/index.js';
import {
  checkZstdBinding, createZstd, GOLDEN_ZSTD_LONG_SHA256, GOLDEN_ZSTD_SHA256, goldenLongInput, ZSTD_FORMAT, type ZstdBinding,
  type ZstdCompressor, zstdBinding, zstdGoldenDigest, zstdSettingsKey,
} from '../../src/codec/zstd/index.js';
import { uncheckedZstd } from '../../src/codec/zstd/compressor.js';
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

describe('zstd format v2', () => {
  it('links the pinned libzstd 1.5.7 with multi-threading', () => {
    const b = zstdBinding();
    expect(b.versionString()).toBe('1.5.7');
    expect(b.versionNumber()).toBe(ZSTD_FORMAT.libzstdVersion);
    expect(b.cParamGetBounds(b.CParameter.nbWorkers).upperBound).toBeGreaterThanOrEqual(1);
  });

  for (const level of Object.keys(GOLDEN_ZSTD_SHA256).map(Number)) {
    it(`level ${level}: the golden digest with 1, 2 and 3 libzstd workers and any input chunking`, async () => {
      for (const [workers, chunk] of [[1, 256 * 1024], [2, 7777], [3, 3 * MiB], [2, 1]] as const) {
        const input = goldenInput();
        const c = uncheckedZstd(level, workers);
        // chunk 1: the first 64 KiB one byte at a time, then the rest at once
        const got = chunk === 1 ? await oneByOne(c, input) : await zstdGoldenDigest(c, input, chunk);
        expect(got, `${workers} workers, chunks of ${chunk}`).toBe(GOLDEN_ZSTD_SHA256[level]);
        await c.close();
      }
    });
  }

  it('level 3, 12 MiB with long-distance repeats (several libzstd jobs): the golden digest with 1, 2 and 3 workers', async () => {
    for (const [workers, chunk] of [[1, 1 * MiB], [2, 65536 + 3], [3, 12 * MiB]] as const) {
      const c = uncheckedZstd(3, workers);
      expect(await zstdGoldenDigest(c, goldenLongInput(), chunk), `${workers} workers`).toBe(GOLDEN_ZSTD_LONG_SHA256[3]);
      await c.close();
    }
  });

  it('a reused compressor, and two layers at once, give the same bytes', async () => {
    const c = await createZstd({ level: 3, workers: 2 });
    try {
      const [a, b] = await Promise.all([zstdGoldenDigest(c), zstdGoldenDigest(c, goldenInput(), 4096)]);
      // a context that just compressed other data (facebook/zstd#1077: reused tables once leaked into the next stream)
      expect(await zstdGoldenDigest(c, goldenLongInput())).toBe(GOLDEN_ZSTD_LONG_SHA256[3]);
      expect([a, b, await zstdGoldenDigest(c), await zstdGoldenDigest(c)]).toEqual(Array(4).fill(GOLDEN_ZSTD_SHA256[3]));
    } finally {
      await c.close();
    }
  });

  it('is not libzstd single-threaded mode (nbWorkers 0 writes other bytes)', () => {
    const b = zstdBinding();
    const cctx = new b.CCtx();
    cctx.setParameter(b.CParameter.compressionLevel, 3);
    cctx.setParameter(b.CParameter.enableLongDistanceMatching, 1);
    cctx.setParameter(b.CParameter.windowLog, ZSTD_FORMAT.windowLog);
    cctx.setParameter(b.CParameter.checksumFlag, 1);
    cctx.setParameter(b.CParameter.nbWorkers, 0);
    const out = Buffer.alloc(4 * MiB);
    const parts: Buffer[] = [];
    let src: Uint8Array = goldenInput();
    for (;;) {
      const [ret, produced, consumed] = cctx.compressStream2(out, src, src.length ? b.EndDirective.continue : b.EndDirective.end);
      parts.push(Buffer.from(out.subarray(0, produced)));
      src = src.subarray(consumed);
      if (src.length === 0 && ret === 0 && parts.length > 1) break;
    }
    expect(sha(Buffer.concat(parts))).not.toBe(GOLDEN_ZSTD_SHA256[3]);
  });

  it('is one frame with a 2^windowLog window and a checksum, and Debian zstd reads it back', async () => {
    const c = await createZstd({ workers: 2 });
    try {
      for (const [name, data] of Object.entries({
        empty: new Uint8Array(0), 'one byte': Uint8Array.of(7), '5.3 MiB': goldenInput(Math.floor(5.3 * MiB)),
        compressible: new Uint8Array(9 * MiB + 5).fill(0x61), 'long repeats': goldenLongInput(),
      })) {
        const out = await zst(c, data);
        const file = join(dir, 'x.zst');
        writeFileSync(file, out);
        execFileSync('zstd', ['-t', '-q', file]);
        expect(sha(execFileSync('zstd', ['-d', '-c', '-q', file], { maxBuffer: 64 * MiB })), name).toBe(sha(data));
        const info = execFileSync('zstd', ['-lv', file], { encoding: 'utf8' });
        expect(Number(/# Zstandard Frames: *(\d+)/.exec(info)?.[1]), name).toBe(1);
        expect(info, name).toMatch(/Check: XXH64/);
        expect(info, name).toMatch(/Window Size: 64\.0 MiB \(67108864 B\)/); // a stream does not know its size: the whole window
      }
    } finally {
      await c.close();
    }
  });

  it('refuses a bad level or worker count, and a libzstd that is not the pinned one', async () => {
    for (const level of [0, 20, 2.5, -1]) await expect(createZstd({ level })).rejects.toThrow(/zstd compression level/);
    for (const workers of [0, -1, 1.5]) await expect(createZstd({ workers })).rejects.toThrow(/zstd workers must be/);
    expect(() => zstdSettingsKey({ level: 0 })).toThrow(OciasmError);
    expect(zstdSettingsKey({ level: 3 })).toBe('zstd/v2/level3');
    const real = zstdBinding();
    const other: ZstdBinding = { ...real, versionNumber: () => 10506, versionString: () => '1.5.6' };
    expect(() => checkZstdBinding(other)).toThrow(/libzstd 1\.5\.6 \(10506\), not the pinned 10507/);
    const single: ZstdBinding = { ...real, cParamGetBounds: () => ({ lowerBound: 0, upperBound: 0 }) };
    expect(() => checkZstdBinding(single)).toThrow(/built without multi-threading/);
  });
});

/** The golden input with its first 64 KiB fed one byte per chunk. */
async function oneByOne(c: ZstdCompressor, input: Uint8Array): Promise<string> {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let o = 0; o < 65536; o++) yield input.subarray(o, o + 1);
    yield input.subarray(65536);
  }
  const hash = createHash('sha256');
  for await (const part of c.compress(chunks())) hash.update(part);
  return hash.digest('hex');
}
