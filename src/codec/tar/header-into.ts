/**
 * The allocation-free fast path of the tar encoder: the header of a common
 * entry (file, directory, symlink, hardlink; no xattrs; ids, size and mtime
 * that fit their octal fields) written straight into the caller's output
 * buffer. A name or link target longer than its 100-byte field gets its PAX
 * `path` / `linkpath` record here too, when it is ASCII (nested
 * `node_modules` paths are the common case).
 *
 * Rules:
 * - The bytes are exactly those encodeHeader() writes for the same header
 *   (test/codec/tar-header-into.test.ts compares both on many headers).
 * - Anything unusual is not handled here: writeHeader() returns 0 and writes
 *   nothing that matters, and the caller uses encodeHeader(), which validates
 *   and throws the proper TAR_INVALID error. So there is no validation to
 *   skip, only a cheap check that the entry is a plain one.
 * - The constant fields (mtime, magic, version; the PAX header's mode, owner,
 *   typeflag and name prefix) come from a HeaderTemplate built once per
 *   archive, with their byte sum, so the checksum adds only the bytes
 *   written per entry (the template's other bytes are zero).
 */
import { BLOCK_SIZE, FIELD, maxOctal } from './fields.js';

export type SimpleEntryType = 'file' | 'directory' | 'symlink' | 'hardlink';

const TYPEFLAG: Record<SimpleEntryType, number> = { file: 0x30, hardlink: 0x31, symlink: 0x32, directory: 0x35 };
const MAX_ID = maxOctal('uid');
const MAX_SIZE = maxOctal('size');
const MAX_TIME = maxOctal('mtime');
const NAME = FIELD.name[1];
const NAME_AT = FIELD.name[0];
const LINK_AT = FIELD.linkname[0];
const MODE_AT = FIELD.mode[0];
const UID_AT = FIELD.uid[0];
const GID_AT = FIELD.gid[0];
const SIZE_AT = FIELD.size[0];
const TYPE_AT = FIELD.typeflag[0];
const CHECKSUM = FIELD.checksum[0];
const SPACES_IN_CHECKSUM = 8 * 0x20;
const PAX_PREFIX = 'PaxHeaders/';

/** The archive-wide parts of every header: one zero block per header kind with its fixed fields, and their byte sums. */
export interface HeaderTemplate {
  /** The ustar block: mtime, magic, version. */
  readonly block: Buffer;
  /** Byte sum of `block` with the checksum field counted as spaces. */
  readonly sum: number;
  /** The PAX 'x' block: name prefix `PaxHeaders/`, mode 0644, uid and gid 0, mtime, typeflag, magic, version. */
  readonly pax: Buffer;
  readonly paxSum: number;
}

/** Octal digits of `v`, zero padded to `width - 1`, then NUL (like writeOctal); returns the bytes' sum. */
function octal(buf: Buffer, off: number, width: number, v: number): number {
  let sum = (width - 1) * 0x30;
  buf[off + width - 1] = 0;
  let i = off + width - 2;
  for (; v > 0x7fffffff && i >= off; i--) {
    const d = v % 8;
    buf[i] = 0x30 + d;
    sum += d;
    v = (v - d) / 8;
  }
  for (; i >= off; i--) {
    const d = v & 7;
    buf[i] = 0x30 + d;
    sum += d;
    v >>>= 3;
  }
  return sum;
}

function blockSum(block: Buffer): number {
  let sum = SPACES_IN_CHECKSUM;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += block[i]!;
  return sum;
}

/** The checksum field: 6 octal digits, NUL, space. `sum` < 8^6 always (512 × 255). */
function checksum(buf: Buffer, off: number, sum: number): void {
  octal(buf, off + CHECKSUM, 7, sum);
  buf[off + CHECKSUM + 7] = 0x20;
}

/** The template for an archive whose every mtime is `mtime`; undefined when mtime needs PAX. */
export function headerTemplate(mtime: number): HeaderTemplate | undefined {
  if (!Number.isSafeInteger(mtime) || mtime < 0 || mtime > MAX_TIME) return undefined;
  const block = Buffer.alloc(BLOCK_SIZE);
  octal(block, FIELD.mtime[0], FIELD.mtime[1], mtime);
  block.write('ustar\0', FIELD.magic[0], 'latin1');
  block.write('00', FIELD.version[0], 'ascii');
  const pax = Buffer.from(block);
  pax.write(PAX_PREFIX, NAME_AT, 'latin1');
  octal(pax, MODE_AT, FIELD.mode[1], 0o644);
  octal(pax, UID_AT, FIELD.uid[1], 0);
  octal(pax, GID_AT, FIELD.gid[1], 0);
  pax[TYPE_AT] = 0x78; // 'x'
  return { block, sum: blockSum(block), pax, paxSum: blockSum(pax) };
}

