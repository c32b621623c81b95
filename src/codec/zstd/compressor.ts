/**
 * createZstd(): the pinned WebAssembly libzstd on a worker pool. Before any
 * work the wasm file is checked against ZSTD_FORMAT.wasmSha256: another
 * build (an upgraded or patched package) could write other bytes, so it
 * fails loudly instead (ZSTD_INVALID).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { OciasmError } from '../../errors.js';
import { checkWorkers } from '../gzip/format.js';
import { DeflatePool } from '../gzip/pool.js';
import { checkZstdLevel, ZSTD_FORMAT } from './format.js';
import { type ZstdTask, zstdStream } from './stream.js';
import { ZSTD_WORKER_SOURCE } from './worker-source.js';

export interface ZstdOptions {
  /** 1..19, default ZSTD_FORMAT.defaultLevel (3). */
  level?: number;
  /** Worker threads, default os.availableParallelism(). Never changes the bytes. */
  workers?: number;
}

export interface ZstdCompressor {
  readonly level: number;
  compress(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

/** The package's CommonJS entry and its wasm file. */
function locate(): { entry: string; wasm: string } {
  const entry = createRequire(import.meta.url).resolve('@bokuweb/zstd-wasm');
  return { entry, wasm: path.join(path.dirname(entry), 'zstd.wasm') };
}

export function checkZstdBuild(wasmFile = locate().wasm): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(wasmFile);
  } catch (e) {
    throw new OciasmError('ZSTD_INVALID', `cannot read the zstd WebAssembly module ${wasmFile}`, { cause: e });
  }
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== ZSTD_FORMAT.wasmSha256) {
    throw new OciasmError(
      'ZSTD_INVALID',
      `${wasmFile} is not the pinned zstd build (${ZSTD_FORMAT.reference}, sha256 ${ZSTD_FORMAT.wasmSha256}), ` +
        `it has sha256 ${got}: reinstall with npm ci`,
    );
  }
}

class Compressor implements ZstdCompressor {
  private closed = false;
  constructor(private readonly pool: DeflatePool<ZstdTask>, readonly level: number) {}

  compress(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
    if (this.closed) throw new OciasmError('INTERNAL', 'zstd compressor is closed');
    return zstdStream(this.pool, this.level, input, 2 * this.pool.size);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
  }
}

export function createZstd(opts: ZstdOptions = {}): ZstdCompressor {
  const level = checkZstdLevel(opts.level ?? ZSTD_FORMAT.defaultLevel);
  const workers = checkWorkers(opts.workers ?? os.availableParallelism());
  const { entry, wasm } = locate();
  checkZstdBuild(wasm);
  return new Compressor(new DeflatePool<ZstdTask>(workers, ZSTD_WORKER_SOURCE, { zstdPath: entry }), level);
}

/** Cache key for everything that determines the compressed bytes, e.g. "zstd/v1/level3". */
export function zstdSettingsKey(c: { level: number }): string {
  return `zstd/v${ZSTD_FORMAT.version}/level${checkZstdLevel(c.level)}`;
}
