/**
 * GNU tar's `--acls` text records (SCHILY.acl.access / SCHILY.acl.default)
 * decode to the kernel's binary posix_acl xattrs (golden bytes); a minimal
 * access ACL gives none; a binary record wins; names are refused.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTar, type TarHeader } from '../../src/codec/tar/index.js';

const run = promisify(execFile);
// u::rwx,u:4321:r-x,g::r-x,m::r-x,o::--- (4321 = 0x10e1), little-endian entries.
const ACCESS_HEX = '0200000001000700ffffffff02000500e110000004000500ffffffff10000500ffffffff20000000ffffffff';
// Default: u::rwx,g::r-x,o::r-x.
const DEFAULT_HEX = '0200000001000700ffffffff04000500ffffffff20000500ffffffff';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ociasm-gnuacl-'));
  await mkdir(join(dir, 'root', 'd'), { recursive: true });
  await writeFile(join(dir, 'root', 'f'), 'x');
  await writeFile(join(dir, 'root', 'plain'), 'y');
  await run('chmod', ['0750', join(dir, 'root', 'f')]);
  await run('setfacl', ['-m', 'u:4321:r-x', join(dir, 'root', 'f')]);
  await run('setfacl', ['-d', '-m', 'u::rwx,g::r-x,o::r-x', join(dir, 'root', 'd')]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function headers(...flags: string[]): Promise<Map<string, TarHeader>> {
  const out = join(dir, `a${Math.random().toString(36).slice(2)}.tar`);
  await run('tar', ['--format=posix', '--sort=name', ...flags, '-cf', out, '-C', join(dir, 'root'), '.']);
  const map = new Map<string, TarHeader>();
  for await (const e of decodeTar([await readFile(out)], { label: 'gnu-acl' })) {
    for await (const _ of e.body);
    map.set(e.header.path, e.header);
  }
  return map;
}

const hex = (h: TarHeader | undefined, name: string) => h?.xattrs?.get(name)?.toString('hex');

describe('GNU tar --acls records', () => {
  it('become posix_acl xattrs, byte for byte what the kernel stores', async () => {
    const h = await headers('--acls');
    expect(hex(h.get('f'), 'system.posix_acl_access')).toBe(ACCESS_HEX);
    expect(hex(h.get('d'), 'system.posix_acl_default')).toBe(DEFAULT_HEX);
    // GNU tar writes the directory's access ACL too, though it is only the mode: no xattr, as on disk.
    expect(h.get('d')?.xattrs?.has('system.posix_acl_access')).toBe(false);
    expect(h.get('plain')?.xattrs).toBeUndefined();
  });

  it('give the same headers as the binary records GNU tar writes with --xattrs', async () => {
    const text = await headers('--acls');
    const binary = await headers('--xattrs', '--xattrs-include=system.posix_acl_*');
    for (const p of ['f', 'd', 'plain']) expect(text.get(p)?.xattrs, p).toEqual(binary.get(p)?.xattrs);
    const both = await headers('--acls', '--xattrs', '--xattrs-include=*');
    expect(hex(both.get('f'), 'system.posix_acl_access')).toBe(ACCESS_HEX);
  });

  it('refuse user names, which would mean the host\'s accounts', async () => {
    await run('setfacl', ['-m', 'u:root:r--', join(dir, 'root', 'plain')]);
    try {
      await expect(headers('--acls')).rejects.toMatchObject({ code: 'TAR_INVALID', message: expect.stringContaining('user:root') });
    } finally {
      await run('setfacl', ['-b', join(dir, 'root', 'plain')]);
    }
  });
});