/**
 * Copies the first `n` characters of `s` as bytes to `buf[at..]` and returns
 * their sum, or -1 at the first one that is not ASCII or is NUL.
 */
function ascii(buf: Buffer, at: number, s: string, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) return -1;
    buf[at + i] = c;
    sum += c;
  }
  return sum;
}

/** True for a string of ASCII characters without NUL. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}

/**
 * Writes a name that is not plain ASCII as UTF-8 when it fits `max` bytes;
 * returns its length and adds its bytes to `sum[0]`, or -1 (does not fit, or has a NUL).
 */
function utf8(buf: Buffer, at: number, s: string, max: number, sum: number[]): number {
  if (s.indexOf('\0') !== -1) return -1;
  const n = Buffer.byteLength(s, 'utf8');
  if (n > max) return -1;
  buf.write(s, at, n, 'utf8');
  let add = 0;
  for (let i = at; i < at + n; i++) add += buf[i]!;
  sum[0]! += add;
  return n;
}

/** Length of the PAX record `"<len> <key>=<value>\n"`: the smallest len that counts its own digits. */
function recordLength(keyLength: number, valueLength: number): number {
  const body = keyLength + valueLength + 3;
  let len = body + 1;
  while (String(len).length + body !== len) len = String(len).length + body;
  return len;
}

/** Writes one PAX record whose value is `value` (ASCII, already checked) plus `slash`; returns its end. */
function record(buf: Buffer, at: number, len: number, key: string, value: string, slash: boolean): number {
  const digits = String(len);
  at += buf.write(digits, at, 'latin1');
  buf[at++] = 0x20;
  at += buf.write(key, at, 'latin1');
  buf[at++] = 0x3d;
  at += buf.write(value, at, 'latin1');
  if (slash) buf[at++] = 0x2f;
  buf[at++] = 0x0a;
  return at;
}

/**
 * Writes the header of a common entry at `buf[off ..)` and returns the bytes
 * written: 512, or more when a PAX header comes first. Returns 0 (the caller
 * falls back to encodeHeader) when the entry is not one this path handles:
 * it would need other PAX records, or validation could fail. Returns -n when
 * it would need n bytes and fewer are left before `end` (nothing that matters
 * is written; the caller makes room or writes elsewhere).
 * `linkname` is for symlinks and hardlinks only; `size` for files only.
 */
export function writeHeader(
  buf: Buffer, off: number, end: number, t: HeaderTemplate,
  path: string, type: SimpleEntryType, mode: number, uid: number, gid: number, size: number, linkname: string | undefined,
): number {
  const isDir = type === 'directory';
  const plen = path.length;
  if (plen === 0 || path.charCodeAt(0) === 0x2f || path.charCodeAt(plen - 1) === 0x2f || path.startsWith('./') || path === '.') return 0;
  if (!plainId(uid) || !plainId(gid) || !Number.isSafeInteger(mode) || mode < 0) return 0;
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_SIZE || (type !== 'file' && size !== 0)) return 0;
  let llen = 0;
  if (type === 'symlink' || type === 'hardlink') {
    if (!linkname) return 0;
    llen = linkname.length;
  } else if (linkname !== undefined) return 0;
  // UTF-16 length <= UTF-8 length: a name over 100 characters needs PAX whatever it holds.
  const longPath = plen + (isDir ? 1 : 0) > NAME;
  const longLink = llen > NAME;
  if (longPath || longLink) return writePaxHeader(buf, off, end, t, path, type, mode, uid, gid, size, linkname, longPath, longLink);

  if (end - off < BLOCK_SIZE) return -BLOCK_SIZE;
  buf.set(t.block, off);
  let sum = t.sum;
  let n = plen;
  const s = ascii(buf, off, path, plen);
  if (s >= 0) sum += s;
  else {
    const acc = [sum];
    n = utf8(buf, off, path, isDir ? NAME - 1 : NAME, acc);
    if (n < 0) return 0;
    sum = acc[0]!;
  }
  if (isDir) {
    buf[off + n] = 0x2f;
    sum += 0x2f;
  }
  if (linkname !== undefined) {
    const l = ascii(buf, off + LINK_AT, linkname, llen);
    if (l >= 0) sum += l;
    else {
      // The ASCII attempt wrote a prefix of the same UTF-8 bytes: they are overwritten as they are.
      const acc = [sum];
      if (utf8(buf, off + LINK_AT, linkname, NAME, acc) < 0) return 0;
      sum = acc[0]!;
    }
  }
  sum += fixedFields(buf, off, type, mode, uid, gid, size);
  checksum(buf, off, sum);
  return BLOCK_SIZE;
}

