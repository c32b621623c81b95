/**
 * The ociasm gzip format, version 1 (see docs/gzip-format.md).
 *
 * A gzip member whose deflate stream is cut into fixed-size blocks that are
 * compressed independently (so in parallel), each primed with the previous
 * 32 KiB of input as preset dictionary. The bytes depend only on the input
 * and the level: never on the Node version, CPU or worker count.
 */
import { OciasmError } from '../../errors.js';

export const GZIP_FORMAT = Object.freeze({
  /** Bump whenever the produced bytes could change; part of gzipSettingsKey(). */
  version: 1,
  /** Uncompressed bytes per block; the last block may be shorter. */
  blockSize: 1 << 20,
  /** Bytes of preceding input used as preset dictionary (none for block 0). */
  dictSize: 32768,
  /** deflateInit2 parameters: raw deflate (-15), memLevel 8, Z_DEFAULT_STRATEGY. */
  windowBits: 15,
  memLevel: 8,
  strategy: 0,
  /** Chosen by the bench (docs/bench.md): level 6 costs ~40% more CPU for ~1% smaller layers. */
  defaultLevel: 5,
  minLevel: 1,
  maxLevel: 9,
  /** Non-final blocks end with Z_SYNC_FLUSH (2), the final one with Z_FINISH (4). */
  blockFlush: 2,
  finalFlush: 4,
  /** Fixed 10-byte header fields: no FLG bits, MTIME 0, XFL 0, OS 255 (unknown). */
  header: Object.freeze({ flags: 0, mtime: 0, xfl: 0, os: 255 }),
  /** Implementation whose output defines the format (ANZAC++ hash, not legacyHash). */
  reference: 'pako@3.0.3',
});

export type GzipEngine = 'native' | 'pako';

/** The 10-byte gzip member header: 1f 8b 08 00 00000000 00 ff. */
export function gzipHeader(): Buffer {
  const h = GZIP_FORMAT.header;
  const b = Buffer.alloc(10);
  b[0] = 0x1f;
  b[1] = 0x8b;
  b[2] = 8; // CM = deflate
  b[3] = h.flags;
  b.writeUInt32LE(h.mtime, 4);
  b[8] = h.xfl;
  b[9] = h.os;
  return b;
}

/** The 8-byte trailer: CRC-32 of the input, then its length mod 2^32, both LE. */
export function gzipTrailer(crc: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(crc >>> 0, 0);
  b.writeUInt32LE(length % 2 ** 32, 4);
  return b;
}

export function checkLevel(level: unknown): number {
  const { minLevel, maxLevel } = GZIP_FORMAT;
  if (typeof level !== 'number' || !Number.isInteger(level) || level < minLevel || level > maxLevel) {
    throw new OciasmError(
      'GZIP_INVALID',
      `gzip compression level must be an integer from ${minLevel} to ${maxLevel}, got ${String(level)}`,
    );
  }
  return level;
}

export function checkWorkers(workers: unknown): number {
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1) {
    throw new OciasmError('GZIP_INVALID', `gzip workers must be an integer >= 1, got ${String(workers)}`);
  }
  return workers;
}
