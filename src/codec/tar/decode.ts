/**
 * Streaming tar decoder over raw bytes: ustar, GNU and v7 headers, PAX 'x'
 * records (binary xattr values kept as Buffers), GNU long names, base-256
 * numbers. Memory is bounded: bodies are streamed, never buffered whole.
 * GNU tar's `--acls` text records (`SCHILY.acl.access`, `SCHILY.acl.default`)
 * become the kernel's `system.posix_acl_*` xattrs, as GNU tar applies them on
 * extract; a binary `SCHILY.xattr.system.posix_acl_*` record of the same ACL
 * wins, and an access ACL of only `user::`, `group::`, `other::` is the mode
 * itself and gives no xattr (the kernel stores none). Text naming a user or
 * group by name (GNU tar writes names) is an error: names mean the host's
 * accounts, not the image's (docs/transports.md).
 */
import { ACL_XATTR_ACCESS, ACL_XATTR_DEFAULT, AclTag, encodeAcl, parseAclText } from '../acl.js';
import { OciasmError } from '../../errors.js';
import { ByteReader } from './byte-reader.js';
import { BLOCK_SIZE, isZeroBlock, paddingLength } from './fields.js';
import { parseHeaderBlock, type RawHeader } from './header-block.js';
import { normalizeTarPath } from './normalize.js';
import { parsePaxInteger, parsePaxRecords, parsePaxTime, XATTR_PREFIX } from './pax.js';
import type { TarEntry, TarEntryType, TarHeader } from './types.js';

export interface DecodeTarOptions {
  /** Named in every error message, e.g. the digest of the layer being read. */
  label?: string;
}

/** Largest PAX / GNU long-name data accepted for one entry (all its extended headers together). */
export const MAX_EXTENDED_HEADER_BYTES = 1024 * 1024;

const ENTRY_TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file',
  '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo',
};

/** Where the decoder is, for error messages. */
class Position {
  index = 0;
  path: string | undefined;
  /** Archive offset of the header block being (or last) read. */
  headerOffset = 0;
  constructor(private readonly label: string | undefined) {}

  fail = (reason: string): never => {
    const where = `entry ${this.index}${this.path === undefined ? '' : ` "${this.path}"`}`;
    const label = this.label ? ` ${this.label}` : '';
    throw new OciasmError('TAR_INVALID', `invalid tar${label}: ${where} (header at byte ${this.headerOffset}): ${reason}`);
  };
}

/**
 * Yields the entries of a tar archive. Each body must be read (or not at all)
 * before asking for the next entry; unread bodies are skipped.
 */
export async function* decodeTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: DecodeTarOptions = {},
): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  const at = new Position(opts.label);
  try {
    for (;;) {
      at.path = undefined;
      const header = await readEntryHeader(reader, at);
      if (header === undefined) return;
      at.path = header.path;
      const body = new BodyCursor(reader, header.size, at);
      yield { header, body: body.chunks(), offset: reader.offset };
      body.detach();
      const rest = body.remaining + paddingLength(header.size);
      if ((await reader.skip(rest)) !== rest) at.fail('truncated archive: unexpected EOF inside the body');
      at.index++;
    }
  } finally {
    await reader.close();
  }
}

/** Streams one entry's body straight from the reader. */
class BodyCursor {
  remaining: number;
  private attached = true;
  private reading = false;
  constructor(private readonly reader: ByteReader, size: number, private readonly at: Position) {
    this.remaining = size;
  }

  async *chunks(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      if (!this.attached) {
        throw new OciasmError('INTERNAL', `tar entry "${this.at.path}": body read after moving to the next entry`);
      }
      this.reading = true;
      const piece = await this.reader.take(this.remaining);
      this.reading = false;
      if (piece.length === 0) this.at.fail(`truncated archive: unexpected EOF inside the body (${this.remaining} bytes missing)`);
      this.remaining -= piece.length;
      yield piece;
    }
  }

  detach(): void {
    if (this.reading) {
      throw new OciasmError('INTERNAL', `tar entry "${this.at.path}": next entry requested while its body is being read`);
    }
    this.attached = false;
  }
}

/** Overrides gathered from PAX 'x' and GNU 'L'/'K' headers for the next entry. */
interface Extended {
  pax: Map<string, Buffer>;
  longName?: string;
  longLink?: string;
  bytes: number;
}

/** Reads header blocks up to the next real entry; undefined at end of archive. */
async function readEntryHeader(reader: ByteReader, at: Position): Promise<TarHeader | undefined> {
  const ext: Extended = { pax: new Map(), bytes: 0 };
  for (let pending = false; ; pending = true) {
    at.headerOffset = reader.offset;
    const block = await reader.read(BLOCK_SIZE);
    if (block.length === 0 && !pending) return undefined;
    if (block.length < BLOCK_SIZE) at.fail('truncated archive: unexpected EOF inside a header');
    if (isZeroBlock(block)) {
      if (pending) at.fail('extended header is not followed by an entry');
      return readEndOfArchive(reader, at);
    }
    const raw = parseHeaderBlock(block, at.fail);
    switch (raw.typeflag) {
      case 'x':
        for (const [key, value] of parsePaxRecords(await readExtendedData(reader, raw, ext, at), at.fail)) {
          if (key.startsWith('GNU.sparse.')) at.fail('sparse files are not supported');
          ext.pax.set(key, value);
        }
        continue;
      case 'g': // global records are validated, then ignored (as Docker and containerd do)
        parsePaxRecords(await readExtendedData(reader, raw, ext, at), at.fail);
        continue;
      case 'L':
        ext.longName = cString(await readExtendedData(reader, raw, ext, at));
        continue;
      case 'K':
        ext.longLink = cString(await readExtendedData(reader, raw, ext, at));
        continue;
      case 'S':
        at.path = normalizeTarPath(ext.longName ?? raw.name);
        return at.fail('sparse files are not supported');
      default:
        return buildHeader(raw, ext, at);
    }
  }
}

