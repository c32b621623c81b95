/**
 * The ociasm zstd format, version 2 (see docs/zstd-format.md).
 *
 * One zstd frame per layer, written by libzstd's streaming API
 * (ZSTD_compressStream2: every input chunk with ZSTD_e_continue, then
 * ZSTD_e_end with no input), never the one-shot path, with these parameters
 * and nothing else set: the level, long-distance matching on, windowLog
 * ZSTD_FORMAT.windowLog, the content checksum on, and nbWorkers ≥ 1
 * (libzstd's own threads). The frame header has no content size (a stream
 * does not know it). For nbWorkers ≥ 1 libzstd's output does not depend on
 * the worker count nor on how the input is cut into chunks; it depends only
 * on the input, these parameters and the libzstd version, which is pinned
 * (ZSTD_FORMAT.libzstdVersion) and checked before any work.
 */
import { OciasmError } from '../../errors.js';

export const ZSTD_FORMAT = Object.freeze({
  /** Bump whenever the produced bytes could change; part of zstdSettingsKey(). v1 was 2 MiB independent frames (WebAssembly libzstd). */
  version: 2,
  defaultLevel: 3,
  minLevel: 1,
  maxLevel: 19,
  /** log2 of the window: 2^26 = 64 MiB, what a decoder must hold per layer (docs/zstd-format.md, "Window"). */
  windowLog: 26,
  longDistanceMatching: true,
  checksum: true,
  /** The implementation whose output defines the format: this npm package (built from its bundled libzstd source)... */
  reference: 'zstd-napi@0.0.13',
  /** ...which must report exactly this ZSTD_versionNumber() (1.5.7). */
  libzstdVersion: 10507,
});

export function checkZstdLevel(level: unknown): number {
  const { minLevel, maxLevel } = ZSTD_FORMAT;
  if (typeof level !== 'number' || !Number.isInteger(level) || level < minLevel || level > maxLevel) {
    throw new OciasmError(
      'ZSTD_INVALID',
      `zstd compression level must be an integer from ${minLevel} to ${maxLevel}, got ${String(level)}`,
    );
  }
  return level;
}

/** libzstd's threads for one layer: at least 1 (nbWorkers 0 is another code path with other bytes). */
export function checkZstdWorkers(workers: unknown): number {
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new OciasmError('ZSTD_INVALID', `zstd workers must be an integer from 1 to 64, got ${String(workers)}`);
  }
  return workers;
}
