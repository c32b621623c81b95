/**
 * createGzip(): picks the engine (native zlib only if it reproduces the format
 * byte for byte, else pako 3.0.3) and owns the worker pool.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { OciasmError } from '../../errors.js';
import zlib from 'node:zlib';
import { GZIP_FORMAT, checkLevel, checkWorkers, gzipHeader, gzipTrailer, type GzipEngine } from './format.js';
import { GOLDEN_GZIP_SHA256, goldenInput } from './golden.js';
import { DeflatePool, type DeflateResult } from './pool.js';
import { compressStream } from './stream.js';

export interface GzipOptions {
  /** 1..9, default GZIP_FORMAT.defaultLevel (5). */
  level?: number;
  /** Worker threads, default os.availableParallelism(). Never changes the bytes. */
  workers?: number;
  /**
   * 'auto' (default): native zlib if its self-test passes, else pako.
   * 'native': native zlib, and fail if it does not reproduce the format.
   * 'pako': always pako (slower, same bytes).
   */
  engine?: 'auto' | 'native' | 'pako';
}

export interface GzipCompressor {
  readonly engine: GzipEngine;
  readonly level: number;
  /** Streams gzip bytes for the given uncompressed input. Can be called repeatedly/concurrently. */
  compress(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

async function* chunksOf(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

/** sha256 of compressing goldenInput() with `engine` at `level` on `pool`. */
export async function goldenDigest(pool: DeflatePool, engine: GzipEngine, level: number): Promise<string> {
  const hash = createHash('sha256');
  const input = chunksOf(goldenInput(), 256 * 1024);
  for await (const part of compressStream(pool, engine, level, input, 2 * pool.size)) hash.update(part);
  return hash.digest('hex');
}

/**
 * The same digest as goldenDigest(), but every block is handed to the pool
 * before this returns (no await first), so the workers start and compress
 * the golden input while the caller's synchronous work goes on: a build
 * walks its host trees synchronously right after starting the codec.
 * The block cutting is compressStream()'s: fixed blocks, each after the
 * first primed with the previous dictSize bytes, the last one final.
 */
export function goldenDigestNow(pool: DeflatePool, engine: GzipEngine, level: number): Promise<string> {
  const data = goldenInput();
  const { blockSize, dictSize } = GZIP_FORMAT;
  const parts: Promise<DeflateResult>[] = [];
  for (let off = 0; off < data.length; off += blockSize) {
    const end = Math.min(data.length, off + blockSize);
    // Copies: the pool transfers them to the workers.
    const block = data.slice(off, end);
    const dict = off === 0 ? null : data.slice(off - dictSize, off);
    parts.push(pool.run({ engine, level, block, dict, final: end === data.length }));
  }
  return Promise.all(parts).then((outs) => {
    const hash = createHash('sha256').update(gzipHeader());
    for (const r of outs) hash.update(r.out);
    return hash.update(gzipTrailer(zlib.crc32(data), data.length)).digest('hex');
  });
}

/** The self-test: does native zlib reproduce pako's golden digest at `level`? Run once per compressor (one per build). */
function nativeMatches(pool: DeflatePool, level: number): Promise<boolean> {
  return goldenDigestNow(pool, 'native', level).then((d) => d === GOLDEN_GZIP_SHA256[level]);
}

class Compressor implements GzipCompressor {
  private closed = false;
  constructor(
    private readonly pool: DeflatePool,
    readonly engine: GzipEngine,
    readonly level: number,
  ) {}

  compress(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
    if (this.closed) throw new OciasmError('INTERNAL', 'gzip compressor is closed');
    return compressStream(this.pool, this.engine, this.level, input, 2 * this.pool.size);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
  }
}

export async function createGzip(opts: GzipOptions = {}): Promise<GzipCompressor> {
  const level = checkLevel(opts.level ?? GZIP_FORMAT.defaultLevel);
  const workers = checkWorkers(opts.workers ?? os.availableParallelism());
  const wanted = opts.engine ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'native' && wanted !== 'pako') {
    throw new OciasmError('GZIP_INVALID', `gzip engine must be auto, native or pako, got ${String(wanted)}`);
  }
  const pool = new DeflatePool(workers);
  try {
    let engine: GzipEngine = 'pako';
    if (wanted !== 'pako') {
      if (await nativeMatches(pool, level)) engine = 'native';
      else if (wanted === 'native') {
        throw new OciasmError(
          'GZIP_INVALID',
          `native zlib ${process.versions.zlib} (Node ${process.version}, ${process.arch}) does not ` +
            `reproduce gzip format v${GZIP_FORMAT.version} at level ${level}; use engine 'auto' or 'pako'`,
        );
      }
    }
    return new Compressor(pool, engine, level);
  } catch (e) {
    await pool.close();
    throw e;
  }
}

/** Cache key for everything that determines the compressed bytes, e.g. "gzip/v1/level6". */
export function gzipSettingsKey(c: GzipCompressor | { level: number }): string {
  return `gzip/v${GZIP_FORMAT.version}/level${checkLevel(c.level)}`;
}
