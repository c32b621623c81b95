/**
 * The build file's `accounts:` key (part of the one schema in schema.ts).
 * Every field that ends up in /etc/passwd or /etc/group is checked so it
 * cannot break those files; names and ids are unique within the key.
 */
import * as z from 'zod';
import { bool, str, strict, wholeNumber } from './zod-kit.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const MAX_ID = 4294967294; // (uid_t)-1 means "no id"

const accountName = () =>
  z.string({ error: (iss) => (iss.input === undefined ? 'is required' : `${JSON.stringify(iss.input)} is not a valid account name`) }).regex(NAME, {
    error: (iss) => `${JSON.stringify(iss.input)} is not a valid account name (a letter or _, then letters, digits, . _ -; at most 32)`,
  });
const id = () => wholeNumber(MAX_ID, `must be a whole number from 0 to ${MAX_ID}`);
/** A passwd/group field: no ":" and no line break. */
const field = () => str().pipe(z.string().regex(/^[^:\n\r\0]*$/, { error: 'must be a string without ":" or line breaks' }));

export const AccountGroupSchema = strict({
  name: accountName(),
  gid: id(),
  members: z.array(accountName()).default([]).describe('user names added to the group'),
});

export const AccountUserSchema = strict({
  name: accountName(),
  uid: id(),
  gid: id().describe('the primary group; must be a group of the merged /etc/group'),
  home: field().refine((h) => h.startsWith('/'), { error: (iss) => `"${String(iss.input)}" must be an absolute path` }).optional().describe('default /home/NAME'),
  shell: field().default('/sbin/nologin'),
  gecos: field().default(''),
  createHome: bool().default(true),
}).transform((u) => ({ ...u, home: u.home ?? `/home/${u.name}` }));

function unique<T>(items: T[], key: (t: T) => string | number, what: string, list: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string | number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [list, i], message: `${what} ${k} is listed twice` });
    seen.add(k);
  });
}

export const AccountsSchema = strict({
  groups: z.array(AccountGroupSchema).default([]),
  users: z.array(AccountUserSchema).default([]),
})
  .superRefine((a, ctx) => {
    unique(a.groups, (g) => g.name, 'group name', 'groups', ctx);
    unique(a.groups, (g) => g.gid, 'gid', 'groups', ctx);
    unique(a.users, (u) => u.name, 'user name', 'users', ctx);
    unique(a.users, (u) => u.uid, 'uid', 'users', ctx);
  })
  .describe('users and groups added to the base image\'s /etc files (docs/squash.md#accounts)');

export type AccountGroup = z.output<typeof AccountGroupSchema>;
export type AccountUser = z.output<typeof AccountUserSchema>;
export type Accounts = z.output<typeof AccountsSchema>;