/** mode, uid, gid, size and typeflag; returns their bytes' sum. */
function fixedFields(buf: Buffer, off: number, type: SimpleEntryType, mode: number, uid: number, gid: number, size: number): number {
  const flag = TYPEFLAG[type];
  buf[off + TYPE_AT] = flag;
  return flag +
    octal(buf, off + MODE_AT, FIELD.mode[1], mode & 0o7777) +
    octal(buf, off + UID_AT, FIELD.uid[1], uid) +
    octal(buf, off + GID_AT, FIELD.gid[1], gid) +
    octal(buf, off + SIZE_AT, FIELD.size[1], size);
}

/**
 * The PAX 'x' header (its block, the `linkpath` and/or `path` records in key
 * order, padding) and then the ustar block with both names cut to 100 bytes,
 * as encodeHeader writes them. ASCII names only (cutting UTF-8 at a
 * character boundary is left to encodeHeader).
 */
function writePaxHeader(
  buf: Buffer, off: number, end: number, t: HeaderTemplate,
  path: string, type: SimpleEntryType, mode: number, uid: number, gid: number, size: number, linkname: string | undefined,
  longPath: boolean, longLink: boolean,
): number {
  if (!isAscii(path) || (linkname !== undefined && !isAscii(linkname))) return 0;
  const isDir = type === 'directory';
  const plen = path.length;
  const llen = linkname?.length ?? 0;
  const linkRecord = longLink ? recordLength(8, llen) : 0; // "linkpath"
  const pathRecord = longPath ? recordLength(4, plen + (isDir ? 1 : 0)) : 0; // "path"
  const data = linkRecord + pathRecord;
  const padded = data + ((BLOCK_SIZE - (data % BLOCK_SIZE)) % BLOCK_SIZE);
  const total = BLOCK_SIZE + padded + BLOCK_SIZE;
  if (end - off < total) return -total;

  // The 'x' block: `PaxHeaders/` + the base name, cut to the name field.
  buf.set(t.pax, off);
  const base = path.lastIndexOf('/') + 1;
  const baseLen = Math.min(plen - base, NAME - PAX_PREFIX.length);
  let sum = t.paxSum;
  for (let i = 0; i < baseLen; i++) {
    const c = path.charCodeAt(base + i);
    buf[off + PAX_PREFIX.length + i] = c;
    sum += c;
  }
  sum += octal(buf, off + SIZE_AT, FIELD.size[1], data);
  checksum(buf, off, sum);

  // The records, sorted by key: "linkpath" < "path".
  let at = off + BLOCK_SIZE;
  if (longLink) at = record(buf, at, linkRecord, 'linkpath', linkname!, false);
  if (longPath) at = record(buf, at, pathRecord, 'path', path, isDir);
  buf.fill(0, at, off + BLOCK_SIZE + padded);

  // The ustar block.
  const h = off + BLOCK_SIZE + padded;
  buf.set(t.block, h);
  sum = t.sum;
  const pn = longPath ? NAME : plen;
  sum += ascii(buf, h + NAME_AT, path, pn);
  if (isDir && !longPath) {
    buf[h + pn] = 0x2f;
    sum += 0x2f;
  }
  if (linkname !== undefined) sum += ascii(buf, h + LINK_AT, linkname, longLink ? NAME : llen);
  sum += fixedFields(buf, h, type, mode, uid, gid, size);
  checksum(buf, h, sum);
  return total;
}

function plainId(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_ID;
}
