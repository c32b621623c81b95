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

export function newDir(meta?: Partial<Meta>): DirNode {
  return { kind: 'directory', mode: 0o755, uid: 0, gid: 0, xattrs: new Map(), ...meta, children: new Map() };
}

/** Splits a normalized absolute or relative path into components; '.' and '' vanish. */
export function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

export interface Walked {
  path: string; // relative, no leading '/'
  node: Node;
}

/** Depth-first, children in byte order of their names: parents before children, deterministic. */
export function* walkTree(root: DirNode, prefix = ''): Generator<Walked> {
  const names = [...root.children.keys()].sort(compareNames);
  for (const name of names) {
    const node = root.children.get(name)!;
    const path = prefix === '' ? name : `${prefix}/${name}`;
    yield { path, node };
    if (node.kind === 'directory') yield* walkTree(node, path);
  }
}

export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function countNodes(root: DirNode): number {
  let n = 0;
  for (const _ of walkTree(root)) n++;
  return n;
}
