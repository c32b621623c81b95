/**
 * Deterministic ustar/PAX tar encoder. The same TarHeader always yields the
 * same bytes: no host data (time, user names) is ever consulted.
 */
import { OciasmError } from '../../errors.js';
import {
  BLOCK_SIZE, FIELD, maxOctal, paddingLength, writeBytes, writeChecksum, writeOctal,
} from './fields.js';
import { encodePaxRecords, XATTR_PREFIX } from './pax.js';
import type { TarEntryType, TarHeader } from './types.js';

const TYPEFLAG: Record<TarEntryType, string> = {
  file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6',
};
const MAX_ID = maxOctal('uid'); // 0o7777777 = 2097151
const MAX_SIZE = maxOctal('size'); // 0o77777777777
const MAX_TIME = maxOctal('mtime');
const NAME_FIELD = FIELD.name[1];
const OWNER_FIELD = FIELD.uname[1];

/** 1024 zero bytes: two zero blocks end an archive. Do not write into it. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK_SIZE);

/** Zero bytes from `size` body bytes to the next 512-byte boundary. */
export function padding(size: number): Buffer {
  return Buffer.alloc(paddingLength(size));
}

/**
 * The PAX extended header (typeflag 'x', only when needed) followed by the
 * 512-byte ustar header. The caller writes the body, then `padding(size)`.
 */
export function encodeHeader(h: TarHeader): Buffer {
  validateHeader(h);
  const path = Buffer.from(h.type === 'directory' ? `${h.path}/` : h.path, 'utf8');
  const linkname = Buffer.from(h.linkname ?? '', 'utf8');
  const uname = Buffer.from(h.uname ?? '', 'utf8');
  const gname = Buffer.from(h.gname ?? '', 'utf8');
  const pax = new Map<string, Buffer>();
  if (path.length > NAME_FIELD) pax.set('path', path);
  if (linkname.length > NAME_FIELD) pax.set('linkpath', linkname);
  if (h.uid > MAX_ID) pax.set('uid', ascii(h.uid));
  if (h.gid > MAX_ID) pax.set('gid', ascii(h.gid));
  if (h.size > MAX_SIZE) pax.set('size', ascii(h.size));
  if (h.mtime < 0 || h.mtime > MAX_TIME) pax.set('mtime', ascii(h.mtime));
  if (uname.length > OWNER_FIELD) pax.set('uname', uname);
  if (gname.length > OWNER_FIELD) pax.set('gname', gname);
  for (const [name, value] of h.xattrs ?? []) pax.set(XATTR_PREFIX + name, value);

  const block = Buffer.alloc(BLOCK_SIZE);
  writeBytes(block, 'name', truncateUtf8(path, NAME_FIELD));
  writeOctal(block, 'mode', h.mode & 0o7777);
  writeOctal(block, 'uid', h.uid > MAX_ID ? 0 : h.uid);
  writeOctal(block, 'gid', h.gid > MAX_ID ? 0 : h.gid);
  writeOctal(block, 'size', h.size > MAX_SIZE ? 0 : h.size);
  writeOctal(block, 'mtime', clampTime(h.mtime));
  block.write(TYPEFLAG[h.type], FIELD.typeflag[0], 'ascii');
  writeBytes(block, 'linkname', truncateUtf8(linkname, NAME_FIELD));
  writeUstarMagic(block);
  if (uname.length <= OWNER_FIELD) writeBytes(block, 'uname', uname);
  if (gname.length <= OWNER_FIELD) writeBytes(block, 'gname', gname);
  if (h.type === 'char' || h.type === 'block') {
    writeOctal(block, 'devmajor', h.devmajor ?? 0);
    writeOctal(block, 'devminor', h.devminor ?? 0);
  }
  writeChecksum(block);
  if (pax.size === 0) return block;

  const data = encodePaxRecords(pax);
  return Buffer.concat([paxHeaderBlock(h, data.length), data, padding(data.length), block]);
}

