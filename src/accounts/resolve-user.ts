/**
 * Turns the build file's `user:` into numbers, because many runtimes and
 * `docker run -u` need them: `name` → `uid:gid` (the primary group),
 * `name:group`, `uid:group` and `name:gid` → `uid:gid`. Numbers stay as given.
 */
import { OciasmError } from '../errors.js';
import { type EtcFiles, parseGroup, parsePasswd } from './etc-files.js';

const NUMBER = /^\d+$/;

export function resolveUser(user: string, files: EtcFiles, where: string): string {
  const colon = user.indexOf(':');
  const u = colon < 0 ? user : user.slice(0, colon);
  const g = colon < 0 ? undefined : user.slice(colon + 1);
  if (NUMBER.test(u) && (g === undefined || NUMBER.test(g))) return user;
  const fail = (msg: string): never => {
    throw new OciasmError('USER_UNKNOWN', `${where}: user "${user}": ${msg}`);
  };
  if (u === '' || g === '') fail('expected NAME, UID, NAME:GROUP or UID:GID');
  let uid = u;
  let gid = g;
  if (!NUMBER.test(u)) {
    if (files.passwd === undefined) fail('the image has no /etc/passwd to look the name up in');
    const entry = parsePasswd(files.passwd).find((p) => p.name === u);
    if (!entry) fail(`no user "${u}" in the image's /etc/passwd (add it under accounts.users)`);
    uid = String(entry!.uid);
    gid ??= String(entry!.gid);
  }
  if (gid !== undefined && !NUMBER.test(gid)) {
    if (files.group === undefined) fail('the image has no /etc/group to look the group up in');
    const entry = parseGroup(files.group).find((e) => e.name === gid);
    if (!entry) fail(`no group "${gid}" in the image's /etc/group (add it under accounts.groups)`);
    gid = String(entry!.gid);
  }
  return gid === undefined ? uid : `${uid}:${gid}`;
}
