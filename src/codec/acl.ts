/**
 * POSIX ACL codec: the short/long text form used by setfacl/getfacl and the
 * kernel's `system.posix_acl_access` / `system.posix_acl_default` xattr value
 * (linux include/uapi/linux/posix_acl_xattr.h): a little-endian u32 version 2,
 * then 8-byte entries `u16 tag, u16 perm, u32 id`, sorted by tag then id.
 */
import { OciasmError } from '../errors.js';

export const ACL_XATTR_ACCESS = 'system.posix_acl_access';
export const ACL_XATTR_DEFAULT = 'system.posix_acl_default';

export const AclTag = { UserObj: 0x01, User: 0x02, GroupObj: 0x04, Group: 0x08, Mask: 0x10, Other: 0x20 } as const;
const UNDEFINED_ID = 0xffffffff;
const VERSION = 2;

export interface AclEntry {
  tag: number;
  perm: number; // r=4 w=2 x=1
  id: number; // UNDEFINED_ID for entries without a qualifier
}

const TAG_NAMES: Record<string, { named: number; obj: number }> = {
  u: { named: AclTag.User, obj: AclTag.UserObj },
  user: { named: AclTag.User, obj: AclTag.UserObj },
  g: { named: AclTag.Group, obj: AclTag.GroupObj },
  group: { named: AclTag.Group, obj: AclTag.GroupObj },
  m: { named: -1, obj: AclTag.Mask },
  mask: { named: -1, obj: AclTag.Mask },
  o: { named: -1, obj: AclTag.Other },
  other: { named: -1, obj: AclTag.Other },
};

function parsePerm(text: string, entry: string): number {
  if (!/^[rwx-]{1,3}$/.test(text)) throw aclError(`bad permissions "${text}" in entry "${entry}"`);
  let perm = 0;
  for (const c of text) {
    const bit = c === 'r' ? 4 : c === 'w' ? 2 : c === 'x' ? 1 : 0;
    if (bit !== 0 && perm & bit) throw aclError(`repeated permission in entry "${entry}"`);
    perm |= bit;
  }
  return perm;
}

function aclError(detail: string): OciasmError {
  return new OciasmError('ACL_INVALID', `invalid ACL: ${detail}`);
}

/**
 * Parses `u::rwx,g::r-x,g:2000:rwx,m::rwx,o::---`. Qualifiers must be numeric
 * ids. When named entries are present and no mask is given, the mask is the
 * union of the group-class permissions, as setfacl computes it.
 */
export function parseAclText(text: string): AclEntry[] {
  const parts = text.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw aclError('empty ACL');
  const entries: AclEntry[] = [];
  for (const part of parts) {
    const fields = part.split(':');
    if (fields.length !== 3) throw aclError(`entry "${part}" is not of the form tag:qualifier:perms`);
    const [tagText, qualifier, permText] = fields as [string, string, string];
    const tag = TAG_NAMES[tagText];
    if (!tag) throw aclError(`unknown tag "${tagText}" in entry "${part}"`);
    const perm = parsePerm(permText, part);
    if (qualifier === '') {
      entries.push({ tag: tag.obj, perm, id: UNDEFINED_ID });
      continue;
    }
    if (tag.named < 0) throw aclError(`entry "${part}" cannot name a user or group`);
    if (!/^\d+$/.test(qualifier) || Number(qualifier) >= UNDEFINED_ID) {
      throw aclError(`qualifier "${qualifier}" in entry "${part}" must be a numeric id`);
    }
    entries.push({ tag: tag.named, perm, id: Number(qualifier) });
  }
  return normalizeAcl(entries);
}

/** Sorts, checks for duplicates and required entries, and adds a computed mask. */
export function normalizeAcl(input: AclEntry[]): AclEntry[] {
  const entries = [...input].sort((a, b) => a.tag - b.tag || a.id - b.id);
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.tag === entries[i - 1]!.tag && entries[i]!.id === entries[i - 1]!.id) {
      throw aclError(`duplicate entry for ${describe(entries[i]!)}`);
    }
  }
  const has = (tag: number) => entries.some((e) => e.tag === tag);
  for (const [tag, name] of [[AclTag.UserObj, 'u::'], [AclTag.GroupObj, 'g::'], [AclTag.Other, 'o::']] as const) {
    if (!has(tag)) throw aclError(`missing required entry ${name}`);
  }
  const named = entries.some((e) => e.tag === AclTag.User || e.tag === AclTag.Group);
  if (named && !has(AclTag.Mask)) {
    const perm = entries
      .filter((e) => e.tag === AclTag.User || e.tag === AclTag.Group || e.tag === AclTag.GroupObj)
      .reduce((p, e) => p | e.perm, 0);
    entries.push({ tag: AclTag.Mask, perm, id: UNDEFINED_ID });
    entries.sort((a, b) => a.tag - b.tag || a.id - b.id);
  }
  return entries;
}

function describe(e: AclEntry): string {
  const name = Object.entries(AclTag).find(([, v]) => v === e.tag)?.[0] ?? `tag ${e.tag}`;
  return e.id === UNDEFINED_ID ? name : `${name} ${e.id}`;
}

export function encodeAcl(entries: AclEntry[]): Buffer {
  const buf = Buffer.alloc(4 + entries.length * 8);
  buf.writeUInt32LE(VERSION, 0);
  entries.forEach((e, i) => {
    buf.writeUInt16LE(e.tag, 4 + i * 8);
    buf.writeUInt16LE(e.perm, 6 + i * 8);
    buf.writeUInt32LE(e.id, 8 + i * 8);
  });
  return buf;
}

export function decodeAcl(value: Uint8Array): AclEntry[] {
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (buf.length < 4 || (buf.length - 4) % 8 !== 0) throw aclError(`xattr value of ${buf.length} bytes`);
  if (buf.readUInt32LE(0) !== VERSION) throw aclError(`unsupported version ${buf.readUInt32LE(0)}`);
  const entries: AclEntry[] = [];
  for (let off = 4; off < buf.length; off += 8) {
    entries.push({ tag: buf.readUInt16LE(off), perm: buf.readUInt16LE(off + 2), id: buf.readUInt32LE(off + 4) });
  }
  return entries;
}

const PERM_TEXT = (p: number) => `${p & 4 ? 'r' : '-'}${p & 2 ? 'w' : '-'}${p & 1 ? 'x' : '-'}`;

export function formatAcl(entries: AclEntry[]): string {
  const letter: Record<number, string> = {
    [AclTag.UserObj]: 'u', [AclTag.User]: 'u', [AclTag.GroupObj]: 'g',
    [AclTag.Group]: 'g', [AclTag.Mask]: 'm', [AclTag.Other]: 'o',
  };
  return entries
    .map((e) => `${letter[e.tag] ?? '?'}:${e.id === UNDEFINED_ID ? '' : e.id}:${PERM_TEXT(e.perm)}`)
    .join(',');
}

/**
 * The permission bits a file must have so that an extractor's chmod after
 * setting the ACL keeps it intact: owner = u::, group = m:: (or g:: without a
 * mask), other = o::. Special bits (setuid/setgid/sticky) come from `mode`.
 */
export function modeForAcl(entries: AclEntry[], mode: number): number {
  const perm = (tag: number) => entries.find((e) => e.tag === tag)?.perm;
  const user = perm(AclTag.UserObj) ?? (mode >> 6) & 7;
  const group = perm(AclTag.Mask) ?? perm(AclTag.GroupObj) ?? (mode >> 3) & 7;
  const other = perm(AclTag.Other) ?? mode & 7;
  return (mode & 0o7000) | (user << 6) | (group << 3) | other;
}
