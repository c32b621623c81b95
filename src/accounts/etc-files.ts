/**
 * /etc/passwd, /etc/group, /etc/shadow and /etc/gshadow as text: parsing for
 * look-ups, and merging the build file's accounts into them. Existing lines
 * are never rewritten, except that a group already present with the same
 * name and gid gets the listed members it lacks. New lines are appended in
 * the build file's order: groups first, then users.
 */
import type { AccountGroup, Accounts, AccountUser } from '../buildfile/types.js';
import { OciasmError } from '../errors.js';

export interface EtcFiles {
  passwd?: string;
  group?: string;
  shadow?: string;
  gshadow?: string;
}

export interface PasswdLine {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupLine {
  name: string;
  gid: number;
  members: string[];
}

function fields(text: string | undefined, min: number): string[][] {
  return (text ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':')).filter((f) => f.length >= min);
}

export function parsePasswd(text: string | undefined): PasswdLine[] {
  return fields(text, 7).map(([name, , uid, gid, gecos, home, shell]) => ({
    name: name!, uid: Number(uid), gid: Number(gid), gecos: gecos!, home: home!, shell: shell!,
  }));
}

export function parseGroup(text: string | undefined): GroupLine[] {
  return fields(text, 4).map(([name, , gid, members]) => ({
    name: name!, gid: Number(gid), members: members ? members.split(',').filter((m) => m !== '') : [],
  }));
}

function conflict(where: string, msg: string): OciasmError {
  return new OciasmError('ACCOUNTS_CONFLICT', `${where}: ${msg}`);
}

function append(text: string | undefined, lines: string[]): string {
  const base = text ?? '';
  if (lines.length === 0) return base;
  return `${base}${base === '' || base.endsWith('\n') ? '' : '\n'}${lines.join('\n')}\n`;
}

/** Adds members to the existing line of group `name` (in /etc/group or /etc/gshadow, members are the 4th field). */
function addMembers(text: string, name: string, add: string[]): string {
  return text.split('\n').map((line) => {
    const f = line.split(':');
    if (f[0] !== name || f.length < 4) return line;
    const have = f[3] ? f[3].split(',') : [];
    f[3] = [...have, ...add.filter((m) => !have.includes(m))].join(',');
    return f.join(':');
  }).join('\n');
}

function mergeGroup(g: AccountGroup, existing: GroupLine[], files: EtcFiles, at: string, out: { group: string[]; gshadow: string[] }): void {
  const byName = existing.find((e) => e.name === g.name);
  const byId = existing.find((e) => e.gid === g.gid);
  if (byName && byName.gid !== g.gid) throw conflict(at, `group "${g.name}" already exists with gid ${byName.gid}, not ${g.gid}`);
  if (byId && byId.name !== g.name) throw conflict(at, `gid ${g.gid} already belongs to group "${byId.name}"`);
  if (byName) {
    const missing = g.members.filter((m) => !byName.members.includes(m));
    if (missing.length > 0) {
      files.group = addMembers(files.group!, g.name, missing);
      if (files.gshadow !== undefined) files.gshadow = addMembers(files.gshadow, g.name, missing);
    }
    return;
  }
  out.group.push(`${g.name}:x:${g.gid}:${g.members.join(',')}`);
  out.gshadow.push(`${g.name}:!::${g.members.join(',')}`);
}

function mergeUser(u: AccountUser, existing: PasswdLine[], groups: GroupLine[], at: string): string | undefined {
  if (!groups.some((g) => g.gid === u.gid)) {
    throw conflict(at, `gid ${u.gid} of user "${u.name}" is no group in /etc/group (add it under accounts.groups)`);
  }
  const byId = existing.find((e) => e.uid === u.uid);
  if (byId && byId.name !== u.name) throw conflict(at, `uid ${u.uid} already belongs to user "${byId.name}"`);
  const byName = existing.find((e) => e.name === u.name);
  if (byName) {
    const diff = (['uid', 'gid', 'gecos', 'home', 'shell'] as const).filter((k) => byName[k] !== u[k]);
    if (diff.length > 0) {
      const was = diff.map((k) => `${k} ${JSON.stringify(byName[k])} (not ${JSON.stringify(u[k])})`).join(', ');
      throw conflict(at, `user "${u.name}" already exists with ${was}`);
    }
    return undefined; // identical: nothing to add
  }
  return `${u.name}:x:${u.uid}:${u.gid}:${u.gecos}:${u.home}:${u.shell}`;
}

/** The files with the accounts merged in; /etc/shadow and /etc/gshadow only when they were there. */
export function mergeAccounts(input: EtcFiles, accounts: Accounts, where: string): EtcFiles {
  const files: EtcFiles = { ...input };
  files.group ??= '';
  files.passwd ??= '';
  const newGroups = { group: [] as string[], gshadow: [] as string[] };
  const groups = parseGroup(files.group);
  accounts.groups.forEach((g, i) => mergeGroup(g, groups, files, `${where}: accounts.groups[${i}]`, newGroups));
  files.group = append(files.group, newGroups.group);
  if (files.gshadow !== undefined) files.gshadow = append(files.gshadow, newGroups.gshadow);

  const users = parsePasswd(files.passwd);
  const allGroups = parseGroup(files.group);
  const newUsers: AccountUser[] = [];
  const lines: string[] = [];
  accounts.users.forEach((u, i) => {
    const line = mergeUser(u, users, allGroups, `${where}: accounts.users[${i}]`);
    if (line !== undefined) {
      lines.push(line);
      newUsers.push(u);
    }
  });
  files.passwd = append(files.passwd, lines);
  if (files.shadow !== undefined) {
    const have = new Set(fields(files.shadow, 2).map((f) => f[0]));
    files.shadow = append(files.shadow, newUsers.filter((u) => !have.has(u.name)).map((u) => `${u.name}:!:::::::`));
  }
  return files;
}
