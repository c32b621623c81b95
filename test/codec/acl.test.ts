import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeAcl, encodeAcl, formatAcl, modeForAcl, parseAclText } from '../../src/codec/acl.js';
import { must, tempDir } from '../harness/util.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

// Golden vectors: the kernel's posix_acl_xattr layout (field notes, linux uapi posix_acl_xattr.h).
const GOLDEN: [string, string][] = [
  ['u::rwx,u:1000:r-x,g::r-x,m::r-x,o::---', '02000000010007 00ffffffff02000500e803000004000500ffffffff10000500ffffffff20000000ffffffff'],
  ['u::rw-,g::r--,o::r--', '0200000001000600ffffffff04000400ffffffff20000400ffffffff'],
  ['user::rwx,group::r-x,group:2000:rwx,mask::rwx,other::---',
    '0200000001000700ffffffff04000500ffffffff08000700d007000010000700ffffffff20000000ffffffff'],
];

describe('ACL codec', () => {
  it.each(GOLDEN)('encodes %s to the golden bytes', (text, hex) => {
    expect(encodeAcl(parseAclText(text)).toString('hex')).toBe(hex.replaceAll(' ', ''));
  });

  it('matches what setfacl writes on a real file', async () => {
    const texts = ['u::rwx,u:1000:r-x,g::r-x,g:2000:rwx,m::rwx,o::---', 'u::r--,u:7:rw-,u:3:--x,g::---,o::r--'];
    for (const [i, text] of texts.entries()) {
      const f = path.join(tmp.dir, `f${i}`);
      writeFileSync(f, '');
      await must('setfacl', ['--set', text, f]);
      const out = await must('getfattr', ['-n', 'system.posix_acl_access', '-e', 'hex', '--absolute-names', f]);
      const hex = /=0x([0-9a-f]+)/.exec(out)![1];
      expect(encodeAcl(parseAclText(text)).toString('hex')).toBe(hex);
    }
  });

  it('matches setfacl for a default ACL on a directory', async () => {
    const d = path.join(tmp.dir, 'd');
    mkdirSync(d);
    await must('setfacl', ['-d', '--set', 'u::rwx,g::r-x,o::---', d]);
    const out = await must('getfattr', ['-n', 'system.posix_acl_default', '-e', 'hex', '--absolute-names', d]);
    expect(encodeAcl(parseAclText('u::rwx,g::r-x,o::---')).toString('hex')).toBe(/=0x([0-9a-f]+)/.exec(out)![1]);
  });

  it('sorts entries, computes a missing mask like setfacl, and round-trips', () => {
    const acl = parseAclText('o::---,g:20:r--,u:10:rw-,g::r-x,u::rwx');
    expect(formatAcl(acl)).toBe('u::rwx,u:10:rw-,g::r-x,g:20:r--,m::rwx,o::---');
    expect(decodeAcl(encodeAcl(acl))).toEqual(acl);
  });

  it('derives the tar mode from the ACL: group bits are the mask', () => {
    const acl = parseAclText('u::rwx,g::r-x,g:2000:rwx,m::rwx,o::---');
    expect(modeForAcl(acl, 0o2750).toString(8)).toBe('2770');
    expect(modeForAcl(parseAclText('u::rw-,g::r--,o::---'), 0o777).toString(8)).toBe('640');
  });

  it.each([
    ['', 'empty'],
    ['u::rwx,o::---', 'g::'],
    ['u::rwx,g::r-x,o::---,u::r--', 'duplicate'],
    ['u::rwz,g::r-x,o::---', 'rwz'],
    ['u:bob:rwx,u::rwx,g::r-x,o::---', 'numeric'],
    ['x::rwx', 'unknown tag'],
    ['m:5:rwx,u::rwx,g::---,o::---', 'cannot name'],
  ])('rejects %j (%s)', (text, why) => {
    expect(() => parseAclText(text)).toThrow(why);
  });
});
