/**
 * zstd decoding in-process (codec/decompress.ts, the pinned libzstd): our
 * own streams and streams written by Debian's zstd 1.5.4 (another libzstd
 * release) decode to the input; several frames and skippable frames in a
 * row are one stream; a window past 2^27, a truncated, corrupt, empty or
 * checksum-damaged stream is ZSTD_INVALID naming the layer.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decompress, ZSTD_MAX_WINDOW_LOG } from '../../src/codec/decompress.js';
import { goldenInput } from '../../src/codec/gzip/index.js';
import { createZstd, goldenLongInput } from '../../src/codec/zstd/index.js';
import { OciasmError } from '../../src/errors.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cli = (args: string[], input: Uint8Array) => execFileSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 256 << 20 });

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += size) yield data.subarray(o, o + size);
}

async function unz(data: Uint8Array, size = 64 * 1024): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const part of decompress('zstd', pieces(data, size), 'layer sha256:abc')) out.push(part);
  return Buffer.concat(out);
}

describe('zstd decoding', () => {
  it('reads our format v2 stream and Debian zstd streams, in any input chunking', async () => {
    const data = goldenLongInput();
    const c = await createZstd({ workers: 2 });
    const ours: Buffer[] = [];
    for await (const p of c.compress(pieces(data, 1 << 20))) ours.push(p);
    await c.close();
    for (const [name, z] of Object.entries({
      ours: Buffer.concat(ours), 'zstd -19': cli(['-19'], data), 'zstd --long=27 (stdin, full window)': cli(['--long=27'], data),
      'zstd -1 with checksum': cli(['-1', '--check'], data),
    })) {
      for (const size of [1 << 20, 4093]) expect(sha(await unz(z, size)), `${name}, chunks of ${size}`).toBe(sha(data));
    }
  });

  it('reads several frames and skippable frames as one stream (RFC 8878 §3.1)', async () => {
    const a = goldenInput(3 << 20);
    const b = Buffer.from('second frame\n');
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a50, 0);
    skippable.writeUInt32LE(5, 4);
    const stream = Buffer.concat([cli(['-3'], a), skippable, cli(['-3'], b), cli(['-3'], new Uint8Array(0))]);
    expect(sha(await unz(stream, 1000))).toBe(sha(Buffer.concat([a, b])));
  });

  it('refuses a window past 2^27, and truncated, corrupt, empty or checksum-damaged streams', async () => {
    const data = goldenInput(1 << 20);
    const refused = async (z: Uint8Array, msg: RegExp) => {
      const e = await unz(z).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(OciasmError);
      expect((e as OciasmError).code).toBe('ZSTD_INVALID');
      expect((e as Error).message).toContain('layer sha256:abc');
      expect((e as Error).message).toMatch(msg);
    };
    expect(ZSTD_MAX_WINDOW_LOG).toBe(27);
    await refused(cli(['--long=28'], data), /2\^27/);
    const good = cli(['-3', '--check'], data);
    await refused(good.subarray(0, good.length - 100), /truncated/);
    await refused(Buffer.from('not zstd at all'), /zstd: /);
    await refused(new Uint8Array(0), /empty/);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 1]! ^= 0xff; // the XXH64 checksum's last byte
    await refused(damaged, /checksum/i);
  });
});
