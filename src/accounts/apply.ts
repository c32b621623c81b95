/**
 * Accounts on top of any base, after `files` and `paths`: the merged
 * /etc/passwd, /etc/group (and /etc/shadow, /etc/gshadow when the image has
 * them) replace the old files with new contents and the old metadata; home
 * directories are created or handed to their user; then `user:` is resolved
 * to numbers from the merged files.
 */
import { open } from 'node:fs/promises';
import type { Accounts } from '../buildfile/types.js';
import { OciasmError, ioError } from '../errors.js';
import type { RuntimeSpec } from '../image/assemble.js';
import type { PlatformPlan } from '../plan/plan.js';
import { ensureDir, insertNode, lookup } from '../rootfs/insert.js';
import { type DirNode, type Inode, newDir, splitPath } from '../rootfs/tree.js';
import { checkAccounts } from './check.js';
import { type EtcFiles, mergeAccounts } from './etc-files.js';
import { resolveUser } from './resolve-user.js';

const FILES = { passwd: '/etc/passwd', group: '/etc/group', shadow: '/etc/shadow', gshadow: '/etc/gshadow' } as const;
type Key = keyof typeof FILES;
const MAX_BYTES = 16 << 20;

async function readInode(inode: Inode, name: string): Promise<string> {
  if (inode.size > MAX_BYTES) throw new OciasmError('ACCOUNTS_CONFLICT', `${name} is larger than ${MAX_BYTES} bytes`);
  const ref = inode.content;
  if (ref.kind === 'bytes') return ref.data.toString('utf8');
  const buf = Buffer.alloc(inode.size);
  try {
    const fh = await open(ref.path, 'r');
    try {
      await fh.read(buf, 0, inode.size, ref.kind === 'spool' ? ref.offset : 0);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw ioError(`cannot read ${name} from`, ref.path, e);
  }
  return buf.toString('utf8');
}

/** The image's account files, as text; a missing file is undefined. */
export async function readEtcFiles(root: DirNode, where: string): Promise<EtcFiles> {
  const files: EtcFiles = {};
  for (const key of Object.keys(FILES) as Key[]) {
    const node = lookup(root, FILES[key]);
    if (node === undefined) continue;
    if (node.kind !== 'file') {
      throw new OciasmError('ACCOUNTS_CONFLICT', `${where}: ${FILES[key]} is a ${node.kind}; accounts are only merged into a regular file`);
    }
    files[key] = await readInode(node.inode, FILES[key]);
  }
  return files;
}

function writeEtcFiles(root: DirNode, before: EtcFiles, after: EtcFiles, where: string): void {
  for (const key of Object.keys(FILES) as Key[]) {
    const text = after[key];
    if (text === undefined || text === before[key] || (text === '' && before[key] === undefined)) continue;
    const old = lookup(root, FILES[key]);
    const meta = old?.kind === 'file'
      ? { mode: old.inode.mode, uid: old.inode.uid, gid: old.inode.gid, xattrs: new Map(old.inode.xattrs) }
      : { mode: 0o644, uid: 0, gid: 0, xattrs: new Map<string, Buffer>() };
    const data = Buffer.from(text, 'utf8');
    // A new inode, as useradd writes a new file and renames it: hardlinks to the old one keep the old text.
    insertNode(root, FILES[key], { kind: 'file', inode: { ...meta, size: data.length, content: { kind: 'bytes', data } } }, `${where}: accounts`);
  }
}

/** Creates each home (0755, owned by its user), or hands an existing one to its user unless `paths` names it. */
function makeHomes(root: DirNode, accounts: Accounts, plan: PlatformPlan, where: string): void {
  const named = new Set(plan.paths.map((p) => splitPath(p.path).join('/')));
  accounts.users.forEach((u, i) => {
    const at = `${where}: accounts.users[${i}].home`;
    const comps = splitPath(u.home);
    if (!u.createHome || comps.length === 0 || named.has(comps.join('/'))) return;
    const existing = lookup(root, u.home);
    if (existing === undefined) {
      const parent = ensureDir(root, comps.slice(0, -1).join('/'), at);
      parent.children.set(comps[comps.length - 1]!, newDir({ uid: u.uid, gid: u.gid }));
    } else if (existing.kind === 'directory') {
      existing.uid = u.uid;
      existing.gid = u.gid;
    } else {
      throw new OciasmError('ACCOUNTS_CONFLICT', `${at}: ${u.home} is a ${existing.kind}, not a directory (set createHome: false to leave it)`);
    }
  });
}

/** Applies `accounts:` and returns the runtime spec with `user:` resolved to numbers. */
export async function applyAccounts(root: DirNode, plan: PlatformPlan, where: string): Promise<RuntimeSpec> {
  const accounts = plan.accounts;
  const user = plan.runtime.user;
  if (!accounts && (user === undefined || /^\d+(:\d+)?$/.test(user))) return plan.runtime;
  if (accounts) checkAccounts(accounts, where);
  const before = await readEtcFiles(root, where);
  let files = before;
  if (accounts) {
    files = mergeAccounts(before, accounts, where);
    writeEtcFiles(root, before, files, where);
    makeHomes(root, accounts, plan, where);
  }
  return user === undefined ? plan.runtime : { ...plan.runtime, user: resolveUser(user, files, where) };
}
