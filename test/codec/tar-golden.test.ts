/**
 * Golden vectors for the tar encoder, checked independently by GNU tar and
 * getfattr (run as root in a temp dir). Regenerate the hex dump with
 * UPDATE_TAR_GOLDEN=1 only after an intended format change, then re-run.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTar } from '../../src/codec/tar/index.js';
import {
  ACL_HEX, CAP_HEX, LONG_PATH, goldenEntries, singleFileEntries, type FixtureEntry,
} from '../../fixtures/tar/entries.js';

const run = promisify(execFile);
const HEXDUMP_FIXTURE = fileURLToPath(new URL('../../fixtures/tar/single-file.hexdump', import.meta.url));
const GOLDEN_SHA256 = {
  single: '837f64f3e2ad1f859aeb3c9140eb0daefee155e3de44d789fafc9541069e1655',
  all: 'f18e7ed166b17da1dacdcbc3d00c7f498a529ba5d9ac4e688a5a316dc070ee31',
};
const isRoot = process.getuid?.() === 0;

async function archive(entries: FixtureEntry[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of encodeTar(entries)) out.push(chunk);
  return Buffer.concat(out);
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** `xxd`-style dump: offset, 8 groups of 2 bytes, printable ASCII. */
function hexdump(bytes: Buffer): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = (row.toString('hex').match(/.{1,4}/g) ?? []).join(' ').padEnd(39, ' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}: ${hex}  ${ascii}`);
  }
  return `${lines.join('\n')}\n`;
}

function parseHexdump(dump: string): Buffer {
  const hex = dump.split('\n').filter(Boolean).map((line) => line.slice(10, 49).replace(/ /g, ''));
  return Buffer.from(hex.join(''), 'hex');
}

describe('tar encoder golden vectors', () => {
  it('single-file archive equals the recorded hex dump', async () => {
    const dump = hexdump(await archive(singleFileEntries()));
    if (process.env.UPDATE_TAR_GOLDEN === '1') await writeFile(HEXDUMP_FIXTURE, dump);
    expect(dump).toBe(await readFile(HEXDUMP_FIXTURE, 'utf8'));
  });

  it('archives hash to the recorded sha256 constants', async () => {
    expect(sha256(await archive(singleFileEntries()))).toBe(GOLDEN_SHA256.single);
    expect(sha256(await archive(goldenEntries()))).toBe(GOLDEN_SHA256.all);
  });

  it('encodes the same entries to the same block-aligned bytes', async () => {
    const a = await archive(goldenEntries());
    const b = await archive(goldenEntries());
    expect(a.equals(b)).toBe(true);
    expect(a.length % 512).toBe(0);
  });
});

describe.skipIf(!isRoot)('golden archives checked by GNU tar and getfattr', () => {
  let dir = '';
  const env = { ...process.env, TZ: 'UTC', LC_ALL: 'C' };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ociasm-tar-golden-'));
    // The single-file archive is taken from the fixture, not from the encoder.
    await writeFile(join(dir, 'single.tar'), parseHexdump(await readFile(HEXDUMP_FIXTURE, 'utf8')));
    await writeFile(join(dir, 'all.tar'), await archive(goldenEntries()));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const listing = async (name: string): Promise<string> =>
    (await run('tar', ['-tvf', join(dir, name)], { env })).stdout;

  it('lists the fixture with uid/gid 3000000', async () => {
    expect(sha256(await readFile(join(dir, 'single.tar')))).toBe(GOLDEN_SHA256.single);
    expect(await listing('single.tar')).toMatch(/^-rwsr-x--- 3000000\/3000000 +20 2023-11-14 22:13 bin\/ping$/m);
  });

  it('extracts the fixture with byte-exact xattrs', async () => {
    const out = join(dir, 'single');
    await run('mkdir', [out]);
    await run('tar', ['--xattrs', "--xattrs-include=*", '-xpf', join(dir, 'single.tar'), '-C', out], { env });
    const { stdout } = await run('getfattr', ['-d', '-m', '-', '-e', 'hex', join(out, 'bin/ping')], { env });
    expect(stdout).toContain(`system.posix_acl_access=0x${ACL_HEX}\n`);
    expect(stdout).toContain(`security.capability=0x${CAP_HEX}\n`);
    const st = await stat(join(out, 'bin/ping'));
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([3_000_000, 3_000_000, 0o4750]);
    expect(await readFile(join(out, 'bin/ping'), 'utf8')).toBe('#!/bin/sh\necho pong\n');
  });

  it('lists every entry kind of the full archive', async () => {
    const text = await listing('all.tar');
    const line = (mode: string, owner: string, size: string, name: string): RegExp =>
      new RegExp(`^${mode} ${owner} +${size} 2023-11-14 22:13 ${name}$`, 'm');
    expect(text).toMatch(line('drwxr-xr-x', '0/0', '0', 'app/'));
    expect(text).toMatch(line('-rw-r--r--', '0/0', '13', 'app/hello.txt'));
    expect(text).toMatch(line('lrwxrwxrwx', '0/0', '0', 'app/link -> hello.txt'));
    expect(text).toMatch(line('hrw-r--r--', '0/0', '0', 'app/hard link to app/hello.txt'));
    expect(text).toMatch(line('prw-------', '0/0', '0', 'app/fifo'));
    expect(text).toMatch(line('crw-rw-rw-', '0/0', '1,3', 'dev/null'));
    expect(text).toMatch(line('-rw-r--r--', 'builder/staff', '5', LONG_PATH));
    expect(text).toMatch(line('-rw-r--r--', '3000000/1000', '8', 'app/bigid'));
    expect(text.trim().split('\n')).toHaveLength(goldenEntries().length);
  });

  it('extracts every entry kind of the full archive', async () => {
    const out = join(dir, 'all');
    await run('mkdir', [out]);
    await run('tar', ['--xattrs', "--xattrs-include=*", '--numeric-owner', '-xpf', join(dir, 'all.tar'), '-C', out], { env });
    expect(await readFile(join(out, LONG_PATH), 'utf8')).toBe('long\n');
    expect(await readlink(join(out, 'app/link'))).toBe('hello.txt');
    expect((await stat(join(out, 'app/hard'))).ino).toBe((await stat(join(out, 'app/hello.txt'))).ino);
    expect((await lstat(join(out, 'app/fifo'))).isFIFO()).toBe(true);
    const dev = await lstat(join(out, 'dev/null'));
    expect(dev.isCharacterDevice()).toBe(true);
    expect([Math.floor(dev.rdev / 256), dev.rdev % 256]).toEqual([1, 3]);
    const big = await stat(join(out, 'app/bigid'));
    expect([big.uid, big.gid, big.mtimeMs / 1000]).toEqual([3_000_000, 1000, 1_700_000_000]);
  });
});
