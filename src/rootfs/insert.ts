/**
 * Placing nodes into the tree by path, with the rules shared by base layers
 * and injected files: missing parents are created (0755, 0:0), a symlink on
 * the way is never followed, a directory over a directory replaces only its
 * attributes, anything else replaces what was there, subtree included.
 */
import { OciasmError } from '../errors.js';
import { entryComponents } from './image-path.js';
import { type DirNode, type Node, newDir, splitPath } from './tree.js';

export function parentDir(root: DirNode, components: string[], where: string, create: boolean): DirNode | undefined {
  let dir = root;
  for (let i = 0; i < components.length; i++) {
    const name = components[i]!;
    let next = dir.children.get(name);
    if (next === undefined) {
      if (!create) return undefined;
      next = newDir();
      dir.children.set(name, next);
    }
    if (next.kind !== 'directory') {
      const at = '/' + components.slice(0, i + 1).join('/');
      if (!create) return undefined;
      throw new OciasmError('PATH_ESCAPES', `${where}: parent ${at} is a ${next.kind}, not a directory (symlinks are never followed)`);
    }
    dir = next;
  }
  return dir;
}

export function lookup(root: DirNode, path: string): Node | undefined {
  const comps = splitPath(path);
  if (comps.length === 0) return root;
  const dir = parentDir(root, comps.slice(0, -1), path, false);
  return dir?.children.get(comps[comps.length - 1]!);
}

/** Puts `node` at `path`. Returns the node now at that path. */
export function insertNode(root: DirNode, path: string, node: Node, where: string): Node {
  const comps = entryComponents(path, where);
  if (comps.length === 0) {
    if (node.kind !== 'directory') throw new OciasmError('PATH_ESCAPES', `${where}: cannot replace / with a ${node.kind}`);
    copyDirAttrs(root, node);
    return root;
  }
  const dir = parentDir(root, comps.slice(0, -1), where, true)!;
  const name = comps[comps.length - 1]!;
  const existing = dir.children.get(name);
  if (existing?.kind === 'directory' && node.kind === 'directory') {
    copyDirAttrs(existing, node);
    return existing;
  }
  dir.children.set(name, node);
  return node;
}

function copyDirAttrs(target: DirNode, from: DirNode): void {
  target.mode = from.mode;
  target.uid = from.uid;
  target.gid = from.gid;
  target.xattrs = new Map(from.xattrs);
}

/** Like insertNode, but a directory over a directory merges the children recursively. */
export function mergeNode(root: DirNode, path: string, node: Node, where: string): void {
  const placed = insertNode(root, path, node, where);
  if (placed === node || node.kind !== 'directory') return;
  for (const [name, child] of node.children) mergeNode(root, `${path}/${name}`, child, where);
}

export function removeNode(root: DirNode, path: string): boolean {
  const comps = splitPath(path);
  if (comps.length === 0) return false;
  const dir = parentDir(root, comps.slice(0, -1), path, false);
  return dir?.children.delete(comps[comps.length - 1]!) ?? false;
}

/** Ensures a directory exists at `path` (creating parents), returning it. */
export function ensureDir(root: DirNode, path: string, where: string): DirNode {
  const comps = entryComponents(path, where);
  return parentDir(root, comps, where, true)!;
}

export { newDir };