/** After one zero block: a second one, or a clean EOF, ends the archive. */
async function readEndOfArchive(reader: ByteReader, at: Position): Promise<undefined> {
  const second = await reader.read(BLOCK_SIZE);
  if (second.length === 0 || (second.length === BLOCK_SIZE && isZeroBlock(second))) return undefined;
  if (second.length < BLOCK_SIZE) return at.fail('truncated archive: unexpected EOF inside the end-of-archive marker');
  return at.fail('a single zero block is followed by more headers');
}

async function readExtendedData(reader: ByteReader, raw: RawHeader, ext: Extended, at: Position): Promise<Buffer> {
  ext.bytes += raw.size;
  if (raw.size < 0 || ext.bytes > MAX_EXTENDED_HEADER_BYTES) {
    at.fail(`extended header of ${raw.size} bytes exceeds the ${MAX_EXTENDED_HEADER_BYTES}-byte limit`);
  }
  const data = await reader.read(raw.size);
  const pad = paddingLength(raw.size);
  if (data.length < raw.size || (await reader.skip(pad)) !== pad) {
    at.fail(`truncated archive: unexpected EOF inside a '${raw.typeflag}' extended header`);
  }
  return data;
}

function buildHeader(raw: RawHeader, ext: Extended, at: Position): TarHeader {
  const pax = ext.pax;
  const rawPath = paxString(pax, 'path') ?? ext.longName ?? raw.name;
  const path = normalizeTarPath(rawPath);
  at.path = path;
  let type = ENTRY_TYPES[raw.typeflag];
  if (type === undefined) return at.fail(`unknown typeflag ${describeTypeflag(raw.typeflag)}`);
  if (raw.typeflag === '\0' && rawPath.endsWith('/')) type = 'directory';

  const paxNumber = (key: string, parse: (v: Buffer) => number | undefined): number | undefined => {
    const value = pax.get(key);
    if (value === undefined || value.length === 0) return undefined;
    return parse(value) ?? at.fail(`bad PAX ${key} value ${JSON.stringify(value.toString('latin1'))}`);
  };
  const uid = paxNumber('uid', parsePaxInteger) ?? raw.uid;
  const gid = paxNumber('gid', parsePaxInteger) ?? raw.gid;
  const size = paxNumber('size', parsePaxInteger) ?? raw.size;
  const mtime = paxNumber('mtime', parsePaxTime) ?? raw.mtime;
  if (uid < 0 || gid < 0 || size < 0) at.fail('negative uid, gid or size');

  const header: TarHeader = {
    path,
    type,
    mode: raw.mode & 0o7777,
    uid,
    gid,
    // Like Go's archive/tar (used by Docker and containerd), only regular files carry data.
    size: type === 'file' ? size : 0,
    mtime,
    uname: paxString(pax, 'uname') ?? raw.uname,
    gname: paxString(pax, 'gname') ?? raw.gname,
  };
  if (type === 'symlink' || type === 'hardlink') {
    const link = paxString(pax, 'linkpath') ?? ext.longLink ?? raw.linkname;
    header.linkname = type === 'hardlink' ? normalizeTarPath(link) : link;
  }
  if (type === 'char' || type === 'block') {
    header.devmajor = raw.devmajor;
    header.devminor = raw.devminor;
  }
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of pax) {
    if (key.startsWith(XATTR_PREFIX)) xattrs.set(key.slice(XATTR_PREFIX.length), value);
  }
  for (const [key, name] of GNU_ACL_RECORDS) {
    const text = pax.get(key);
    if (text === undefined || text.length === 0 || xattrs.has(name)) continue;
    const value = gnuAclXattr(text.toString('utf8'), name === ACL_XATTR_ACCESS, (reason) => at.fail(`${key}: ${reason}`));
    if (value) xattrs.set(name, value);
  }
  if (xattrs.size > 0) header.xattrs = xattrs;
  return header;
}

const GNU_ACL_RECORDS = [['SCHILY.acl.access', ACL_XATTR_ACCESS], ['SCHILY.acl.default', ACL_XATTR_DEFAULT]] as const;
const MINIMAL_ACL_TAGS: readonly number[] = [AclTag.UserObj, AclTag.GroupObj, AclTag.Other];

/** The xattr value of a GNU tar ACL text record; undefined for a minimal access ACL (the mode says it all). */
function gnuAclXattr(text: string, access: boolean, fail: (reason: string) => never): Buffer | undefined {
  let entries;
  try {
    entries = parseAclText(text);
  } catch (e) {
    const named = /^(user|group|u|g):[^:\n]*[^0-9:\n][^:\n]*:/m.test(text);
    return fail(named
      ? `names a user or group (${(e as Error).message}); ACLs are kept by number only: create the archive with GNU tar --xattrs --xattrs-include='*', which stores them as numbers`
      : (e as Error).message);
  }
  if (access && entries.every((en) => MINIMAL_ACL_TAGS.includes(en.tag))) return undefined;
  return encodeAcl(entries);
}

/** A PAX string value; an empty value means "use the header field" (POSIX). */
function paxString(pax: Map<string, Buffer>, key: string): string | undefined {
  const value = pax.get(key);
  return value === undefined || value.length === 0 ? undefined : value.toString('utf8');
}

function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return (nul === -1 ? data : data.subarray(0, nul)).toString('utf8');
}

function describeTypeflag(flag: string): string {
  const code = flag.charCodeAt(0);
  return code >= 0x20 && code < 0x7f ? `'${flag}'` : `0x${code.toString(16).padStart(2, '0')}`;
}
