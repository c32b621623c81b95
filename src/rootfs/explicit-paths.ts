/**
 * Explicit `paths:` entries: directories, files with inline content and
 * symlinks, with owner, mode and POSIX ACLs. With an ACL, the permission bits
 * come from the ACL (owner = u::, group = m:: or g::, other = o::) so that an
 * extractor's chmod after setting the xattr cannot change the mask.
 */
import { ACL_XATTR_ACCESS, ACL_XATTR_DEFAULT, encodeAcl, modeForAcl, parseAclText } from '../codec/acl.js';
import type { PathEntry } from '../buildfile/types.js';
import { OciasmError } from '../errors.js';
import { insertNode, lookup } from './insert.js';
import { type DirNode, type Meta, type Node, newDir } from './tree.js';
import { imagePath } from './image-path.js';

export function parseOwner(owner: string, where: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(owner.trim());
  if (!m) throw new OciasmError('BUILDFILE_INVALID', `${where}.owner: "${owner}" must be numeric uid:gid`);
  const uid = Number(m[1]);
  const gid = Number(m[2] ?? m[1]);
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new OciasmError('BUILDFILE_INVALID', `${where}.owner: id out of range`);
  return { uid, gid };
}

export function parseMode(mode: string, where: string): number {
  if (!/^0?[0-7]{3,4}$/.test(mode.trim())) {
    throw new OciasmError('BUILDFILE_INVALID', `${where}.mode: "${mode}" must be octal, e.g. "0755"`);
  }
  return parseInt(mode, 8);
}

function aclXattr(text: string, key: string, where: string) {
  try {
    return parseAclText(text);
  } catch (e) {
    throw new OciasmError('ACL_INVALID', `${where}.${key}: ${(e as Error).message}`);
  }
}

const DEFAULT_MODES = { directory: 0o755, file: 0o644, symlink: 0o777 } as const;

export function applyPathEntry(root: DirNode, entry: PathEntry, where: string): void {
  const target = imagePath(entry.path, `${where}.path`);
  const existing = lookup(root, target);
  const keep = existing && existing.kind === entry.type && entry.type === 'directory' ? (existing as DirNode) : undefined;
  const meta: Meta = keep
    ? { mode: keep.mode, uid: keep.uid, gid: keep.gid, xattrs: new Map(keep.xattrs) }
    : { mode: DEFAULT_MODES[entry.type], uid: 0, gid: 0, xattrs: new Map() };
  if (entry.owner !== undefined) Object.assign(meta, parseOwner(entry.owner, where));
  if (entry.mode !== undefined) meta.mode = parseMode(entry.mode, where);
  if (entry.acl !== undefined) {
    const acl = aclXattr(entry.acl, 'acl', where);
    meta.xattrs.set(ACL_XATTR_ACCESS, encodeAcl(acl));
    meta.mode = modeForAcl(acl, meta.mode);
  }
  if (entry.defaultAcl !== undefined) {
    meta.xattrs.set(ACL_XATTR_DEFAULT, encodeAcl(aclXattr(entry.defaultAcl, 'defaultAcl', where)));
  }
  let node: Node;
  if (entry.type === 'directory') {
    node = newDir(meta);
  } else if (entry.type === 'symlink') {
    node = { kind: 'symlink', ...meta, target: entry.target! };
  } else {
    const data = Buffer.from(entry.content ?? '', 'utf8');
    node = { kind: 'file', inode: { ...meta, size: data.length, content: { kind: 'bytes', data } } };
  }
  insertNode(root, target, node, where);
}
