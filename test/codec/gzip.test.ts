import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GOLDEN_GZIP_SHA256, GZIP_FORMAT, createGzip, goldenInput, gzipHeader, gzipSettingsKey, gzipTrailer,
  type GzipCompressor,
} from '../../src/codec/gzip/index.js';
import { goldenDigest, goldenDigestNow } from '../../src/codec/gzip/compressor.js';
import { DeflatePool } from '../../src/codec/gzip/pool.js';
import { OciasmError } from '../../src/errors.js';

const pako = createRequire(import.meta.url)('pako') as typeof import('pako');
const MiB = 1 << 20;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}
async function gz(c: GzipCompressor, data: Uint8Array, chunkSize = 256 * 1024): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const part of c.compress(chunks(data, chunkSize))) out.push(part);
  return Buffer.concat(out);
}

/** Straightforward single-threaded model of the format, straight from the spec. */
function reference(data: Uint8Array, level: number, native = false): Buffer {
  const parts: Uint8Array[] = [gzipHeader()];
  for (let off = 0; off === 0 || off < data.length; off += MiB) {
    const block = data.subarray(off, off + MiB);
    const flush = off + MiB >= data.length ? 4 : 2;
    const dict = off > 0 ? { dictionary: data.subarray(off - 32768, off) } : {};
    if (native) {
      parts.push(zlib.deflateRawSync(block, { level, windowBits: 15, memLevel: 8, finishFlush: flush, ...dict }));
      continue;
    }
    const d = new pako.Deflate({ raw: true, level, windowBits: 15, memLevel: 8, ...dict });
    d.onData = (c) => parts.push(c);
    d.push(block, flush as 2 | 4);
    if (d.err) throw new Error(d.msg);
  }
  parts.push(gzipTrailer(zlib.crc32(data), data.length));
  return Buffer.concat(parts);
}

const compressible = Buffer.from('FROM scratch\nCOPY /usr/lib/libfoo.so.1 /usr/lib/\n'.repeat(90_000));
const INPUTS: Record<string, Uint8Array> = {
  empty: new Uint8Array(0),
  'one byte': Uint8Array.of(0x42),
  'exactly 1 MiB': goldenInput(MiB),
  '1 MiB + 1': goldenInput(MiB + 1),
  'exactly 2 MiB': goldenInput(2 * MiB),
  '3.3 MiB random-ish': goldenInput(Math.floor(3.3 * MiB)),
  'highly compressible': compressible,
};

