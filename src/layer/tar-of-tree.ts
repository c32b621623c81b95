/**
 * Turns the rootfs tree into one tar stream: depth-first in byte order of
 * names (every parent before its children), owner/mode/xattrs from the tree,
 * uname/gname empty, every mtime the source date epoch, no atime or ctime.
 * The first name of a shared inode carries the content; later names are
 * hardlinks to it, so a link target always comes before its links.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../codec/tar/encode.js';
import type { TarHeader } from '../codec/tar/types.js';
import { OciasmError, ioError } from '../errors.js';
import { type ContentRef, type DirNode, type Inode, type Node, walkTree } from '../rootfs/tree.js';

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

/** Bytes read from a host or spool file per chunk. */
export const READ_CHUNK = 1 << 20;

/**
 * Reads a file's content in chunks of at most READ_CHUNK bytes (a small file
 * in one exactly sized read). Synchronous reads: the files are mostly in the
 * page cache, and a read stream's per-file machinery (open, close, thread-pool
 * hops) cost more main-thread time than the reads themselves, time the
 * deflate workers need on a small machine (docs/bench.md).
 */
async function* readContent(ref: ContentRef, size: number, name: string, scratch?: Buffer): AsyncGenerator<Uint8Array> {
  if (ref.kind === 'bytes') {
    yield ref.data;
    return;
  }
  if (size === 0) return;
  const start = ref.kind === 'spool' ? ref.offset : 0;
  let seen = 0;
  let fd: number;
  try {
    fd = openSync(ref.path, 'r');
  } catch (e) {
    throw ioError('cannot read', ref.path, e);
  }
  try {
    while (seen < size) {
      const want = Math.min(READ_CHUNK, size - seen);
      const buf = scratch ? scratch.subarray(0, want) : Buffer.allocUnsafeSlow(want);
      const n = readChunk(fd, buf, start + seen, ref.path);
      if (n === 0) break;
      seen += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
  if (seen !== size) {
    throw new OciasmError('IO', `${ref.path} (for /${name}) changed while building: expected ${size} bytes, read ${seen}`);
  }
}

function readChunk(fd: number, buf: Buffer, position: number, file: string): number {
  try {
    return readSync(fd, buf, 0, buf.length, position);
  } catch (e) {
    throw ioError('cannot read', file, e);
  }
}

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

/**
 * With `scratch` (at least READ_CHUNK bytes), file contents are read into it
 * and each content chunk is valid only until the next chunk is requested: for
 * consumers that hash or copy synchronously, it keeps the build from leaving
 * a trail of 1 MiB buffers for the garbage collector (docs/bench.md).
 */
export async function* tarOfTree(root: DirNode, mtime: number, stats: TarStats, scratch?: Buffer): AsyncGenerator<Uint8Array> {
  const firstName = new Map<Inode, string>();
  for (const { path, node } of walkTree(root)) {
    stats.entries++;
    if (node.kind === 'file') {
      const linkTo = firstName.get(node.inode);
      if (linkTo !== undefined) {
        const i = node.inode;
        yield encodeHeader({ path, type: 'hardlink', linkname: linkTo, mode: i.mode, uid: i.uid, gid: i.gid, mtime, size: 0 });
        continue;
      }
      firstName.set(node.inode, path);
      stats.files++;
      stats.contentBytes += node.inode.size;
    }
    yield encodeHeader(header(path, node, mtime));
    if (node.kind === 'file' && node.inode.size > 0) {
      yield* readContent(node.inode.content, node.inode.size, path, scratch);
      yield padding(node.inode.size);
    }
  }
  yield END_OF_ARCHIVE;
}
