/**
 * Reads one 512-byte header block as written by ustar, GNU and old v7 tars,
 * before PAX / GNU long-name overrides are applied.
 */
import {
  computeChecksums, readBytes, readNumber, readString, type FieldName,
} from './fields.js';

export type HeaderFormat = 'ustar' | 'gnu' | 'v7';

export interface RawHeader {
  format: HeaderFormat;
  /** Typeflag character; '\0' for the historic regular-file flag. */
  typeflag: string;
  /** Name field, with the ustar prefix joined in front when present. */
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/** Parses a non-zero header block; calls `fail` on bad checksum or numbers. */
export function parseHeaderBlock(block: Buffer, fail: (reason: string) => never): RawHeader {
  const stored = readNumber(block, 'checksum');
  const { unsigned, signed } = computeChecksums(block);
  if (stored === undefined || (stored !== unsigned && stored !== signed)) {
    fail(`bad header checksum (stored ${describeChecksum(block)}, computed ${unsigned.toString(8)})`);
  }
  const format = detectFormat(block);
  const number = (field: FieldName): number => {
    const value = readNumber(block, field);
    if (value === undefined) fail(`bad numeric field ${field}`);
    return value;
  };
  const hasOwnerFields = format !== 'v7';
  let name = readString(block, 'name');
  if (format === 'ustar') {
    const prefix = readString(block, 'prefix');
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  return {
    format,
    typeflag: String.fromCharCode(block[156]!),
    name,
    linkname: readString(block, 'linkname'),
    mode: number('mode'),
    uid: number('uid'),
    gid: number('gid'),
    size: number('size'),
    mtime: number('mtime'),
    uname: hasOwnerFields ? readString(block, 'uname') : '',
    gname: hasOwnerFields ? readString(block, 'gname') : '',
    devmajor: hasOwnerFields ? number('devmajor') : 0,
    devminor: hasOwnerFields ? number('devminor') : 0,
  };
}

function detectFormat(block: Buffer): HeaderFormat {
  const magic = block.toString('latin1', 257, 265);
  if (magic.startsWith('ustar\0')) return 'ustar';
  if (magic === 'ustar  \0') return 'gnu';
  return 'v7';
}

function describeChecksum(block: Buffer): string {
  return JSON.stringify(readBytes(block, 'checksum').toString('latin1'));
}