/** Header block of the PAX 'x' entry that carries `size` bytes of records. */
function paxHeaderBlock(h: TarHeader, size: number): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  const basename = h.path.slice(h.path.lastIndexOf('/') + 1);
  writeBytes(block, 'name', truncateUtf8(Buffer.from(`PaxHeaders/${basename}`, 'utf8'), NAME_FIELD));
  writeOctal(block, 'mode', 0o644);
  writeOctal(block, 'uid', 0);
  writeOctal(block, 'gid', 0);
  writeOctal(block, 'size', size);
  writeOctal(block, 'mtime', clampTime(h.mtime));
  block.write('x', FIELD.typeflag[0], 'ascii');
  writeUstarMagic(block);
  writeChecksum(block);
  return block;
}

/**
 * Convenience archive writer: header, body (its length must equal
 * header.size), padding per entry, then END_OF_ARCHIVE.
 */
export async function* encodeTar(
  entries: AsyncIterable<TarInputEntry> | Iterable<TarInputEntry>,
): AsyncGenerator<Buffer> {
  for await (const { header, body } of entries) {
    yield encodeHeader(header);
    const expected = header.size;
    let written = 0;
    for await (const chunk of bodyChunks(body)) {
      written += chunk.length;
      if (written > expected) throw bodyMismatch(header, `more than ${expected}`);
      if (chunk.length > 0) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    if (written !== expected) throw bodyMismatch(header, String(written));
    if (paddingLength(expected) > 0) yield padding(expected);
  }
  yield Buffer.alloc(END_OF_ARCHIVE.length);
}

export interface TarInputEntry {
  header: TarHeader;
  body?: AsyncIterable<Uint8Array> | Uint8Array;
}

async function* bodyChunks(body: TarInputEntry['body']): AsyncGenerator<Uint8Array> {
  if (body === undefined) return;
  if (body instanceof Uint8Array) yield body;
  else yield* body;
}

function bodyMismatch(h: TarHeader, got: string): OciasmError {
  return new OciasmError('TAR_INVALID', `cannot encode tar entry "${h.path}": body is ${got} bytes but header.size is ${h.size}`);
}

function validateHeader(h: TarHeader): void {
  const fail = (reason: string): never => {
    throw new OciasmError('TAR_INVALID', `cannot encode tar entry "${h.path}": ${reason}`);
  };
  if (!Object.hasOwn(TYPEFLAG, h.type)) fail(`unknown entry type ${JSON.stringify(h.type)}`);
  if (h.path === '' || h.path === '.' || h.path.startsWith('/') || h.path.startsWith('./') || h.path.endsWith('/')) {
    fail('path must be relative, without leading "/" or "./" and without trailing "/"');
  }
  for (const [field, value] of [['path', h.path], ['linkname', h.linkname], ['uname', h.uname], ['gname', h.gname]] as const) {
    if (value?.includes('\0')) fail(`${field} contains a NUL byte`);
  }
  for (const field of ['mode', 'uid', 'gid', 'size'] as const) {
    if (!Number.isSafeInteger(h[field]) || h[field] < 0) fail(`${field} must be a non-negative integer`);
  }
  if (!Number.isSafeInteger(h.mtime)) fail('mtime must be an integer number of seconds');
  if (h.type !== 'file' && h.size !== 0) fail(`size must be 0 for a ${h.type}`);
  const isLink = h.type === 'symlink' || h.type === 'hardlink';
  if (isLink && !h.linkname) fail(`a ${h.type} needs a linkname`);
  if (!isLink && h.linkname !== undefined) fail(`linkname is only valid for links, not for a ${h.type}`);
  for (const field of ['devmajor', 'devminor'] as const) {
    const value = h[field] ?? 0;
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_ID) fail(`${field} must be in [0, ${MAX_ID}]`);
  }
  for (const name of h.xattrs?.keys() ?? []) {
    if (name === '' || name.includes('=') || name.includes('\0')) fail(`invalid xattr name ${JSON.stringify(name)}`);
  }
}

function writeUstarMagic(block: Buffer): void {
  block.write('ustar\0', FIELD.magic[0], 'latin1');
  block.write('00', FIELD.version[0], 'ascii');
}

function clampTime(mtime: number): number {
  return Math.min(Math.max(mtime, 0), MAX_TIME);
}

function ascii(n: number): Buffer {
  return Buffer.from(String(n), 'ascii');
}

/** First `max` bytes of UTF-8 text, never splitting a multi-byte character. */
function truncateUtf8(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
