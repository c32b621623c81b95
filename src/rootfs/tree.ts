/**
 * The in-memory root filesystem: a tree of nodes holding metadata only.
 * File contents stay where they are (host file, spool file or bytes) and are
 * read once, when the layer is written. Hardlinked names share one Inode, so a
 * link keeps its content when another name is replaced, and a surviving link
 * becomes the regular file when the first name goes away.
 *
 * Memory is per entry, so a million-entry tree must stay small (docs/bench.md,
 * memory per entry):
 * - a folder's children are a `Children` (Map's subset that readers use);
 *   newDir gives a `ChildList`: one exactly sized array of name/node pairs for
 *   small folders (most are), a Map past CHILD_LIST_MAX;
 * - an unshared host file is one `HostFile` object that is its own inode and
 *   makes its content reference when asked;
 * - objects of one kind are made with the same fields in the same order and
 *   no field is ever deleted (stable hidden classes).
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

/**
 * A folder's children by name, in insertion order (as a Map; readers that
 * need an order sort the names). Map<string, Node> is one; newDir makes a
 * ChildList.
 */
export interface Children extends Iterable<[string, Node]> {
  readonly size: number;
  get(name: string): Node | undefined;
  has(name: string): boolean;
  set(name: string, node: Node): unknown;
  delete(name: string): boolean;
  clear(): void;
  keys(): IterableIterator<string>;
}

export interface DirNode extends Meta {
  kind: 'directory';
  children: Children;
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

/** Folders with more children than this keep them in a Map (linear search stays cheaper below). */
export const CHILD_LIST_MAX = 16;

const NO_CHILDREN: readonly (string | Node)[] = Object.freeze([]);

/**
 * Children as Map semantics on a flat array `[name0, node0, name1, node1, …]`
 * of exactly the right length (about 16 bytes a child, against 50 to 100 in a
 * Map), replaced by a copy on each insert or delete; past CHILD_LIST_MAX
 * children, a Map (and it stays one).
 */
export class ChildList implements Children {
  private s: (string | Node)[] | readonly (string | Node)[] | Map<string, Node>;

  /** `pairs`: names and nodes alternating, names distinct; it is copied. */
  constructor(pairs?: readonly (string | Node)[]) {
    if (pairs === undefined || pairs.length === 0) this.s = NO_CHILDREN;
    else if (pairs.length <= 2 * CHILD_LIST_MAX) this.s = pairs.slice();
    else {
      const m = new Map<string, Node>();
      for (let i = 0; i < pairs.length; i += 2) m.set(pairs[i] as string, pairs[i + 1] as Node);
      this.s = m;
    }
  }

  get size(): number {
    const s = this.s;
    return s instanceof Map ? s.size : s.length >> 1;
  }

  get(name: string): Node | undefined {
    const s = this.s;
    if (s instanceof Map) return s.get(name);
    for (let i = 0; i < s.length; i += 2) if (s[i] === name) return s[i + 1] as Node;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, node: Node): this {
    const s = this.s;
    if (s instanceof Map) {
      s.set(name, node);
      return this;
    }
    const n = s.length;
    for (let i = 0; i < n; i += 2) {
      if (s[i] === name) {
        (s as (string | Node)[])[i + 1] = node; // never NO_CHILDREN: it has no names
        return this;
      }
    }
    if (n >= 2 * CHILD_LIST_MAX) {
      const m = new Map<string, Node>();
      for (let i = 0; i < n; i += 2) m.set(s[i] as string, s[i + 1] as Node);
      m.set(name, node);
      this.s = m;
      return this;
    }
    const next = new Array<string | Node>(n + 2);
    for (let i = 0; i < n; i++) next[i] = s[i]!;
    next[n] = name;
    next[n + 1] = node;
    this.s = next;
    return this;
  }

  delete(name: string): boolean {
    const s = this.s;
    if (s instanceof Map) return s.delete(name);
    const n = s.length;
    for (let i = 0; i < n; i += 2) {
      if (s[i] !== name) continue;
      if (n === 2) {
        this.s = NO_CHILDREN;
        return true;
      }
      const next = new Array<string | Node>(n - 2);
      for (let j = 0, k = 0; j < n; j++) if (j !== i && j !== i + 1) next[k++] = s[j]!;
      this.s = next;
      return true;
    }
    return false;
  }

  clear(): void {
    this.s = NO_CHILDREN;
  }

  *keys(): IterableIterator<string> {
    const s = this.s;
    if (s instanceof Map) {
      yield* s.keys();
      return;
    }
    for (let i = 0; i < s.length; i += 2) yield s[i] as string;
  }

  *[Symbol.iterator](): IterableIterator<[string, Node]> {
    const s = this.s;
    if (s instanceof Map) {
      yield* s;
      return;
    }
    for (let i = 0; i < s.length; i += 2) yield [s[i] as string, s[i + 1] as Node];
  }
}

/** A folder: its attributes default to 0755, 0:0, no xattrs; `children` default to none. */
export function newDir(meta?: Partial<Meta>, children: Children = new ChildList()): DirNode {
  return {
    kind: 'directory',
    mode: meta?.mode ?? 0o755,
    uid: meta?.uid ?? 0,
    gid: meta?.gid ?? 0,
    xattrs: meta?.xattrs ?? EMPTY_XATTRS,
    children,
  };
}

/**
 * An unshared host file (nlink 1, content not known by digest; nearly all of
 * a big tree): the FileNode is its own Inode (`inode` is the object itself)
 * and `content` is made when read from the folder's path (shared by the
 * siblings) and the name (the same string as the folder's key). One object
 * of about 80 bytes instead of a node, an inode and a content reference.
 * `kind` lives on the prototype. A second name for it (a base hardlink can
 * only target base files) would set `shared` as on any inode.
 */
export class HostFile implements FileNode, Inode {
  declare readonly kind: 'file';
  declare shared?: true;
  constructor(
    public mode: number,
    public uid: number,
    public gid: number,
    public xattrs: Map<string, Buffer>,
    public size: number,
    /** The folder's path, ending in '/' (or '' when `name` is the whole path). */
    private readonly dir: string,
    private readonly name: string,
  ) {}

  get inode(): Inode {
    return this;
  }

  get content(): ContentRef {
    return { kind: 'host', path: this.dir + this.name };
  }
}
Object.defineProperty(HostFile.prototype, 'kind', { value: 'file', enumerable: true });

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
