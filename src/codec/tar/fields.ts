/**
 * Byte layout of a 512-byte tar header block and the helpers that read and
 * write its fields (octal / base-256 numbers, NUL-terminated strings, checksum).
 */

export const BLOCK_SIZE = 512;

/** Offset and width of every ustar header field. */
export const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

export type FieldName = keyof typeof FIELD;

/** Largest value an octal field of `width` bytes holds (width - 1 digits + NUL). */
export function maxOctal(name: FieldName): number {
  return 8 ** (FIELD[name][1] - 1) - 1;
}

/** Writes a zero-padded, NUL-terminated octal number into the field. */
export function writeOctal(block: Buffer, name: FieldName, value: number): void {
  const [offset, width] = FIELD[name];
  if (!Number.isSafeInteger(value) || value < 0 || value > maxOctal(name)) {
    throw new RangeError(`tar field ${name}: ${value} does not fit in ${width - 1} octal digits`);
  }
  block.write(value.toString(8).padStart(width - 1, '0'), offset, 'ascii');
  block[offset + width - 1] = 0;
}

/** Copies raw bytes into a field, truncating to the field width. */
export function writeBytes(block: Buffer, name: FieldName, bytes: Uint8Array): void {
  const [offset, width] = FIELD[name];
  block.set(bytes.subarray(0, width), offset);
}

/** The bytes of a field up to (not including) the first NUL. */
export function readBytes(block: Buffer, name: FieldName): Buffer {
  const [offset, width] = FIELD[name];
  const field = block.subarray(offset, offset + width);
  const nul = field.indexOf(0);
  return nul === -1 ? field : field.subarray(0, nul);
}

export function readString(block: Buffer, name: FieldName): string {
  return readBytes(block, name).toString('utf8');
}

/**
 * Parses a numeric field: octal text (leading spaces/NULs allowed, ended by
 * NUL or space) or GNU base-256 (high bit of the first byte set).
 * Returns undefined when the field is malformed or out of safe range.
 */
export function readNumber(block: Buffer, name: FieldName): number | undefined {
  const [offset, width] = FIELD[name];
  const field = block.subarray(offset, offset + width);
  if (field[0]! & 0x80) return readBase256(field);
  const text = field.toString('latin1').replace(/^[ \0]+/, '').replace(/[ \0].*$/s, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  const value = parseInt(text, 8);
  return Number.isSafeInteger(value) ? value : undefined;
}

function readBase256(field: Buffer): number | undefined {
  const negative = (field[0]! & 0x40) !== 0;
  let value = BigInt(field[0]! & 0x7f) - (negative ? 0x80n : 0n);
  for (let i = 1; i < field.length; i++) value = (value << 8n) | BigInt(field[i]!);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(value);
}

/** Unsigned and (historic) signed header sums, checksum field counted as spaces. */
export function computeChecksums(block: Buffer): { unsigned: number; signed: number } {
  const [offset, width] = FIELD.checksum;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= offset && i < offset + width ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte >= 0x80 ? byte - 0x100 : byte;
  }
  return { unsigned, signed };
}

/** Fills in the checksum field: 6 octal digits, NUL, space (POSIX). */
export function writeChecksum(block: Buffer): void {
  const [offset] = FIELD.checksum;
  const sum = computeChecksums(block).unsigned;
  block.write(sum.toString(8).padStart(6, '0'), offset, 'ascii');
  block[offset + 6] = 0;
  block[offset + 7] = 0x20;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Zero bytes needed after `size` body bytes to reach the next block boundary. */
export function paddingLength(size: number): number {
  const rest = size % BLOCK_SIZE;
  return rest === 0 ? 0 : BLOCK_SIZE - rest;
}
