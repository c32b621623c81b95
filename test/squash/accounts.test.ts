/**
 * `accounts:` on top of a foreign (arm64) busybox base: the merged files are
 * read by busybox `id` under qemu from the extracted rootfs, `user:` names
 * become numbers in the config, and conflicts are clear errors.
 */
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handLayout, tarOf } from '../harness/hand-layers.js';
import { BUSYBOX_SOURCES } from '../harness/inputs.js';
import { must, ociasm, platformImages, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-accounts-');
const layout = path.join(tmp.dir, 'oci');
const rootfs = path.join(tmp.dir, 'rootfs');

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nusers:x:100:\nnogroup:x:65534:\n';

function image(name: string, body: string): string {
  return `  - name: ${name}\n    base: "oci:bases:busy"\n    platforms: [linux/arm64]\n${body.replace(/^/gm, '    ')}\n`;
}

const ACCOUNTS = `accounts:
  groups: [{ name: skycoin, gid: 10000 }, { name: users, gid: 100, members: [skycoin] }]
  users:
    - { name: skycoin, uid: 10000, gid: 10000, home: /data, shell: /bin/sh }
    - { name: nobody, uid: 65534, gid: 65534, gecos: nobody, home: /nonexistent, shell: /bin/false, createHome: false }
user: skycoin`;

async function build(file: string, body: string, out = layout) {
  writeFileSync(path.join(tmp.dir, file), `sourceDateEpoch: 1700000000\nimages:\n${body}`);
  return ociasm(['build', '-f', path.join(tmp.dir, file), '-o', out, '--json']);
}

let indexDigest = '';

beforeAll(async () => {
  const busybox = readFileSync(BUSYBOX_SOURCES.arm64v8!);
  const tar = tarOf([
    { path: 'bin', type: 'directory' }, { path: 'bin/busybox', body: busybox, mode: 0o755 },
    { path: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { path: 'etc', type: 'directory' }, { path: 'etc/passwd', body: PASSWD }, { path: 'etc/group', body: GROUP },
    { path: 'etc/shadow', body: 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n', mode: 0o640, gid: 42 },
  ]);
  await handLayout(path.join(tmp.dir, 'bases'), 'busy', [{ tar }], 'arm64');
  const r = await build('ok.yaml', image('acct', ACCOUNTS) + image('byname', 'user: "nobody"') + image('mixed', 'user: "root:users"'));
  expect(r.code, r.stderr).toBe(0);
  indexDigest = JSON.parse(r.stdout).images[0].index.digest;
  mkdirSync(rootfs);
  await must('tar', ['-xpf', platformImages(layout, 'acct:latest')[0].layerPath, '-C', rootfs]);
  copyFileSync('/usr/bin/qemu-aarch64-static', path.join(rootfs, 'qemu'));
});
afterAll(() => tmp.cleanup());

describe('accounts on a base', () => {
  it('merged files are read by busybox id under qemu from the extracted rootfs', async () => {
    const id = (who: string) => must('chroot', [rootfs, '/qemu', '/bin/busybox', 'id', who]);
    expect((await id('skycoin')).trim()).toBe('uid=10000(skycoin) gid=10000(skycoin) groups=10000(skycoin),100(users)');
    expect((await id('root')).trim()).toBe('uid=0(root) gid=0(root) groups=0(root)');
  });

  it('appends in a deterministic order, keeps identical entries and the files\' metadata', () => {
    expect(readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8')).toBe(`${PASSWD}skycoin:x:10000:10000::/data:/bin/sh\n`);
    expect(readFileSync(path.join(rootfs, 'etc/group'), 'utf8')).toBe('root:x:0:\nusers:x:100:skycoin\nnogroup:x:65534:\nskycoin:x:10000:\n');
    expect(readFileSync(path.join(rootfs, 'etc/shadow'), 'utf8')).toMatch(/\nskycoin:!:::::::\n$/);
    const shadow = statSync(path.join(rootfs, 'etc/shadow'));
    expect([shadow.mode & 0o7777, shadow.gid]).toEqual([0o640, 42]);
  });

  it('creates the home directory owned by the user', () => {
    const home = statSync(path.join(rootfs, 'data'));
    expect([home.isDirectory(), home.uid, home.gid, home.mode & 0o7777]).toEqual([true, 10000, 10000, 0o755]);
  });

  it('writes a numeric User into the config', () => {
    const user = (ref: string) => platformImages(layout, ref)[0].config.config.User;
    expect(user('acct:latest')).toBe('10000:10000');
    expect(user('byname:latest')).toBe('65534:65534');
    expect(user('mixed:latest')).toBe('0:100');
  });

  it('gives the same digest when built again', async () => {
    const r = await build('ok.yaml', image('acct', ACCOUNTS), path.join(tmp.dir, 'again'));
    expect(JSON.parse(r.stdout).images[0].index.digest).toBe(indexDigest);
  });

  it('refuses an id that exists with another name, and a name that does not resolve', async () => {
    const taken = await build('taken.yaml', image('taken', 'accounts: { users: [{ name: app, uid: 0, gid: 0 }] }'));
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('ACCOUNTS_CONFLICT');
    expect(taken.stderr).toContain('accounts.users[0]: uid 0 already belongs to user "root"');
    const group = await build('group.yaml', image('group', 'accounts: { groups: [{ name: users, gid: 5 }] }'));
    expect(group.stderr).toContain('group "users" already exists with gid 100, not 5');
    const ghost = await build('ghost.yaml', image('ghost', 'user: ghost'));
    expect(ghost.code).not.toBe(0);
    expect(ghost.stderr).toContain('USER_UNKNOWN');
    expect(ghost.stderr).toContain('no user "ghost"');
  });

  it('validates the accounts key strictly', async () => {
    const r = await build('bad.yaml', image('bad', 'accounts: { users: [{ name: app, uid: -1, gid: 0 }] }'));
    expect(r.stderr).toContain('BUILDFILE_INVALID');
    expect(r.stderr).toContain('accounts.users[0].uid');
  });
});
