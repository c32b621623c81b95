/**
 * The compact tree representation (rootfs/tree.ts) must mean what the Map
 * and three-object file it replaces meant: ChildList behaves as a Map under
 * any sequence of set/delete/clear (small folders as an array, large ones
 * past CHILD_LIST_MAX as a Map), and a host file read by copyFromHost is a
 * FileNode whose inode is itself, whose content names its host path, and
 * hardlinked or known-digest host files keep a shared Inode.
 */
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyFromHost } from '../../src/rootfs/host.js';
import { lookup } from '../../src/rootfs/insert.js';
import { CHILD_LIST_MAX, ChildList, HostFile, type Node, newDir, walkTree } from '../../src/rootfs/tree.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ociasm-tree-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
}

const leaf = (n: number): Node => ({ kind: 'fifo', mode: n, uid: 0, gid: 0, xattrs: new Map() });

describe('ChildList', () => {
  for (const [seed, names] of [[1, 5], [2, CHILD_LIST_MAX], [3, CHILD_LIST_MAX + 1], [4, 3 * CHILD_LIST_MAX], [5, 200]] as const) {
    it(`matches a Map over random operations (seed ${seed}, ${names} names)`, () => {
      const rnd = lcg(seed);
      const list = new ChildList();
      const map = new Map<string, Node>();
      for (let step = 0; step < 3000; step++) {
        const name = `n${rnd() % names}`;
        const op = rnd() % 100;
        if (op < 60) {
          const node = leaf(step);
          expect(list.set(name, node)).toBe(list);
          map.set(name, node);
        } else if (op < 95) {
          expect(list.delete(name)).toBe(map.delete(name));
        } else if (op < 97) {
          list.clear();
          map.clear();
        }
        expect(list.size).toBe(map.size);
        expect(list.get(name)).toBe(map.get(name));
        expect(list.has(name)).toBe(map.has(name));
        if (step % 97 === 0) {
          expect([...list]).toEqual([...map]);
          expect([...list.keys()]).toEqual([...map.keys()]);
        }
      }
      expect([...list]).toEqual([...map]);
    });
  }

  it('copies the pairs it is built from, small or large', () => {
    for (const n of [0, 1, CHILD_LIST_MAX, CHILD_LIST_MAX + 1, 100]) {
      const pairs: (string | Node)[] = [];
      for (let i = 0; i < n; i++) pairs.push(`c${i}`, leaf(i));
      const list = new ChildList(pairs);
      pairs.length = 0;
      expect(list.size).toBe(n);
      expect([...list.keys()]).toEqual(Array.from({ length: n }, (_, i) => `c${i}`));
      if (n > 0) expect(list.get(`c${n - 1}`)).toEqual(leaf(n - 1));
      expect(list.get('missing')).toBeUndefined();
    }
  });

  it('a directory replaced in place keeps its position, as in a Map', () => {
    const d = newDir();
    d.children.set('b', leaf(1));
    d.children.set('a', leaf(2));
    d.children.set('b', leaf(3));
    expect([...d.children.keys()]).toEqual(['b', 'a']);
    expect([...walkTree(d)].map((w) => w.path)).toEqual(['a', 'b']);
  });
});

describe('host files in the tree', () => {
  it('an unshared file is one HostFile: its own inode, content at its host path', () => {
    const src = path.join(dir, 'one');
    mkdirSync(path.join(src, 'sub'), { recursive: true });
    writeFileSync(path.join(src, 'sub', 'f.txt'), 'hello\n', { mode: 0o640 });
    const root = newDir();
    copyFromHost(root, src, '/app', { preserveOwner: false, where: 'test' });
    const node = lookup(root, '/app/sub/f.txt');
    expect(node).toBeInstanceOf(HostFile);
    if (node?.kind !== 'file') throw new Error('not a file');
    expect(node.inode).toBe(node);
    expect(node.inode.shared).toBeUndefined();
    expect(node.inode.content).toEqual({ kind: 'host', path: path.join(src, 'sub', 'f.txt') });
    expect([node.inode.mode, node.inode.uid, node.inode.gid, node.inode.size, node.inode.xattrs.size]).toEqual([0o640, 0, 0, 6, 0]);
  });

  it('hardlinked names share one Inode marked shared; a known digest is kept on the content', () => {
    const src = path.join(dir, 'links');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'a'), 'x');
    linkSync(path.join(src, 'a'), path.join(src, 'b'));
    writeFileSync(path.join(src, 'c'), 'y');
    const root = newDir();
    const digest = 'a'.repeat(64);
    copyFromHost(root, src, '/l', { preserveOwner: false, where: 'test', knownDigests: new Map([[path.join(src, 'c'), digest]]) });
    const [a, b, c] = ['a', 'b', 'c'].map((n) => lookup(root, `/l/${n}`));
    if (a?.kind !== 'file' || b?.kind !== 'file' || c?.kind !== 'file') throw new Error('not files');
    expect(a.inode).toBe(b.inode);
    expect(a.inode.shared).toBe(true);
    expect(a.inode.content.kind === 'host' && a.inode.content.path).toBe(path.join(src, 'a'));
    expect(c).not.toBeInstanceOf(HostFile);
    expect(c.inode.content).toMatchObject({ kind: 'host', path: path.join(src, 'c'), sha256: digest });
  });
});
