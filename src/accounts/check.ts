/**
 * The accounts as they will be written, checked after templating (a build
 * arg can put anything into a field): every passwd/group field is free of
 * ':' and line breaks (as useradd refuses them), names follow the account
 * name rule, a home is an absolute path without '.' or '..' components.
 * The build file's own validation checks the literal text; this checks what
 * the templates made of it.
 */
import type { Accounts } from '../buildfile/types.js';
import { OciasmError } from '../errors.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const BAD = /[:\n\r\0]/;

function fail(where: string, msg: string): never {
  throw new OciasmError('BUILDFILE_INVALID', `${where}: ${msg}`);
}

function field(v: string, where: string): void {
  if (BAD.test(v)) fail(where, 'after templating it holds ":", a line break or a NUL byte, which would break /etc/passwd or /etc/group');
}

function name(v: string, where: string): void {
  if (!NAME.test(v)) fail(where, 'after templating it is not a valid account name (a letter or _, then letters, digits, . _ -; at most 32)');
}

export function checkAccounts(accounts: Accounts, where: string): void {
  accounts.groups.forEach((g, i) => {
    const at = `${where}: accounts.groups[${i}]`;
    name(g.name, `${at}.name`);
    g.members.forEach((m, j) => name(m, `${at}.members[${j}]`));
  });
  accounts.users.forEach((u, i) => {
    const at = `${where}: accounts.users[${i}]`;
    name(u.name, `${at}.name`);
    field(u.gecos, `${at}.gecos`);
    field(u.shell, `${at}.shell`);
    field(u.home, `${at}.home`);
    if (!u.home.startsWith('/')) fail(`${at}.home`, 'after templating it is not an absolute path');
    if (u.home.split('/').some((c) => c === '..' || c === '.')) fail(`${at}.home`, 'after templating it has a "." or ".." component; write the path it means');
  });
}
