/**
 * Reads a host file or tree into the rootfs: regular files (content left on
 * disk), directories, symlinks (verbatim, never followed), devices, fifos and
 * hardlinks inside one source tree; mode bits and every xattr (ACLs and
 * file capabilities included, as raw bytes). Sockets cannot live in a tar and
 * are skipped. `security.selinux` is dropped: it describes the host, not the image.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import { ioError, OciasmError } from '../errors.js';
import { ensureDir, mergeNode } from './insert.js';
import { ChildList, compareNames, type ContentRef, type DirNode, EMPTY_XATTRS, HostFile, type Inode, type Meta, type Node, newDir } from './tree.js';

const DROPPED_XATTRS = new Set(['security.selinux']);

export interface HostCopyOptions {
  preserveOwner: boolean;
  /** Human context for errors, e.g. `ociasm.yaml: image "app": files[0]`. */
  where: string;
  /** Content digests (hex) of host files already known, by absolute path: they identify the content for the layer cache. */
  knownDigests?: ReadonlyMap<string, string>;
}

/**
 * Every xattr of `file` but the dropped ones, sorted by name. One listxattr
 * call; a file without xattrs (nearly all) gets the shared EMPTY_XATTRS.
 */
export function readXattrs(file: string): Map<string, Buffer> {
  let names: string[];
  try {
    names = listAttributesSync(file);
  } catch (e) {
    throw ioError('cannot list xattrs of', file, e);
  }
  if (names.length === 0) return EMPTY_XATTRS;
  const out = new Map<string, Buffer>();
  for (const name of names.sort()) {
    if (DROPPED_XATTRS.has(name)) continue;
    const value = getAttributeSync(file, name);
    if (value !== null) out.set(name, Buffer.from(value));
  }
  return out;
}

function lstatOrThrow(file: string, where: string): Stats {
  try {
    return lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OciasmError('SOURCE_MISSING', `${where}: src ${file} does not exist`);
    }
    throw ioError('cannot stat', file, e);
  }
}

/**
 * Where a host file's content is: its folder's path (one string shared by all
 * siblings) and its name (the same string as the tree's key), joined only when
 * the file is read. A full path per file was the largest part of a big
 * tree's memory (docs/bench.md, memory per entry). Unshared files without a
 * known digest (nearly all) are a HostFile instead, which does the same.
 */
class HostContent {
  readonly kind = 'host' as const;
  constructor(private readonly dir: string, private readonly name: string) {}
  get path(): string {
    return this.dir + this.name;
  }
}

class KnownHostContent extends HostContent {
  constructor(dir: string, name: string, readonly sha256: string) {
    super(dir, name);
  }
}

class HostReader {
  private readonly inodes = new Map<string, Inode>();
  constructor(private readonly opts: HostCopyOptions) {}

  private meta(file: string, st: Stats, withXattrs: boolean): Meta {
    return {
      mode: st.mode & 0o7777,
      uid: this.opts.preserveOwner ? st.uid : 0,
      gid: this.opts.preserveOwner ? st.gid : 0,
      xattrs: withXattrs ? readXattrs(file) : EMPTY_XATTRS,
    };
  }

  /** `dir` + `name` is the file's path; `dir` ends with '/' (or is '' when `name` is the whole path). */
  node(file: string, st: Stats, dir = '', name = file): Node | undefined {
    if (st.isFile()) {
      const sha256 = this.opts.knownDigests?.get(file);
      const uid = this.opts.preserveOwner ? st.uid : 0;
      const gid = this.opts.preserveOwner ? st.gid : 0;
      if (st.nlink <= 1 && sha256 === undefined) return new HostFile(st.mode & 0o7777, uid, gid, readXattrs(file), st.size, dir, name);
      const key = `${st.dev}:${st.ino}`;
      let inode = st.nlink > 1 ? this.inodes.get(key) : undefined;
      if (!inode) {
        const content: ContentRef = sha256 ? new KnownHostContent(dir, name, sha256) : new HostContent(dir, name);
        inode = { mode: st.mode & 0o7777, uid, gid, xattrs: readXattrs(file), size: st.size, content };
        if (st.nlink > 1) {
          inode.shared = true;
          this.inodes.set(key, inode);
        }
      }
      return { kind: 'file', inode };
    }
    if (st.isDirectory()) {
      const meta = this.meta(file, st, true);
      const prefix = file.endsWith('/') ? file : `${file}/`;
      const pairs: (string | Node)[] = [];
      for (const name of this.list(file)) {
        const child = prefix + name;
        const node = this.node(child, lstatOrThrow(child, this.opts.where), prefix, name);
        if (node) pairs.push(name, node);
      }
      return newDir(meta, new ChildList(pairs));
    }
    if (st.isSymbolicLink()) {
      return { kind: 'symlink', target: readlinkSync(file), ...this.meta(file, st, false) };
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const low = Number(st.rdev) >>> 0;
      const high = Math.floor(Number(st.rdev) / 2 ** 32);
      return {
        kind: st.isCharacterDevice() ? 'char' : 'block',
        devmajor: (((low >>> 8) & 0xfff) | (high & 0xfffff000)) >>> 0,
        devminor: ((low & 0xff) | ((low >>> 12) & 0xfff00)) >>> 0,
        ...this.meta(file, st, true),
      };
    }
    if (st.isFIFO()) return { kind: 'fifo', ...this.meta(file, st, true) };
    return undefined; // sockets
  }

  private list(dir: string): string[] {
    try {
      return readdirSync(dir).sort(compareNames);
    } catch (e) {
      throw ioError('cannot list', dir, e);
    }
  }
}

/**
 * Copies host `src` into the tree at `dest` with Dockerfile COPY semantics: a
 * directory's contents go into `dest` (the directory itself is not copied);
 * a file goes to `dest`, or into it when `dest` ends in '/'.
 */
export function copyFromHost(root: DirNode, src: string, dest: string, opts: HostCopyOptions): number {
  const st = lstatOrThrow(src, opts.where);
  const reader = new HostReader(opts);
  const node = reader.node(src, st);
  if (!node) throw new OciasmError('SOURCE_MISSING', `${opts.where}: src ${src} is a socket`);
  if (node.kind === 'directory') {
    ensureDir(root, dest, opts.where);
    for (const [name, child] of node.children) mergeNode(root, path.posix.join(dest, name), child, opts.where);
    return node.children.size;
  }
  const target = dest.endsWith('/') ? path.posix.join(dest, path.basename(src)) : dest;
  mergeNode(root, target, node, opts.where);
  return 1;
}
