/**
 * The ociasm zstd format, version 1 (see docs/zstd-format.md).
 *
 * The input is cut into fixed-size blocks; each block is compressed on its
 * own, with ZSTD_compress() at the chosen level, into one zstd frame (frame
 * header with the content size, no checksum, no dictionary). The frames are
 * concatenated: a valid zstd stream that every decoder reads as one.
 * The bytes depend only on the input, the level and the pinned libzstd
 * build (a WebAssembly module, so never on the Node release, the CPU or the
 * worker count).
 */
import { OciasmError } from '../../errors.js';

export const ZSTD_FORMAT = Object.freeze({
  /** Bump whenever the produced bytes could change; part of zstdSettingsKey(). */
  version: 1,
  /** Uncompressed bytes per frame; the last frame may be shorter. */
  blockSize: 2 << 20,
  defaultLevel: 3,
  minLevel: 1,
  maxLevel: 19,
  /** The implementation whose output defines the format: this npm package, this exact WebAssembly file. */
  reference: '@bokuweb/zstd-wasm@0.0.27',
  wasmSha256: '80260eee5795ee8072bb5821e203730c74dca3909938f5ac1128da67f96223df',
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
