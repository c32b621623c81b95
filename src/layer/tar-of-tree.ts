/**
 * Turns the rootfs tree into one tar stream: depth-first in byte order of
 * names (every parent before its children), owner/mode/xattrs from the tree,
 * uname/gname empty, every mtime the source date epoch, no atime or ctime.
 * The first name of a shared inode carries the content; later names are
 * hardlinks to it, so a link target always comes before its links.
 *
 * Per-file cost is what matters for trees of many small files (docs/bench.md):
 * headers, contents and padding are written straight into one output buffer
 * of OUT_CHUNK bytes, which is yielded when full. Common headers, with the
 * PAX record of a long ASCII name, are built in place
 * (codec/tar/header-into.ts, the same bytes as encodeHeader); small files
 * are read with one read() into that buffer. So a small file costs open,
 * read, close and about no allocation.
 *
 * The yielded chunks are views of that one buffer: each is valid only until
 * the next one is requested. Consumers hash or copy synchronously.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { END_OF_ARCHIVE, encodeHeader } from '../codec/tar/encode.js';
import { paddingLength } from '../codec/tar/fields.js';
import { headerTemplate, type SimpleEntryType, writeHeader } from '../codec/tar/header-into.js';
import type { TarHeader } from '../codec/tar/types.js';
import { OciasmError, ioError } from '../errors.js';
import { type DirNode, EMPTY_XATTRS, type Inode, type Meta, type Node, walkTree } from '../rootfs/tree.js';

export interface TarStats {
  entries: number;
  files: number;
  contentBytes: number;
}

/**
 * Version of the tar this module writes from a tree. Bump whenever the same
 * tree could give other bytes: the layer cache keys on it.
 */
export const TAR_OF_TREE_VERSION = 1;

/** Bytes per yielded chunk (a multiple of 512): also the most read from a file at once. */
export const OUT_CHUNK = 1 << 20;

function header(path: string, node: Node, mtime: number): TarHeader {
  const common = { path, mtime, size: 0 };
  switch (node.kind) {
    case 'directory':
      return { ...common, type: 'directory', mode: node.mode, uid: node.uid, gid: node.gid, xattrs: node.xattrs };
    case 'file': {
      const i = node.inode;
      return { ...common, type: 'file', size: i.size, mode: i.mode, uid: i.uid, gid: i.gid, xattrs: i.xattrs };
    }
    case 'symlink':
      return { ...common, type: 'symlink', linkname: node.target, mode: node.mode, uid: node.uid, gid: node.gid, xattrs: node.xattrs };
    case 'char':
    case 'block':
      return {
        ...common, type: node.kind, mode: node.mode, uid: node.uid, gid: node.gid, xattrs: node.xattrs,
        devmajor: node.devmajor, devminor: node.devminor,
      };
    case 'fifo':
      return { ...common, type: 'fifo', mode: node.mode, uid: node.uid, gid: node.gid, xattrs: node.xattrs };
  }
}

/** The output buffer and its fill level; flushing is the generator's job. */
class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get room(): number {
    return this.buf.length - this.pos;
  }
}

/** Copies `bytes` into the output, yielding each time it fills. */
function* put(out: Out, bytes: Uint8Array): Generator<Uint8Array> {
  let off = 0;
  while (off < bytes.length) {
    if (out.room === 0) {
      yield out.buf;
      out.pos = 0;
    }
    const n = Math.min(out.room, bytes.length - off);
    out.buf.set(bytes.subarray(off, off + n), out.pos);
    out.pos += n;
    off += n;
  }
}

function readAt(fd: number, out: Out, want: number, position: number, file: string): number {
  try {
    return readSync(fd, out.buf, out.pos, want, position);
  } catch (e) {
    throw ioError('cannot read', file, e);
  }
}

/** The content of a host or spool file, read into the output buffer; `size` bytes exactly or an error. */
function* fileContent(out: Out, inode: Inode, name: string): Generator<Uint8Array> {
  const ref = inode.content;
  if (ref.kind === 'bytes') {
    yield* put(out, ref.data);
    return;
  }
  const size = inode.size;
  const start = ref.kind === 'spool' ? ref.offset : 0;
  let fd: number;
  try {
    fd = openSync(ref.path, 'r');
  } catch (e) {
    throw ioError('cannot read', ref.path, e);
  }
  let seen = 0;
  try {
    while (seen < size) {
      if (out.room === 0) {
        yield out.buf;
        out.pos = 0;
      }
      const n = readAt(fd, out, Math.min(out.room, size - seen), start + seen, ref.path);
      if (n === 0) break;
      out.pos += n;
      seen += n;
    }
  } finally {
    closeSync(fd);
  }
  checkReadAll(seen, size, ref.path, name);
}

