/**
 * Cuts the input into GZIP_FORMAT blocks, deflates them on the pool and
 * yields header, block outputs (in order) and trailer.
 */
import zlib from 'node:zlib';
import { OciasmError } from '../../errors.js';
import { GZIP_FORMAT, gzipHeader, gzipTrailer, type GzipEngine } from './format.js';
import type { DeflatePool, DeflateResult } from './pool.js';

interface InFlight {
  promise: Promise<DeflateResult>;
  settled: boolean;
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * At most `maxInFlight` blocks are being deflated at once; input is not read
 * further until the oldest one has been yielded (backpressure). Input blocks
 * come back from the workers and are reused, so memory stays at about
 * `maxInFlight` blocks whatever the input size.
 */
export async function* compressStream(
  pool: DeflatePool,
  engine: GzipEngine,
  level: number,
  input: AsyncIterable<Uint8Array>,
  maxInFlight: number,
): AsyncGenerator<Buffer> {
  const { blockSize, dictSize } = GZIP_FORMAT;
  const inFlight: InFlight[] = [];
  let crc = 0;
  let total = 0;
  const free: Uint8Array[] = [];
  const take = (): Uint8Array => free.pop() ?? new Uint8Array(blockSize);
  const next = async (): Promise<Buffer> => {
    const r = await inFlight.shift()!.promise;
    if (r.block && r.block.buffer.byteLength === blockSize) free.push(new Uint8Array(r.block.buffer));
    return toBuffer(r.out);
  };
  let cur = take();
  let fill = 0;
  let dict: Uint8Array | null = null;

  const dispatch = (final: boolean): void => {
    const block = fill === blockSize ? cur : cur.subarray(0, fill);
    // Copy the next block's dictionary before `cur` is transferred away.
    const nextDict = final ? null : cur.slice(blockSize - dictSize);
    const entry: InFlight = { promise: pool.run({ engine, level, block, dict, final }), settled: false };
    entry.promise.then(
      () => (entry.settled = true),
      () => (entry.settled = true), // rejection is observed when the entry is awaited
    );
    inFlight.push(entry);
    dict = nextDict;
    cur = final ? new Uint8Array(0) : take();
    fill = 0;
  };
  const mustWait = (): boolean =>
    inFlight.length >= maxInFlight || (inFlight.length > 0 && inFlight[0]!.settled);

  yield gzipHeader();
  for await (const chunk of input) {
    if (!(chunk instanceof Uint8Array)) {
      throw new OciasmError('INTERNAL', `gzip input chunks must be Uint8Array, got ${typeof chunk}`);
    }
    crc = zlib.crc32(chunk, crc);
    total += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      if (fill === blockSize) {
        // More input follows a full block, so that block is not the final one.
        dispatch(false);
        while (mustWait()) yield await next();
      }
      const n = Math.min(blockSize - fill, chunk.length - off);
      cur.set(chunk.subarray(off, off + n), fill);
      fill += n;
      off += n;
    }
  }
  dispatch(true);
  while (inFlight.length > 0) yield await next();
  yield gzipTrailer(crc, total);
}
