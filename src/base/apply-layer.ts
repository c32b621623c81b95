/**
 * Applies one base layer to the tree by the OCI layer rules:
 * - `.wh..wh..opq` empties the lower contents of its directory, and applies
 *   first wherever it sits in the layer; `.wh.<name>` removes a lower path;
 *   both only touch what lower layers made (whiteouts under a path this layer
 *   turns into a file, as umoci writes them, are no-ops);
 * - a directory over a directory replaces only its attributes, anything else
 *   replaces the path with its whole subtree;
 * - a hardlink shares its target's inode, which may come from a lower layer.
 */
import type { TarEntry, TarHeader } from '../codec/tar/types.js';
import { OciasmError } from '../errors.js';
import { insertNode, lookup, removeNode } from '../rootfs/insert.js';
import { type DirNode, type Meta, type Node, splitPath } from '../rootfs/tree.js';
import type { Spool } from './spool.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

interface Pending {
  header: TarHeader;
  node?: Node; // undefined for hardlinks, resolved when applied
}

function checkPath(p: string, label: string): string[] {
  const comps = splitPath(p);
  if (comps.includes('..')) throw new OciasmError('LAYER_INVALID', `layer ${label}: entry "${p}" contains ".."`);
  return comps;
}

function meta(h: TarHeader): Meta {
  return { mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, xattrs: new Map(h.xattrs ?? []) };
}

export interface LayerApplyStats {
  entries: number;
  whiteouts: number;
}

export async function applyLayer(root: DirNode, entries: AsyncIterable<TarEntry>, spool: Spool, label: string): Promise<LayerApplyStats> {
  const pending: Pending[] = [];
  const opaque: string[][] = [];
  const whiteouts: string[][] = [];
  for await (const { header, body } of entries) {
    const comps = checkPath(header.path, label);
    const base = comps[comps.length - 1];
    if (base !== undefined && base.startsWith(WHITEOUT)) {
      const dir = comps.slice(0, -1);
      if (base === OPAQUE) opaque.push(dir);
      else {
        const name = base.slice(WHITEOUT.length);
        if (name === '' || name === '.' || name === '..' || name.startsWith(WHITEOUT)) {
          throw new OciasmError('LAYER_INVALID', `layer ${label}: bad whiteout "${header.path}"`);
        }
        whiteouts.push([...dir, name]);
      }
      continue;
    }
    if (comps.length === 0) continue; // the root directory's own entry
    pending.push({ header, node: await toNode(header, body, spool) });
  }
  for (const dir of opaque) {
    const node = dir.length === 0 ? root : lookup(root, dir.join('/'));
    if (node?.kind === 'directory') node.children.clear();
  }
  for (const w of whiteouts) removeNode(root, w.join('/'));
  for (const { header, node } of pending) {
    const where = `layer ${label}: entry "${header.path}"`;
    if (header.type === 'hardlink') {
      const target = lookup(root, checkPath(header.linkname ?? '', label).join('/'));
      if (target?.kind !== 'file') {
        throw new OciasmError('LAYER_INVALID', `${where}: hardlink target "${header.linkname}" is ${target ? `a ${target.kind}` : 'missing'}`);
      }
      insertLayerNode(root, header.path, { kind: 'file', inode: target.inode }, where);
    } else {
      insertLayerNode(root, header.path, node!, where);
    }
  }
  return { entries: pending.length, whiteouts: whiteouts.length + opaque.length };
}

/** Inserts, replacing a non-directory parent as an extractor would (it unlinks and mkdirs). */
function insertLayerNode(root: DirNode, p: string, node: Node, where: string): void {
  const comps = splitPath(p);
  let dir = root;
  for (const name of comps.slice(0, -1)) {
    let next = dir.children.get(name);
    if (next?.kind !== 'directory') {
      next = { kind: 'directory', mode: 0o755, uid: 0, gid: 0, xattrs: new Map(), children: new Map() };
      dir.children.set(name, next);
    }
    dir = next;
  }
  insertNode(dir, comps[comps.length - 1]!, node, where);
}

async function toNode(h: TarHeader, body: AsyncIterable<Buffer>, spool: Spool): Promise<Node | undefined> {
  switch (h.type) {
    case 'file': {
      const { ref, size } = h.size > 0 ? await spool.write(body) : { ref: { kind: 'bytes' as const, data: Buffer.alloc(0) }, size: 0 };
      return { kind: 'file', inode: { ...meta(h), size, content: ref } };
    }
    case 'directory':
      return { kind: 'directory', ...meta(h), children: new Map() };
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