/** A file's content fits the output's room: open, one read, close, and no allocation. Throws unless exactly `size` bytes are read. */
function readSmall(out: Out, file: string, start: number, size: number, name: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw ioError('cannot read', file, e);
  }
  let seen = 0;
  try {
    while (seen < size) {
      const n = readAt(fd, out, size - seen, start + seen, file);
      if (n === 0) break;
      out.pos += n;
      seen += n;
    }
  } finally {
    closeSync(fd);
  }
  checkReadAll(seen, size, file, name);
}

/** A host file that gave other than its recorded size (it changed under the build) is an IO error naming it. */
function checkReadAll(seen: number, size: number, file: string, name: string): void {
  if (seen !== size) {
    throw new OciasmError('IO', `${file} (for /${name}) changed while building: expected ${size} bytes, read ${seen}`);
  }
}

/**
 * With `buffer` (at least OUT_CHUNK bytes, a multiple of 512), the output is
 * written into it; else one is allocated. Either way one buffer serves the
 * whole layer.
 */
export async function* tarOfTree(root: DirNode, mtime: number, stats: TarStats, buffer?: Buffer): AsyncGenerator<Uint8Array> {
  yield* tarOfTreeSync(root, mtime, stats, buffer);
}

/**
 * The synchronous core of tarOfTree (exported for tests and benchmarks).
 * The common entry is written without a nested generator or a closure: a
 * header in place (codec/tar/header-into.ts), a small file's content read
 * straight after it. Everything else goes through put() and encodeHeader().
 */
export function* tarOfTreeSync(root: DirNode, mtime: number, stats: TarStats, buffer?: Buffer): Generator<Uint8Array> {
  const buf = buffer ? buffer.subarray(0, buffer.length - (buffer.length % 512)) : Buffer.allocUnsafeSlow(OUT_CHUNK);
  if (buf.length === 0) throw new OciasmError('INTERNAL', 'tar output buffer is smaller than one block');
  const out = new Out(buf);
  const t = headerTemplate(mtime);
  const firstName = new Map<Inode, string>();
  // A header that does not fit the room left is written here, then copied (rare: at most once per buffer).
  let scratch = Buffer.alloc(0);
  for (const { path, node } of walkTree(root)) {
    stats.entries++;
    // out.pos is always a multiple of 512 here, and the buffer is too: a whole block fits.
    if (out.room === 0) {
      yield out.buf;
      out.pos = 0;
    }
    let type: SimpleEntryType;
    let meta: Meta;
    let size = 0;
    let linkname: string | undefined;
    let inode: Inode | undefined;
    switch (node.kind) {
      case 'file': {
        const i = node.inode;
        const linkTo = i.shared ? firstName.get(i) : undefined;
        if (linkTo !== undefined) {
          // A hardlink's header carries no xattrs: the entry of its target has them.
          type = 'hardlink';
          meta = { mode: i.mode, uid: i.uid, gid: i.gid, xattrs: EMPTY_XATTRS };
          linkname = linkTo;
          break;
        }
        if (i.shared) firstName.set(i, path);
        stats.files++;
        stats.contentBytes += i.size;
        type = 'file';
        meta = i;
        size = i.size;
        inode = i;
        break;
      }
      case 'directory':
        type = 'directory';
        meta = node;
        break;
      case 'symlink':
        type = 'symlink';
        meta = node;
        linkname = node.target;
        break;
      default:
        yield* put(out, encodeHeader(header(path, node, mtime)));
        continue;
    }
    let n = t && meta.xattrs.size === 0 ? writeHeader(out.buf, out.pos, out.buf.length, t, path, type, meta.mode, meta.uid, meta.gid, size, linkname) : 0;
    if (n > 0) out.pos += n;
    else if (n < 0) {
      if (scratch.length < -n) scratch = Buffer.allocUnsafe(-n);
      n = writeHeader(scratch, 0, -n, t!, path, type, meta.mode, meta.uid, meta.gid, size, linkname);
      yield* put(out, scratch.subarray(0, n));
    } else if (type === 'hardlink') {
      yield* put(out, encodeHeader({ path, type: 'hardlink', linkname, mode: meta.mode, uid: meta.uid, gid: meta.gid, mtime, size: 0 }));
    } else {
      yield* put(out, encodeHeader(header(path, node, mtime)));
    }
    if (inode && size > 0) {
      const ref = inode.content;
      if (ref.kind !== 'bytes' && size <= out.room) readSmall(out, ref.path, ref.kind === 'spool' ? ref.offset : 0, size, path);
      else yield* fileContent(out, inode, path);
      const pad = paddingLength(size);
      // Content plus padding ends on a block boundary, and so does the buffer: the padding always fits.
      out.buf.fill(0, out.pos, out.pos + pad);
      out.pos += pad;
    }
  }
  yield* put(out, END_OF_ARCHIVE);
  if (out.pos > 0) yield out.buf.subarray(0, out.pos);
}
