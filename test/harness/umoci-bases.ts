/**
 * Real multi-layer base images made by umoci: `umoci unpack`, change the
 * rootfs, `umoci repack --refresh-bundle`, again. Each step is one layer.
 * Needs root (owners, devices) like the rest of the suite.
 */
import { setAttributeSync, removeAttributeSync } from '@napi-rs/xattr';
import {
  chmodSync, chownSync, copyFileSync, existsSync, linkSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { must } from './util.js';

type Step = (rootfs: string) => Promise<void> | void;

/** Writes a file, creating its parents. */
function put(rootfs: string, rel: string, content: string | Buffer, mode = 0o644): void {
  const p = path.join(rootfs, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}

/** Makes `layout:tag` from an empty image plus one layer per step. */
export async function umociBase(layout: string, tag: string, steps: Step[], architecture = 'amd64'): Promise<string> {
  const bundle = `${layout}.${tag}.bundle`;
  if (!existsSync(layout)) await must('umoci', ['init', '--layout', layout]);
  await must('umoci', ['new', '--image', `${layout}:${tag}`]);
  await must('umoci', ['config', '--image', `${layout}:${tag}`, '--architecture', architecture, '--os', 'linux']);
  await must('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  for (const step of steps) {
    await step(path.join(bundle, 'rootfs'));
    await must('umoci', ['repack', '--refresh-bundle', '--no-history', '--image', `${layout}:${tag}`, bundle]);
  }
  rmSync(bundle, { recursive: true, force: true });
  return `${layout}:${tag}`;
}

/** Deletions, a replaced directory, file → dir → file, links whose original goes, symlinks, a fifo, a device, xattrs. */
export const CHURN: Step[] = [
  async (r) => {
    put(r, 'etc/config', 'v1\n');
    put(r, 'etc/keep', 'to be deleted\n');
    put(r, 'data/dir/sub/file1', 'one\n');
    put(r, 'data/dir/file2', 'two\n');
    put(r, 'swap', 'I am a file\n');
    put(r, 'links/orig', 'shared content\n', 0o640);
    linkSync(path.join(r, 'links/orig'), path.join(r, 'links/alias'));
    put(r, 'links/orig2', 'old content\n');
    linkSync(path.join(r, 'links/orig2'), path.join(r, 'links/alias2'));
    mkdirSync(path.join(r, 'sym'));
    symlinkSync('/etc/config', path.join(r, 'sym/abs'));
    symlinkSync('../etc/config', path.join(r, 'sym/rel'));
    symlinkSync('/nonexistent/target', path.join(r, 'sym/dangling'));
    mkdirSync(path.join(r, 'run'));
    await must('mkfifo', ['-m', '0620', path.join(r, 'run/fifo')]);
    mkdirSync(path.join(r, 'dev'));
    await must('mknod', ['-m', '0666', path.join(r, 'dev/null'), 'c', '1', '3']);
    setAttributeSync(path.join(r, 'etc/config'), 'user.note', 'hello');
    setAttributeSync(path.join(r, 'etc/config'), 'user.bin', Buffer.from([0, 0xff, 0x10, 0x80]));
    setAttributeSync(path.join(r, 'data'), 'user.dir', 'on a directory');
    put(r, 'owned/setuid', 'suid\n', 0o4755);
    put(r, 'owned/big', 'big ids\n');
    chownSync(path.join(r, 'owned/big'), 3000000, 3000001);
    chownSync(path.join(r, 'owned'), 1000, 1000);
  },
  (r) => {
    unlinkSync(path.join(r, 'etc/keep'));
    rmSync(path.join(r, 'data/dir'), { recursive: true });
    put(r, 'data/dir', 'the directory is now a file\n');
    unlinkSync(path.join(r, 'swap'));
    put(r, 'swap/inner', 'inside the new directory\n');
    unlinkSync(path.join(r, 'links/orig')); // alias survives and becomes the file
    unlinkSync(path.join(r, 'links/orig2'));
    put(r, 'links/orig2', 'new content\n'); // alias2 keeps the old content
    chmodSync(path.join(r, 'etc/config'), 0o600);
    setAttributeSync(path.join(r, 'etc/config'), 'user.note', 'changed');
    linkSync(path.join(r, 'etc/config'), path.join(r, 'etc/config.link'));
  },
  (r) => {
    rmSync(path.join(r, 'swap'), { recursive: true });
    put(r, 'swap', 'a file again\n', 0o600);
    removeAttributeSync(path.join(r, 'etc/config'), 'user.note');
    unlinkSync(path.join(r, 'sym/rel'));
    symlinkSync('abs', path.join(r, 'sym/rel'));
    chownSync(path.join(r, 'data'), 2000, 2000);
    chmodSync(path.join(r, 'data'), 0o2770);
  },
];

const LONG = 'a-rather-long-directory-name-'.repeat(4);

/** Long names (PAX), a deleted tree, a directory deleted and made again, unicode names. */
export const DEEP: Step[] = [
  (r) => {
    for (let i = 0; i < 40; i++) put(r, `tree/${i % 4}/${LONG}/file-${i}`, `content ${i}\n`.repeat(i));
    put(r, 'gone/a/b/c', 'deep\n');
    put(r, 'again/old', 'lower\n');
    put(r, 'ünïcødé/日本', 'utf-8 names\n');
  },
  (r) => {
    rmSync(path.join(r, 'gone'), { recursive: true });
    rmSync(path.join(r, 'again'), { recursive: true });
    put(r, 'again/new', 'upper\n');
    rmSync(path.join(r, 'tree/1'), { recursive: true });
    put(r, `tree/0/${LONG}/file-0`, 'rewritten\n');
  },
  (r) => {
    put(r, 'gone/a', 'a file where a tree was\n');
    unlinkSync(path.join(r, 'ünïcødé/日本'));
  },
];

/** A small busybox system with accounts files, for the accounts test. */
export function busyboxSteps(busybox: string): Step[] {
  return [
    (r) => {
      mkdirSync(path.join(r, 'bin'), { recursive: true });
      copyFileSync(busybox, path.join(r, 'bin/busybox'));
      chmodSync(path.join(r, 'bin/busybox'), 0o755);
      symlinkSync('busybox', path.join(r, 'bin/sh'));
      symlinkSync('/bin/busybox', path.join(r, 'bin/id'));
      put(r, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
      put(r, 'etc/group', 'root:x:0:\nnogroup:x:65534:\n');
      put(r, 'etc/shadow', 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n', 0o640);
    },
    (r) => {
      put(r, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n');
      put(r, 'etc/group', 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n');
    },
  ];
}
