/**
 * The allocation-free fast path of the tar encoder: a plain 512-byte ustar
 * header written straight into the caller's output buffer, for the common
 * entry (file, directory, symlink, hardlink; no xattrs; names that fit the
 * fields; ids, size and mtime that fit their octal fields).
 *
 * Rules:
 * - The bytes are exactly those encodeHeader() writes for the same header
 *   (test/codec/tar-header-into.test.ts compares both on many headers).
 * - Anything unusual is not handled here: writeSimpleHeader() returns false
 *   and writes nothing that matters, and the caller uses encodeHeader(),
 *   which validates and throws the proper TAR_INVALID error. So there is no
 *   validation to skip, only a cheap check that the entry is a plain one.
 * - The constant fields (mtime, magic, version) come from a HeaderTemplate
 *   built once per archive.
 */
import { BLOCK_SIZE, FIELD, maxOctal } from './fields.js';

export type SimpleEntryType = 'file' | 'directory' | 'symlink' | 'hardlink';

const TYPEFLAG: Record<SimpleEntryType, number> = { file: 0x30, hardlink: 0x31, symlink: 0x32, directory: 0x35 };
const MAX_ID = maxOctal('uid');
const MAX_SIZE = maxOctal('size');
const MAX_TIME = maxOctal('mtime');
const NAME = FIELD.name[1];
const CHECKSUM = FIELD.checksum[0];
const SPACES_IN_CHECKSUM = 8 * 0x20;

/** One zero block with the archive-wide fields filled in, and their byte sum. */
export interface HeaderTemplate {
  readonly block: Buffer;
}

/** Octal digits of `v`, zero padded to `width - 1`, then NUL (like writeOctal). */
function octal(buf: Buffer, off: number, width: number, v: number): void {
  buf[off + width - 1] = 0;
  for (let i = off + width - 2; i >= off; i--) {
    buf[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

/** The template for an archive whose every mtime is `mtime`; undefined when mtime needs PAX. */
export function headerTemplate(mtime: number): HeaderTemplate | undefined {
  if (!Number.isSafeInteger(mtime) || mtime < 0 || mtime > MAX_TIME) return undefined;
  const block = Buffer.alloc(BLOCK_SIZE);
  octal(block, FIELD.mtime[0], FIELD.mtime[1], mtime);
  block.write('ustar\0', FIELD.magic[0], 'latin1');
  block.write('00', FIELD.version[0], 'ascii');
  return { block };
}

/** True for a string that fits a 100-byte name field as is: no NUL, at most `max` UTF-8 bytes. */
function fits(s: string, max: number): boolean {
  return s.length <= max && s.indexOf('\0') === -1 && (s.length * 3 <= max || Buffer.byteLength(s, 'utf8') <= max);
}

function plainId(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_ID;
}

/**
 * Writes the header of a plain entry at `buf[off .. off+512)` and returns
 * true; returns false (the caller falls back to encodeHeader) when the entry
 * is not plain: it would need PAX records or validation could fail.
 * `linkname` is for symlinks and hardlinks only; `size` for files only.
 */
export function writeSimpleHeader(
  buf: Buffer, off: number, t: HeaderTemplate,
  path: string, type: SimpleEntryType, mode: number, uid: number, gid: number, size: number, linkname: string | undefined,
): boolean {
  const isDir = type === 'directory';
  if (path === '' || path.charCodeAt(0) === 0x2f || path.charCodeAt(path.length - 1) === 0x2f || path.startsWith('./')) return false;
  if (!fits(path, isDir ? NAME - 1 : NAME)) return false;
  if (!plainId(uid) || !plainId(gid) || !Number.isSafeInteger(mode) || mode < 0) return false;
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_SIZE || (type !== 'file' && size !== 0)) return false;
  if (type === 'symlink' || type === 'hardlink') {
    if (!linkname || !fits(linkname, NAME)) return false;
  } else if (linkname !== undefined) return false;

  buf.set(t.block, off);
  let n = buf.write(path, off, NAME, 'utf8');
  if (isDir) buf[off + n++] = 0x2f;
  octal(buf, off + FIELD.mode[0], FIELD.mode[1], mode & 0o7777);
  octal(buf, off + FIELD.uid[0], FIELD.uid[1], uid);
  octal(buf, off + FIELD.gid[0], FIELD.gid[1], gid);
  octal(buf, off + FIELD.size[0], FIELD.size[1], size);
  buf[off + FIELD.typeflag[0]] = TYPEFLAG[type];
  if (linkname !== undefined) buf.write(linkname, off + FIELD.linkname[0], NAME, 'utf8');
  // The checksum field is still zero here; POSIX counts it as eight spaces.
  let sum = SPACES_IN_CHECKSUM;
  for (let i = off, end = off + BLOCK_SIZE; i < end; i++) sum += buf[i]!;
  octal(buf, off + CHECKSUM, 7, sum);
  buf[off + CHECKSUM + 7] = 0x20;
  return true;
}
