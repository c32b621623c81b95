/**
 * createZstd(): format v2 on the pinned native libzstd (format.ts). Rules:
 * - Every layer is one frame, streamed: an empty ZSTD_e_continue call first
 *   (so libzstd starts its multi-threaded streaming mode with an unknown
 *   size even for a tiny or empty input), each input chunk with
 *   ZSTD_e_continue, then ZSTD_e_end until libzstd says it is done.
 * - nbWorkers ≥ 1 always; it never changes the bytes (tests prove it).
 * - Before the first layer the compressor writes the golden vector and
 *   compares its sha256 (GOLDEN_ZSTD_SHA256): a libzstd that would write
 *   other bytes fails the build (ZSTD_INVALID), nothing is written.
 * - compressStream2 runs on the calling thread; libzstd's own threads do
 *   the compression, and the call returns once its input is copied into
 *   libzstd's buffers (it waits only when all of them are full).
 * - Contexts are reused across layers (reset between), one per layer in flight.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { OciasmError } from '../../errors.js';
import { goldenInput } from '../gzip/golden.js';
import { type NativeCCtx, type ZstdBinding, zstdBinding } from './binding.js';
import { checkZstdLevel, checkZstdWorkers, ZSTD_FORMAT } from './format.js';
import { GOLDEN_ZSTD_SHA256, GOLDEN_ZSTD_LEVEL } from './golden.js';

export interface ZstdOptions {
  /** 1..19, default ZSTD_FORMAT.defaultLevel (3). */
  level?: number;
  /** libzstd's threads per layer, default os.availableParallelism(). Never changes the bytes. */
  workers?: number;
}

export interface ZstdCompressor {
  readonly level: number;
  readonly workers: number;
  /** Streams one zstd frame for the input. Can be called repeatedly and concurrently. */
  compress(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

/** Output buffer per compressStream2 call; each filled one is handed on as it is (never reused). */
const OUT_SIZE = 1 << 20;
const EMPTY = new Uint8Array(0);

function failed(e: unknown): OciasmError {
  return e instanceof OciasmError ? e : new OciasmError('ZSTD_INVALID', `libzstd failed: ${(e as Error).message}`, { cause: e });
}

class Compressor implements ZstdCompressor {
  private closed = false;
  private readonly idle: NativeCCtx[] = [];
  constructor(private readonly b: ZstdBinding, readonly level: number, readonly workers: number) {}

  private context(): NativeCCtx {
    const reused = this.idle.pop();
    if (reused) return reused;
    const { CParameter: P } = this.b;
    const c = new this.b.CCtx();
    c.setParameter(P.compressionLevel, this.level);
    c.setParameter(P.enableLongDistanceMatching, ZSTD_FORMAT.longDistanceMatching ? 1 : 0);
    c.setParameter(P.windowLog, ZSTD_FORMAT.windowLog);
    c.setParameter(P.checksumFlag, ZSTD_FORMAT.checksum ? 1 : 0);
    c.setParameter(P.nbWorkers, this.workers);
    return c;
  }

  async *compress(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
    if (this.closed) throw new OciasmError('INTERNAL', 'zstd compressor is closed');
    const { EndDirective: E, ResetDirective: R } = this.b;
    const cctx = this.context();
    let out = Buffer.allocUnsafe(OUT_SIZE);
    let done = false;
    // One call; returns what it wrote (a fresh `out` is taken when some was).
    const step = (src: Uint8Array, op: number): { ret: number; consumed: number; part?: Buffer } => {
      let r;
      try {
        r = cctx.compressStream2(out, src, op);
      } catch (e) {
        throw failed(e);
      }
      const [ret, produced, consumed] = r;
      if (produced === 0) return { ret, consumed };
      const part = out.subarray(0, produced);
      out = Buffer.allocUnsafe(OUT_SIZE);
      return { ret, consumed, part };
    };
    try {
      step(EMPTY, E.continue); // starts the stream: size unknown, multi-threaded
      for await (const chunk of input) {
        if (!(chunk instanceof Uint8Array)) throw new OciasmError('INTERNAL', `zstd input chunks must be Uint8Array, got ${typeof chunk}`);
        let src = chunk;
        while (src.length > 0) {
          const s = step(src, E.continue);
          if (s.part) yield s.part;
          src = src.subarray(s.consumed);
        }
      }
      for (;;) {
        const s = step(EMPTY, E.end);
        if (s.part) yield s.part;
        if (s.ret === 0) break;
      }
      done = true;
    } finally {
      // An abandoned stream is reset too: libzstd stops its jobs and the context starts clean.
      try {
        cctx.reset(R.sessionOnly);
        if (!this.closed) this.idle.push(cctx);
      } catch (e) {
        if (done) throw failed(e);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0; // the contexts (and libzstd's threads) go with the garbage collector
  }
}

async function* chunksOf(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

/** sha256 of `c`'s stream for goldenInput(), fed in `chunk`-byte pieces. */
export async function zstdGoldenDigest(c: ZstdCompressor, input: Uint8Array = goldenInput(), chunk = 256 * 1024): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of c.compress(chunksOf(input, chunk))) hash.update(part);
  return hash.digest('hex');
}

/** A compressor without the self-test: for the golden tests and for generating the goldens only. */
export function uncheckedZstd(level: number, workers: number): ZstdCompressor {
  return new Compressor(zstdBinding(), checkZstdLevel(level), checkZstdWorkers(workers));
}

export async function createZstd(opts: ZstdOptions = {}): Promise<ZstdCompressor> {
  const level = checkZstdLevel(opts.level ?? ZSTD_FORMAT.defaultLevel);
  const workers = checkZstdWorkers(opts.workers ?? Math.max(1, os.availableParallelism()));
  const b = zstdBinding();
  const compressor = new Compressor(b, level, workers);
  // The self-test at the golden level: on the compressor itself at that level (its context is then reused), else on one of its own.
  const probe = level === GOLDEN_ZSTD_LEVEL ? compressor : new Compressor(b, GOLDEN_ZSTD_LEVEL, workers);
  const got = await zstdGoldenDigest(probe);
  if (probe !== compressor) await probe.close();
  if (got !== GOLDEN_ZSTD_SHA256[GOLDEN_ZSTD_LEVEL]) {
    throw new OciasmError(
      'ZSTD_INVALID',
      `libzstd ${b.versionString()} (${ZSTD_FORMAT.reference}, ${process.arch}) does not reproduce zstd format v${ZSTD_FORMAT.version}: ` +
        `golden vector sha256 ${got}, expected ${GOLDEN_ZSTD_SHA256[GOLDEN_ZSTD_LEVEL]}`,
    );
  }
  return compressor;
}

/** Cache key for everything that determines the compressed bytes, e.g. "zstd/v2/level3". */
export function zstdSettingsKey(c: { level: number }): string {
  return `zstd/v${ZSTD_FORMAT.version}/level${checkZstdLevel(c.level)}`;
}

/** Throws ZSTD_INVALID unless the pinned libzstd loads (before anything is written). */
export function checkZstdBuild(): void {
  zstdBinding();
}
