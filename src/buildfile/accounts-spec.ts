/**
 * Validation of the build file's `accounts:` key. Every field that ends up
 * in /etc/passwd or /etc/group is checked so it cannot break those files.
 */
import type { AccountGroup, Accounts, AccountUser } from './types.js';

/** Throws the build file's error for `where` (relative to the image, e.g. `accounts.users[0].uid`). */
export type Fail = (where: string, msg: string) => never;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const MAX_ID = 4294967294; // (uid_t)-1 means "no id"
const GROUP_KEYS = ['name', 'gid', 'members'];
const USER_KEYS = ['name', 'uid', 'gid', 'home', 'shell', 'gecos', 'createHome'];

type Obj = Record<string, unknown>;

function mapping(v: unknown, where: string, keys: string[], fail: Fail): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(where, 'must be a mapping');
  for (const k of Object.keys(v)) if (!keys.includes(k)) fail(`${where}.${k}`, `unknown key "${k}" (allowed: ${keys.join(', ')})`);
  return v as Obj;
}

function list(v: unknown, where: string, fail: Fail): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return fail(where, 'must be a list');
  return v;
}

function name(v: unknown, where: string, fail: Fail): string {
  if (typeof v !== 'string' || !NAME.test(v)) {
    return fail(where, `${JSON.stringify(v)} is not a valid account name (a letter or _, then letters, digits, . _ -; at most 32)`);
  }
  return v;
}

function id(v: unknown, where: string, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ID) return fail(where, `must be a whole number from 0 to ${MAX_ID}`);
  return v;
}

function field(v: unknown, where: string, fallback: string, fail: Fail): string {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || /[:\n\r\0]/.test(v)) return fail(where, 'must be a string without ":" or line breaks');
  return v;
}

function unique<T>(items: T[], key: (t: T) => string | number, what: string, where: string, fail: Fail): void {
  const seen = new Set<string | number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) fail(`${where}[${i}]`, `${what} ${k} is listed twice`);
    seen.add(k);
  });
}

function group(v: unknown, where: string, fail: Fail): AccountGroup {
  const o = mapping(v, where, GROUP_KEYS, fail);
  const members = list(o.members, `${where}.members`, fail).map((m, i) => name(m, `${where}.members[${i}]`, fail));
  return { name: name(o.name, `${where}.name`, fail), gid: id(o.gid, `${where}.gid`, fail), members };
}

function user(v: unknown, where: string, fail: Fail): AccountUser {
  const o = mapping(v, where, USER_KEYS, fail);
  const n = name(o.name, `${where}.name`, fail);
  const home = field(o.home, `${where}.home`, `/home/${n}`, fail);
  if (!home.startsWith('/')) fail(`${where}.home`, `"${home}" must be an absolute path`);
  const createHome = o.createHome ?? true;
  if (typeof createHome !== 'boolean') fail(`${where}.createHome`, 'must be true or false');
  if (o.gid === undefined) fail(`${where}.gid`, 'is required (the primary group)');
  return {
    name: n, uid: id(o.uid, `${where}.uid`, fail), gid: id(o.gid, `${where}.gid`, fail), home,
    shell: field(o.shell, `${where}.shell`, '/sbin/nologin', fail), gecos: field(o.gecos, `${where}.gecos`, '', fail),
    createHome: createHome as boolean,
  };
}

export function parseAccounts(v: unknown, fail: Fail): Accounts {
  const o = mapping(v, 'accounts', ['groups', 'users'], fail);
  const groups = list(o.groups, 'accounts.groups', fail).map((g, i) => group(g, `accounts.groups[${i}]`, fail));
  const users = list(o.users, 'accounts.users', fail).map((u, i) => user(u, `accounts.users[${i}]`, fail));
  unique(groups, (g) => g.name, 'group name', 'accounts.groups', fail);
  unique(groups, (g) => g.gid, 'gid', 'accounts.groups', fail);
  unique(users, (u) => u.name, 'user name', 'accounts.users', fail);
  unique(users, (u) => u.uid, 'uid', 'accounts.users', fail);
  return { groups, users };
}
