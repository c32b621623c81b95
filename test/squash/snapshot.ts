/**
 * A comparable picture of an extracted tree: per path its type, mode, owner,
 * size, content hash, link target, device numbers and xattrs; plus which
 * names share an inode (hardlinks). The root directory itself is left out.
 */
import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';

export interface Snapshot {
  entries: Record<string, string>;
  /** Groups of names sharing one inode, each sorted, the list sorted. */
  hardlinks: string[][];
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

function xattrs(p: string): string {
  return listAttributesSync(p)
    .sort()
    .map((n) => `${n}=${getAttributeSync(p, n)?.toString('hex')}`)
    .join(',');
}

export function snapshot(root: string): Snapshot {
  const entries: Record<string, string> = {};
  const inodes = new Map<number, string[]>();
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const rel = path.relative(root, p);
      const st = lstatSync(p);
      const k = kind(st);
      const parts = [k, (st.mode & 0o7777).toString(8), `${st.uid}:${st.gid}`];
      if (k === 'file') {
        parts.push(`size=${st.size}`, `sha256=${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`);
        if (st.nlink > 1) inodes.set(st.ino, [...(inodes.get(st.ino) ?? []), rel]);
      }
      if (k === 'symlink') parts.push(`-> ${readlinkSync(p)}`);
      if (k === 'char' || k === 'block') parts.push(`rdev=${st.rdev}`);
      if (k !== 'symlink') parts.push(`xattrs[${xattrs(p)}]`);
      entries[rel] = parts.join(' ');
      if (k === 'dir') visit(p);
    }
  };
  visit(root);
  const hardlinks = [...inodes.values()].map((g) => g.sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));
  return { entries, hardlinks };
}
