/** Decoding archives written by GNU tar in posix, gnu, ustar and v7 formats. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, link, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciasmError } from '../../src/errors.js';
import { decodeTar, type TarHeader } from '../../src/codec/tar/index.js';
import { ACL_HEX } from '../../fixtures/tar/entries.js';

const run = promisify(execFile);
const BINARY_XATTR = Buffer.from('0200ff fe00 80 0a 3d 20 c3'.replace(/ /g, ''), 'hex'); // NUL, invalid UTF-8, '\n', '=', ' '
const MTIME = '@1700000000.75'; // fractional: GNU tar writes a PAX mtime record
const LONG_NAME = `${'n'.repeat(150)}.txt`;
const LONG_TARGET = `../${'t'.repeat(120)}`;
const PREFIXED = `${'p'.repeat(80)}/${'q'.repeat(70)}`;

let dir = '';

async function tarOf(args: string[]): Promise<Buffer> {
  const out = join(dir, `a${Math.random().toString(36).slice(2)}.tar`);
  await run('tar', ['--sort=name', '-cf', out, '-C', join(dir, 'root'), ...args]);
  return readFile(out);
}

async function decode(bytes: Buffer, chunkSize = 1): Promise<Map<string, { header: TarHeader; body: string }>> {
  const split = function* () {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  };
  const out = new Map<string, { header: TarHeader; body: string }>();
  for await (const entry of decodeTar(split(), { label: 'gnu-test' })) {
    const parts: Buffer[] = [];
    for await (const p of entry.body) parts.push(p);
    out.set(entry.header.path, { header: entry.header, body: Buffer.concat(parts).toString() });
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ociasm-tar-gnu-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'd'), { recursive: true });
  await writeFile(join(root, 'd/f.txt'), 'content\n', { mode: 0o640 });
  await run('chmod', ['0640', join(root, 'd/f.txt')]);
  await run('setfattr', ['-n', 'user.bin', '-v', `0x${BINARY_XATTR.toString('hex')}`, join(root, 'd/f.txt')]);
  await run('setfattr', ['-n', 'system.posix_acl_access', '-v', `0x${ACL_HEX}`, join(root, 'd/f.txt')]);
  await symlink('f.txt', join(root, 'd/s'));
  await link(join(root, 'd/f.txt'), join(root, 'd/h'));
  await run('mkfifo', ['-m', '0600', join(root, 'd/p')]);
  await writeFile(join(root, 'd', LONG_NAME), 'long\n');
  await symlink(LONG_TARGET, join(root, 'd/longlink'));
  await mkdir(join(root, 'p'.repeat(80)));
  await writeFile(join(root, PREFIXED), 'prefixed\n');
  await run('chmod', ['0750', join(root, 'd')]);
  await run('chown', ['-R', '-h', '1234:5678', root]);
  await run('touch', ['-h', '-d', MTIME, ...['d', 'd/f.txt', 'd/s', 'd/p'].map((p) => join(root, p))]);
  await run('truncate', ['-s', '1M', join(dir, 'sparse.bin')]);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('decodeTar on GNU tar archives', () => {
  it('reads --format=posix with binary xattrs, links and fractional mtimes', async () => {
    const entries = await decode(await tarOf(['--format=posix', '--xattrs', '--xattrs-include=*', 'd']));
    const f = entries.get('d/f.txt')!;
    expect(f.body).toBe('content\n');
    expect(f.header).toMatchObject({ type: 'file', uid: 1234, gid: 5678, size: 8, mtime: 1_700_000_000 });
    expect(f.header.mode).toBe(0o750); // the ACL sets u::rwx, mask r-x, o::---
    expect(f.header.xattrs?.get('user.bin')).toEqual(BINARY_XATTR);
    expect(f.header.xattrs?.get('system.posix_acl_access')?.toString('hex')).toBe(ACL_HEX);
    expect(entries.get('d')!.header).toMatchObject({ type: 'directory', mode: 0o750, mtime: 1_700_000_000 });
    expect(entries.get('d/s')!.header).toMatchObject({ type: 'symlink', linkname: 'f.txt' });
    expect(entries.get('d/h')!.header).toMatchObject({ type: 'hardlink', linkname: 'd/f.txt', size: 0 });
    expect(entries.get('d/p')!.header).toMatchObject({ type: 'fifo', mode: 0o600 });
    expect(entries.get(`d/${LONG_NAME}`)!.body).toBe('long\n');
    expect(entries.get('d/longlink')!.header.linkname).toBe(LONG_TARGET);
  });

  it('reads --format=gnu long names (L) and long link targets (K)', async () => {
    const entries = await decode(await tarOf(['--format=gnu', 'd']), 5);
    expect(entries.get(`d/${LONG_NAME}`)).toMatchObject({ body: 'long\n', header: { type: 'file', uid: 1234 } });
    expect(entries.get('d/longlink')!.header).toMatchObject({ type: 'symlink', linkname: LONG_TARGET });
    expect(entries.get('d/h')!.header.linkname).toBe('d/f.txt');
  });

  it('reads --format=ustar names split into prefix and name', async () => {
    const entries = await decode(await tarOf(['--format=ustar', '--numeric-owner', './' + PREFIXED]), 512);
    expect([...entries.keys()]).toEqual([PREFIXED]);
    expect(entries.get(PREFIXED)).toMatchObject({ body: 'prefixed\n', header: { uid: 1234, gid: 5678, uname: '', gname: '' } });
  });

  it('reads --format=v7 headers', async () => {
    const entries = await decode(await tarOf(['--format=v7', '--no-recursion', 'd', 'd/f.txt', 'd/s']), 100);
    expect(entries.get('d')!.header.type).toBe('directory');
    expect(entries.get('d/s')!.header).toMatchObject({ type: 'symlink', linkname: 'f.txt' });
    expect(entries.get('d/f.txt')).toMatchObject({ body: 'content\n', header: { uid: 1234, uname: '' } });
  });

  it.each(['gnu', 'posix'])('rejects sparse files from --format=%s -S', async (format) => {
    const out = join(dir, `sparse-${format}.tar`);
    await run('tar', [`--format=${format}`, '-S', '-cf', out, '-C', dir, 'sparse.bin']);
    const error = await decode(await readFile(out), 4096).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OciasmError);
    expect((error as OciasmError).code).toBe('TAR_INVALID');
    expect((error as OciasmError).message).toMatch(/gnu-test: entry 0 .*sparse files are not supported/);
  });
});
