/**
 * The in-memory root filesystem: a tree of nodes holding metadata only.
 * File contents stay where they are (host file, spool file or bytes) and are
 * read once, when the layer is written. Hardlinked names share one Inode, so a
 * link keeps its content when another name is replaced, and a surviving link
 * becomes the regular file when the first name goes away.
 */
export type ContentRef =
  /** `sha256`: the content's digest when it is known without reading (a file restored from a content-addressed cache). */
  | { kind: 'host'; path: string; sha256?: string }
  | { kind: 'bytes'; data: Buffer }
  /** `sha256`: the content's digest, computed while it was spooled. */
  | { kind: 'spool'; path: string; offset: number; sha256: string };

export interface Meta {
  mode: number; // permission bits incl. setuid/setgid/sticky
  uid: number;
  gid: number;
  xattrs: Map<string, Buffer>;
}

export interface Inode extends Meta {
  size: number;
  content: ContentRef;
  /**
   * Set where an inode gets (or may get) a second name: a host file with
   * nlink > 1, a base layer's hardlink target. Writers look up first names
   * only for these, so a tree of a million unlinked files keeps no map of them.
   */
  shared?: true;
}

export interface DirNode extends Meta {
  kind: 'directory';
  children: Map<string, Node>;
}
export interface FileNode {
  kind: 'file';
  inode: Inode;
}
export interface SymlinkNode extends Meta {
  kind: 'symlink';
  target: string;
}
export interface DeviceNode extends Meta {
  kind: 'char' | 'block';
  devmajor: number;
  devminor: number;
}
export interface FifoNode extends Meta {
  kind: 'fifo';
}
export type Node = DirNode | FileNode | SymlinkNode | DeviceNode | FifoNode;

/**
 * The xattrs of the many nodes that have none: one shared, unchangeable map
 * (a Map per node costs ~100 bytes; docs/bench.md, memory per entry).
 * Code that adds xattrs to a node gives it a new Map first.
 */
class FrozenEmptyMap extends Map<string, Buffer> {
  override set(): this {
    throw new Error('EMPTY_XATTRS is shared: give the node its own Map');
  }
}
export const EMPTY_XATTRS: Map<string, Buffer> = new FrozenEmptyMap();

export function newDir(meta?: Partial<Meta>): DirNode {
  return { kind: 'directory', mode: 0o755, uid: 0, gid: 0, xattrs: EMPTY_XATTRS, ...meta, children: new Map() };
}

/** Splits a normalized absolute or relative path into components; '.' and '' vanish. */
export function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

export interface Walked {
  path: string; // relative, no leading '/'
  node: Node;
}

/**
 * Depth-first, children in byte order of their names: parents before
 * children, deterministic. An explicit stack (no generator per directory), so
 * a deep tree costs no more per entry than a flat one.
 */
export function* walkTree(root: DirNode, prefix = ''): Generator<Walked> {
  const stack: { dir: DirNode; prefix: string; names: string[]; i: number }[] = [];
  stack.push({ dir: root, prefix, names: sortedNames(root), i: 0 });
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i === top.names.length) {
      stack.pop();
      continue;
    }
    const name = top.names[top.i++]!;
    const node = top.dir.children.get(name)!;
    const path = top.prefix === '' ? name : `${top.prefix}/${name}`;
    yield { path, node };
    if (node.kind === 'directory' && node.children.size > 0) stack.push({ dir: node, prefix: path, names: sortedNames(node), i: 0 });
  }
}

function sortedNames(dir: DirNode): string[] {
  return [...dir.children.keys()].sort(compareNames);
}

/**
 * Byte order of the names' UTF-8 encodings, without encoding them: UTF-16
 * code unit order is the same except that surrogates (U+D800-DFFF, the
 * halves of characters above U+FFFF) must sort after U+E000-FFFF.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

export function countNodes(root: DirNode): number {
  let n = 0;
  for (const _ of walkTree(root)) n++;
  return n;
}
