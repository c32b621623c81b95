/**
 * `test:` runs inside the image's rootfs with the image's own loader and
 * libraries (proot; proot -q qemu-arm-static for arm/v7), without root. A
 * glibc-dynamic binary (gcc and arm-linux-gnueabihf-gcc, as cgo builds them)
 * whose loader is absent from the image fails its self-check and gets no tag;
 * with the loader and libc in the image (from the host's and the cross
 * sysroot's lib folders) it passes. The test sees the image's Env, User and
 * WorkingDir, not the host's files.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_FIXTURES, must, ociasm, readLayoutIndex, refDescriptor, tempDir } from '../harness/util.js';
import { builderEnv } from './helpers.js';

const tmp = tempDir();
const env = builderEnv(path.join(tmp.dir, 'cache'));
afterAll(() => tmp.cleanup());

beforeAll(async () => {
  writeFileSync(path.join(tmp.dir, 'hi.c'), '#include <stdio.h>\nint main(void) { puts("hi from a dynamic binary"); return 0; }\n');
  await must('gcc', ['-O1', '-o', path.join(tmp.dir, 'hi-amd64'), path.join(tmp.dir, 'hi.c')]);
  await must('arm-linux-gnueabihf-gcc', ['-O1', '-o', path.join(tmp.dir, 'hi-armhf'), path.join(tmp.dir, 'hi.c')]);
  // Both are dynamic: the host's loader would run them if the check ran on the host.
  for (const bin of ['hi-amd64', 'hi-armhf']) expect(await must('file', ['-L', path.join(tmp.dir, bin)])).toContain('dynamically linked');
});

const LIBS: Record<string, string> = {
  amd64: `      - { src: /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2, dest: /lib64/ld-linux-x86-64.so.2 }
      - { src: /lib/x86_64-linux-gnu/libc.so.6, dest: /lib/x86_64-linux-gnu/libc.so.6 }`,
  armhf: `      - { src: /usr/arm-linux-gnueabihf/lib/ld-linux-armhf.so.3, dest: /lib/ld-linux-armhf.so.3 }
      - { src: /usr/arm-linux-gnueabihf/lib/libc.so.6, dest: /lib/libc.so.6 }`,
};

function buildFile(arch: 'amd64' | 'armhf', withLibs: boolean): string {
  const f = path.join(tmp.dir, `${arch}-${withLibs}.yaml`);
  writeFileSync(f, `images:
  - name: cgo-${arch}
    platforms: [${arch === 'amd64' ? 'linux/amd64' : 'linux/arm/v7'}]
    files:
      - { src: hi-${arch}, dest: /usr/bin/hi }
${withLibs ? LIBS[arch] : ''}
    test: [/usr/bin/hi]
`);
  return f;
}

describe('self-check inside the image', () => {
  for (const arch of ['amd64', 'armhf'] as const) {
    it(`${arch}: fails while the loader is absent from the image, passes once loader and libc are in it`, async () => {
      const layout = path.join(tmp.dir, `oci-${arch}`);
      const bad = await ociasm(['build', '-f', buildFile(arch, false), '-o', layout], { env });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('error[SELFCHECK_FAILED]');
      expect(bad.stderr).toContain(`image "cgo-${arch}"`);
      expect(bad.stderr).toMatch(arch === 'amd64' ? /No such file or directory/ : /Could not open '\/lib\/ld-linux-armhf\.so\.3'/);
      expect(readLayoutIndex(layout).manifests).toEqual([]);

      const good = await ociasm(['build', '-f', buildFile(arch, true), '-o', layout], { env });
      expect(good.code, good.stderr).toBe(0);
      expect(good.stderr).toContain(`[cgo-${arch} ${arch === 'amd64' ? 'linux/amd64' : 'linux/arm/v7'} test] hi from a dynamic binary`);
      expect(refDescriptor(layout, `cgo-${arch}:latest`).digest).toMatch(/^sha256:/);
    });
  }

  it("sees the image's env, user and workdir (arm/v7 under qemu), and not the host's files (amd64)", async () => {
    const view = (platform: string, busybox: string, extra: string) => {
      const f = path.join(tmp.dir, `view-${platform.replace(/\//g, '-')}.yaml`);
      writeFileSync(f, `images:
  - name: view
    platforms: [${platform}]
    files: [{ src: ${busybox}, dest: /bin/busybox }]
    paths: [{ path: /srv, type: directory }, { path: /bin/sh, type: symlink, target: busybox }]
    env: { GREETING: hello, PATH: /bin }
    user: "1000:2000"
    workdir: /srv
    test: [/bin/busybox, sh, -c, 'echo "env=$GREETING uid=$(busybox id -u) gid=$(busybox id -g) pwd=$(busybox pwd) arch=$(busybox uname -m)"${extra}']
`);
      return ociasm(['build', '-f', f, '-o', path.join(tmp.dir, `oci-view-${platform.replace(/\//g, '-')}`)], { env: { ...env, GREETING: 'from-host' } });
    };
    const arm = await view('linux/arm/v7', path.join(BUSYBOX_FIXTURES, 'armhf', 'busybox'), '');
    expect(arm.code, arm.stderr).toBe(0);
    expect(arm.stderr).toMatch(/\[view linux\/arm\/v7 test\] env=hello uid=1000 gid=2000 pwd=\/srv arch=armv7l/);
    const amd64 = await view('linux/amd64', '/bin/busybox', `; busybox test -e /bin/busybox && busybox test ! -e ${tmp.dir}/hi.c && echo no-host-files`);
    expect(amd64.code, amd64.stderr).toBe(0);
    expect(amd64.stderr).toMatch(/\[view linux\/amd64 test\] env=hello uid=1000 gid=2000 pwd=\/srv arch=x86_64/);
    expect(amd64.stderr).toContain('[view linux/amd64 test] no-host-files');
  });

  it('a check naming {{rootfs}} still runs on the host', async () => {
    const f = path.join(tmp.dir, 'host.yaml');
    writeFileSync(f, 'images:\n  - name: host\n    paths: [{ path: /etc/state, type: file, content: "ok\\n" }]\n    test: [grep, -q, "^ok$", "{{rootfs}}/etc/state"]\n');
    const r = await ociasm(['build', '-f', f, '-o', path.join(tmp.dir, 'oci-host')], { env });
    expect(r.code, r.stderr).toBe(0);
  });
});
