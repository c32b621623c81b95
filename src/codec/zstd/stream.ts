/**
 * Cuts the input into ZSTD_FORMAT blocks, compresses them on the pool and
 * yields the frames in order. At most `maxInFlight` blocks are out at once
 * (backpressure); input blocks come back from the workers and are reused.
 */
import { OciasmError } from '../../errors.js';
import type { DeflatePool, DeflateResult } from '../gzip/pool.js';
import { ZSTD_FORMAT } from './format.js';

export interface ZstdTask {
  level: number;
  block: Uint8Array;
}

interface InFlight {
  promise: Promise<DeflateResult>;
  settled: boolean;
}

export async function* zstdStream(
  pool: DeflatePool<ZstdTask>, level: number, input: AsyncIterable<Uint8Array>, maxInFlight: number,
): AsyncGenerator<Buffer> {
  const { blockSize } = ZSTD_FORMAT;
  const inFlight: InFlight[] = [];
  const free: Uint8Array[] = [];
  const take = (): Uint8Array => free.pop() ?? new Uint8Array(blockSize);
  const next = async (): Promise<Buffer> => {
    const r = await inFlight.shift()!.promise;
    if (r.block && r.block.buffer.byteLength === blockSize) free.push(new Uint8Array(r.block.buffer));
    return Buffer.from(r.out.buffer, r.out.byteOffset, r.out.byteLength);
  };
  let cur = take();
  let fill = 0;
  let sent = 0;
  const dispatch = (): void => {
    const block = fill === blockSize ? cur : cur.subarray(0, fill);
    const entry: InFlight = { promise: pool.run({ level, block }), settled: false };
    entry.promise.then(() => (entry.settled = true), () => (entry.settled = true));
    inFlight.push(entry);
    sent++;
    cur = take();
    fill = 0;
  };
  const mustWait = (): boolean => inFlight.length >= maxInFlight || (inFlight.length > 0 && inFlight[0]!.settled);

  for await (const chunk of input) {
    if (!(chunk instanceof Uint8Array)) throw new OciasmError('INTERNAL', `zstd input chunks must be Uint8Array, got ${typeof chunk}`);
    let off = 0;
    while (off < chunk.length) {
      if (fill === blockSize) {
        dispatch();
        while (mustWait()) yield await next();
      }
      const n = Math.min(blockSize - fill, chunk.length - off);
      cur.set(chunk.subarray(off, off + n), fill);
      fill += n;
      off += n;
    }
  }
  // The last (or only) block; an empty input still gives one (empty) frame.
  if (fill > 0 || sent === 0) dispatch();
  while (inFlight.length > 0) yield await next();
}