describe('gzip codec', () => {
  let auto: GzipCompressor[] = [];
  let pakoC: GzipCompressor;
  let nativeReproduces: boolean;

  beforeAll(async () => {
    auto = await Promise.all([1, 2, 3].map((workers) => createGzip({ workers, level: 6 })));
    pakoC = await createGzip({ workers: 2, engine: 'pako', level: 6 });
    nativeReproduces = sha256(reference(goldenInput(), 6, true)) === GOLDEN_GZIP_SHA256[6];
  });
  afterAll(async () => {
    await Promise.all([...auto, pakoC].map((c) => c.close()));
  });

  it('picks native zlib exactly when it reproduces the pako reference', () => {
    expect(pakoC.engine).toBe('pako');
    for (const c of auto) expect(c.engine).toBe(nativeReproduces ? 'native' : 'pako');
    expect(auto[0]!.level).toBe(6);
    expect(gzipSettingsKey(auto[0]!)).toBe('gzip/v1/level6');
    expect(GZIP_FORMAT.defaultLevel).toBe(5);
  });

  it('matches the recorded golden digest (format v1, level 6)', async () => {
    expect(GZIP_FORMAT.version).toBe(1);
    const golden = '2e8d2cb801bd60d4b219927568bae0320fe7cfc2fc06acf4f0d29ae53de46735';
    expect(GOLDEN_GZIP_SHA256[6]).toBe(golden);
    expect(sha256(await gz(auto[1]!, goldenInput()))).toBe(golden);
    expect(sha256(await gz(pakoC, goldenInput()))).toBe(golden);
  });

  it('the start-up self-test (all blocks dispatched at once) gives the streamed golden digest, for both engines', async () => {
    const pool = new DeflatePool(2);
    try {
      for (const level of [1, 5, 6]) {
        const pakoNow = await goldenDigestNow(pool, 'pako', level);
        expect(pakoNow).toBe(GOLDEN_GZIP_SHA256[level]);
        expect(pakoNow).toBe(await goldenDigest(pool, 'pako', level));
        expect(await goldenDigestNow(pool, 'native', level)).toBe(await goldenDigest(pool, 'native', level));
      }
    } finally {
      await pool.close();
    }
  });

  it('the recorded golden digests are what pako 3.0.3 produces, at every level', () => {
    const data = goldenInput();
    for (let level = 1; level <= 9; level++) expect(sha256(reference(data, level))).toBe(GOLDEN_GZIP_SHA256[level]);
  });

  for (const [name, data] of Object.entries(INPUTS)) {
    it(`same bytes for any worker count, engine and chunking: ${name}`, async () => {
      const expected = reference(data, 6);
      for (const c of [...auto, pakoC]) expect(sha256(await gz(c, data))).toBe(sha256(expected));
      expect(sha256(await gz(auto[1]!, data, 65_537))).toBe(sha256(expected));
      if (data.length < 100_000) expect(sha256(await gz(auto[2]!, data, 1))).toBe(sha256(expected));
      expect(Buffer.from(zlib.gunzipSync(expected)).equals(Buffer.from(data))).toBe(true);
    });
  }

  it('writes the documented header and a correct trailer', async () => {
    const data = INPUTS['1 MiB + 1']!;
    const out = await gz(auto[0]!, data);
    expect([...out.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    expect(out.readUInt32LE(out.length - 8)).toBe(zlib.crc32(data));
    expect(out.readUInt32LE(out.length - 4)).toBe(data.length);
    const empty = await gz(auto[0]!, new Uint8Array(0));
    expect(empty.toString('hex')).toBe('1f8b08000000000000ff' + '0300' + '00000000' + '00000000');
  });

  it('levels 1 and 9 match the reference model and round-trip', async () => {
    const data = INPUTS['3.3 MiB random-ish']!;
    for (const level of [1, 9]) {
      const c = await createGzip({ level, workers: 2 });
      try {
        const out = await gz(c, data);
        expect(sha256(out)).toBe(sha256(reference(data, level)));
        expect(Buffer.from(zlib.gunzipSync(out)).equals(Buffer.from(data))).toBe(true);
        expect(gzipSettingsKey(c)).toBe(`gzip/v1/level${level}`);
      } finally {
        await c.close();
      }
    }
  });

  it('concurrent compress() calls on one compressor do not interfere', async () => {
    const inputs = [INPUTS['3.3 MiB random-ish']!, compressible, INPUTS['one byte']!];
    const outs = await Promise.all(inputs.map((d) => gz(auto[1]!, d, 100_000)));
    outs.forEach((o, i) => expect(sha256(o)).toBe(sha256(reference(inputs[i]!, 6))));
  });

  it('applies backpressure: input is read only a bounded number of blocks ahead', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 64; i++) {
        pulled++;
        yield new Uint8Array(MiB).fill(i);
      }
    }
    const gen = auto[0]!.compress(endless()); // 1 worker: at most 2 blocks in flight
    let parts = 0;
    for await (const _ of gen) {
      expect(pulled).toBeLessThanOrEqual(parts + 2 + 2);
      if (++parts === 6) break;
    }
    expect(pulled).toBeLessThan(12);
  });

  it('rejects bad options and use after close', async () => {
    await expect(createGzip({ level: 0 })).rejects.toMatchObject({ code: 'GZIP_INVALID' });
    await expect(createGzip({ level: 10 })).rejects.toBeInstanceOf(OciasmError);
    await expect(createGzip({ workers: 0 })).rejects.toMatchObject({ code: 'GZIP_INVALID' });
    const c = await createGzip({ workers: 1, engine: 'pako' });
    await c.close();
    await c.close();
    expect(() => c.compress(chunks(new Uint8Array(1), 1))).toThrow(OciasmError);
  });

  it('close() fails in-flight work instead of hanging', async () => {
    const c = await createGzip({ workers: 1, engine: 'pako' });
    const gen = c.compress(chunks(INPUTS['3.3 MiB random-ish']!, MiB));
    await gen.next(); // header
    const rest = (async () => {
      for await (const _ of gen);
    })();
    await c.close();
    await expect(rest).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
