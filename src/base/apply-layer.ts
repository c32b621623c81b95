/**
 * Applies one base layer to the tree by the OCI layer rules (docs/squash.md):
 * - `.wh..wh..opq` empties the lower contents of its directory and applies
 *   first, wherever it sits in the layer; `.wh.<name>` removes a lower path.
 *   Both touch only what lower layers made: they run before this layer's
 *   entries, so whiteouts under a path this layer turns into a file (as umoci
 *   writes them) are no-ops;
 * - a directory over a directory replaces only its attributes, anything else
 *   replaces the path with its whole subtree;
 * - a hardlink shares its target's inode (which may come from a lower layer):
 *   it keeps that content when the target path is overwritten later, and it
 *   survives the removal of the target's name;
 * - entries are never written through a symlink or any other non-directory.
 * File bodies go to the spool as they are read; only metadata stays in memory.
 */
import type { TarEntry, TarHeader } from '../codec/tar/types.js';
import { OciasmError } from '../errors.js';
import { lookup, removeNode } from '../rootfs/insert.js';
import { type DirNode, EMPTY_XATTRS, type Meta, type Node, newDir, splitPath } from '../rootfs/tree.js';
import type { Spool } from './spool.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
/** `.wh..wh.plnk`, `.wh..wh.aufs`, ...: AUFS bookkeeping, skipped at the top level as Docker does. */
const AUFS_META = '.wh..wh.';

export interface LayerApplyStats {
  entries: number;
  whiteouts: number;
  skipped: number;
}

interface Pending {
  header: TarHeader;
  node?: Node; // undefined for hardlinks, resolved in order when applied
}

function invalid(label: string, path: string, reason: string): OciasmError {
  return new OciasmError('LAYER_INVALID', `base layer ${label}: entry "${path}": ${reason}`);
}

function checkPath(p: string, label: string, entry: string, what = 'path'): string[] {
  const comps = splitPath(p);
  if (comps.includes('..')) throw invalid(label, entry, `${what} "${p}" contains ".."`);
  return comps;
}

function meta(h: TarHeader): Meta {
  return { mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, xattrs: h.xattrs && h.xattrs.size > 0 ? new Map(h.xattrs) : EMPTY_XATTRS };
}

/** What a whiteout entry hides: its directory (opaque) or one path. */
function whiteoutTarget(comps: string[], label: string, entry: string): { opaque: boolean; comps: string[] } {
  const dir = comps.slice(0, -1);
  const base = comps[comps.length - 1]!;
  if (base === OPAQUE) return { opaque: true, comps: dir };
  const name = base.slice(WHITEOUT.length);
  if (name === '') throw invalid(label, entry, 'a bare ".wh." whiteout names nothing');
  if (name === '.' || name === '..') {
    const whose = dir.length <= (name === '..' ? 1 : 0) ? 'the root directory' : 'a directory that holds it';
    throw invalid(label, entry, `"${base}" is a whiteout of ${whose}`);
  }
  if (name.startsWith(WHITEOUT)) throw invalid(label, entry, `"${base}" is a reserved whiteout name`);
  return { opaque: false, comps: [...dir, name] };
}

export async function applyLayer(root: DirNode, entries: AsyncIterable<TarEntry>, spool: Spool, label: string): Promise<LayerApplyStats> {
  const pending: Pending[] = [];
  const opaque: string[][] = [];
  const whiteouts: string[][] = [];
  let skipped = 0;
  for await (const { header, body } of entries) {
    const comps = checkPath(header.path, label, header.path);
    if (comps.length === 0) {
      // The archive root ("./"): extractors keep their own root directory.
      if (header.type !== 'directory') throw invalid(label, header.path, `the root entry is a ${header.type}, not a directory`);
      continue;
    }
    if (comps[0]!.startsWith(AUFS_META) && comps[0] !== OPAQUE) {
      skipped++;
      continue;
    }
    const inner = comps.slice(0, -1).find((c) => c.startsWith(WHITEOUT));
    if (inner !== undefined) throw invalid(label, header.path, `whiteout name "${inner}" used as a directory`);
    if (comps[comps.length - 1]!.startsWith(WHITEOUT)) {
      const w = whiteoutTarget(comps, label, header.path);
      (w.opaque ? opaque : whiteouts).push(w.comps);
      continue;
    }
    // The components are split again when placed: keeping every entry's array until then costs O(depth²) memory on a deep tree.
    pending.push({ header, node: await toNode(header, body, spool) });
  }
  for (const dir of opaque) {
    const node = lookup(root, dir.join('/'));
    if (node?.kind === 'directory') node.children.clear();
  }
  for (const w of whiteouts) removeNode(root, w.join('/'));
  for (const { header, node } of pending) {
    place(root, splitPath(header.path), node ?? linkedNode(root, header, label), label, header.path);
  }
  return { entries: pending.length, whiteouts: whiteouts.length + opaque.length, skipped };
}

/** The node a hardlink entry stands for: its target's inode for a file, a copy for other non-directories. */
function linkedNode(root: DirNode, h: TarHeader, label: string): Node {
  const comps = checkPath(h.linkname ?? '', label, h.path, 'hardlink target');
  if (comps.length === 0) throw invalid(label, h.path, 'hardlink to the root directory');
  const target = lookup(root, comps.join('/'));
  if (target === undefined) throw invalid(label, h.path, `hardlink target "${h.linkname}" does not exist`);
  switch (target.kind) {
    case 'file':
      target.inode.shared = true;
      return { kind: 'file', inode: target.inode };
    case 'directory':
      throw invalid(label, h.path, `hardlink target "${h.linkname}" is a directory`);
    default:
      return { ...target, xattrs: new Map(target.xattrs) };
  }
}

/**
 * Puts a node at `comps`: missing parents are created (0755, 0:0) as
 * extractors do; a parent that is a symlink, file or device is an error.
 */
function place(root: DirNode, comps: string[], node: Node, label: string, entry: string): void {
  let dir = root;
  for (let i = 0; i < comps.length - 1; i++) {
    const name = comps[i]!;
    let next = dir.children.get(name);
    if (next === undefined) {
      next = newDir();
      dir.children.set(name, next);
    }
    if (next.kind !== 'directory') {
      const at = comps.slice(0, i + 1).join('/');
      throw invalid(label, entry, `parent "${at}" is a ${next.kind}, not a directory (entries are never written through it)`);
    }
    dir = next;
  }
  const name = comps[comps.length - 1]!;
  const existing = dir.children.get(name);
  if (existing?.kind === 'directory' && node.kind === 'directory') {
    existing.mode = node.mode;
    existing.uid = node.uid;
    existing.gid = node.gid;
    existing.xattrs = node.xattrs;
    return;
  }
  dir.children.set(name, node);
}

async function toNode(h: TarHeader, body: AsyncIterable<Buffer>, spool: Spool): Promise<Node | undefined> {
  switch (h.type) {
    case 'file': {
      const { ref, size } = h.size > 0 ? await spool.write(body) : { ref: { kind: 'bytes' as const, data: Buffer.alloc(0) }, size: 0 };
      return { kind: 'file', inode: { ...meta(h), size, content: ref } };
    }
    case 'directory':
      return newDir(meta(h));
    case 'symlink':
      return { kind: 'symlink', ...meta(h), target: h.linkname ?? '' };
    case 'char':
    case 'block':
      return { kind: h.type, ...meta(h), devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0 };
    case 'fifo':
      return { kind: 'fifo', ...meta(h) };
    case 'hardlink':
      return undefined;
  }
}
