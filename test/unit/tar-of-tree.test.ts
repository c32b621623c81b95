/**
 * The layer's tar writer (layer/tar-of-tree.ts) writes into one reused
 * buffer. Its bytes must not depend on the buffer's size (chunk boundaries
 * inside headers, contents and padding), and must equal the reference
 * encoder's output entry by entry (encodeHeader + body + padding).
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../../src/codec/tar/encode.js';
import { decodeTar } from '../../src/codec/tar/index.js';
import { tarOfTreeSync } from '../../src/layer/tar-of-tree.js';
import { copyFromHost } from '../../src/rootfs/host.js';
import { insertNode } from '../../src/rootfs/insert.js';
import { type DirNode, type Inode, newDir, walkTree } from '../../src/rootfs/tree.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ociasm-tartree-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeTree(): DirNode {
  const src = path.join(dir, 'src');
  for (let i = 0; i < 60; i++) {
    const d = path.join(src, `d${i % 7}`, i % 3 === 0 ? 'x'.repeat(90) : 'y');
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, `f${i}.js`), Buffer.alloc((i * 977) % 5000, String.fromCharCode(97 + (i % 26))));
  }
  const root = newDir();
  copyFromHost(root, src, '/app', { preserveOwner: false, where: 'test' });
  const data = Buffer.from('in memory\n');
  const shared: Inode = { mode: 0o600, uid: 3000000, gid: 7, xattrs: new Map([['user.k', Buffer.from([0, 255, 1])]]), size: data.length, content: { kind: 'bytes', data }, shared: true };
  insertNode(root, '/etc/a', { kind: 'file', inode: shared }, 'test');
  insertNode(root, '/etc/b-hardlink', { kind: 'file', inode: shared }, 'test');
  insertNode(root, '/etc/link', { kind: 'symlink', target: 'z'.repeat(120), mode: 0o777, uid: 0, gid: 0, xattrs: new Map() }, 'test');
  insertNode(root, '/dev/null', { kind: 'char', devmajor: 1, devminor: 3, mode: 0o666, uid: 0, gid: 0, xattrs: new Map() }, 'test');
  insertNode(root, '/ünï/cödé', { kind: 'directory', mode: 0o1777, uid: 0, gid: 0, xattrs: new Map(), children: new Map() }, 'test');
  return root;
}

/** The reference: each entry through encodeHeader, like the writer before its fast path. */
function reference(root: DirNode, mtime: number): Buffer {
  const parts: Buffer[] = [];
  const first = new Map<Inode, string>();
  for (const { path: p, node } of walkTree(root)) {
    const m = node.kind === 'file' ? node.inode : node;
    const common = { path: p, mtime, mode: m.mode, uid: m.uid, gid: m.gid };
    if (node.kind === 'file') {
      const linkTo = first.get(node.inode);
      if (linkTo) { parts.push(encodeHeader({ ...common, type: 'hardlink', linkname: linkTo, size: 0 })); continue; }
      first.set(node.inode, p);
      const ref = node.inode.content;
      const body = ref.kind === 'bytes' ? ref.data : readFileSync(ref.path);
      parts.push(encodeHeader({ ...common, type: 'file', size: node.inode.size, xattrs: m.xattrs }), body, padding(body.length));
    } else if (node.kind === 'symlink') parts.push(encodeHeader({ ...common, type: 'symlink', linkname: node.target, size: 0, xattrs: m.xattrs }));
    else if (node.kind === 'char' || node.kind === 'block') parts.push(encodeHeader({ ...common, type: node.kind, devmajor: node.devmajor, devminor: node.devminor, size: 0, xattrs: m.xattrs }));
    else parts.push(encodeHeader({ ...common, type: node.kind, size: 0, xattrs: m.xattrs }));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

function tarWith(root: DirNode, mtime: number, buffer?: Buffer): Buffer {
  const stats = { entries: 0, files: 0, contentBytes: 0 };
  // Each chunk is a view of the reused buffer: copy it, as the layer's consumers do.
  const parts: Buffer[] = [];
  for (const c of tarOfTreeSync(root, mtime, stats, buffer)) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('tarOfTree', () => {
  it('writes the reference bytes whatever its buffer size', async () => {
    const root = makeTree();
    const want = reference(root, 1_700_000_000);
    for (const size of [512, 1024, 1536, 4096, 700, 1 << 20]) {
      expect(tarWith(root, 1_700_000_000, Buffer.alloc(size, 0xee)).equals(want), `buffer of ${size}`).toBe(true);
    }
    expect(tarWith(root, 1_700_000_000).equals(want)).toBe(true);
    // An mtime the ustar field cannot hold takes the PAX path for every entry.
    expect(tarWith(root, -5, Buffer.alloc(1024)).equals(reference(root, -5))).toBe(true);
    // And a real reader agrees on what is inside.
    const names: string[] = [];
    for await (const e of decodeTar((async function* () { yield want; })())) { names.push(e.header.path); for await (const _ of e.body); }
    expect(names).toContain('etc/b-hardlink');
    expect(names.filter((n) => n.startsWith('app/'))).toHaveLength(60 + 7 + 7 + 7); // files, d*, d*/x…, d*/y
  });
});
