/**
 * createGzip(): picks the engine (native zlib only if it reproduces the format
 * byte for byte, else pako 3.0.3) and owns the worker pool.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { OciasmError } from '../../errors.js';
import { GZIP_FORMAT, checkLevel, checkWorkers, type GzipEngine } from './format.js';
import { GOLDEN_GZIP_SHA256, goldenInput } from './golden.js';
import { DeflatePool } from './pool.js';
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

/** The self-test: does native zlib reproduce pako's golden digest at `level`? Run once per compressor (one per build). */
async function nativeMatches(pool: DeflatePool, level: number): Promise<boolean> {
  return (await goldenDigest(pool, 'native', level)) === GOLDEN_GZIP_SHA256[level];
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
