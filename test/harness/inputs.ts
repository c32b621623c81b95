/**
 * Builds the inputs of a realistic five-platform build on disk: per-platform
 * static busybox binaries, an injected tree with POSIX ACLs, a file
 * capability, preserved owners, hardlinks, symlinks, a fifo and setuid bits.
 */
import { chmodSync, chownSync, copyFileSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUSYBOX_FIXTURES, must } from './util.js';

export const FIVE_PLATFORMS = ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5'];
/** platformTag -> where its static busybox comes from. */
export const BUSYBOX_SOURCES: Record<string, string> = {
  amd64: '/bin/busybox',
  arm64v8: path.join(BUSYBOX_FIXTURES, 'arm64', 'busybox'),
  arm32v7: path.join(BUSYBOX_FIXTURES, 'armhf', 'busybox'),
  arm32v6: path.join(BUSYBOX_FIXTURES, 'armel', 'busybox'),
  arm32v5: path.join(BUSYBOX_FIXTURES, 'armel', 'busybox'),
};

export const BUILD_FILE = `
sourceDateEpoch: 1700000000
images:
  - name: app
    tag: "1.0"
    base: scratch
    platforms: [${FIVE_PLATFORMS.join(', ')}]
    files:
      - src: build/{{platformTag}}/
        dest: /cyberapp/
      - src: injected_volumes/
        dest: /
        preserveOwner: true
      - src: image_rootfs/
        dest: /
    paths:
      - { path: /cyberdata, type: directory, owner: "10000:10000", mode: "0750",
          acl: "u::rwx,g::r-x,g:2000:rwx,m::rwx,o::---", defaultAcl: "u::rwx,g::r-x,o::---" }
      - { path: /bin/sh, type: symlink, target: /cyberapp/busybox }
      - { path: /etc/platform, type: file, content: "{{platform}} {{os}} {{arch}} {{variant}}\\n" }
    entrypoint: [/cyberapp/busybox]
    cmd: ["--datadir=/cyberdata"]
    env: { COIN: skycoin }
    user: "10000:10000"
    workdir: /cyberapp
    volumes: [/cyberdata]
    ports: ["8333/tcp", "6000"]
    labels: { org.opencontainers.image.title: app }
    annotations: { org.opencontainers.image.vendor: ociasm-tests }
    stopSignal: SIGTERM
`;

export async function makeInputs(dir: string): Promise<string> {
  for (const [tag, src] of Object.entries(BUSYBOX_SOURCES)) {
    mkdirSync(path.join(dir, 'build', tag), { recursive: true });
    copyFileSync(src, path.join(dir, 'build', tag, 'busybox'));
    chmodSync(path.join(dir, 'build', tag, 'busybox'), 0o755);
  }
  const vol = path.join(dir, 'injected_volumes');
  mkdirSync(path.join(vol, 'srv', 'shared'), { recursive: true });
  writeFileSync(path.join(vol, 'srv', 'shared', 'readme'), 'shared data\n');
  chmodSync(path.join(vol, 'srv', 'shared'), 0o2775);
  await must('setfacl', ['-m', 'u:1000:rwx,g:3000:r-x', path.join(vol, 'srv', 'shared')]);
  await must('setfacl', ['-d', '-m', 'u:1000:rwx', path.join(vol, 'srv', 'shared')]);
  chownSync(path.join(vol, 'srv', 'shared', 'readme'), 1234, 5678);
  writeFileSync(path.join(vol, 'srv', 'bigid'), 'owned by a large uid\n');
  chownSync(path.join(vol, 'srv', 'bigid'), 3000000, 3000001);

  const rootfs = path.join(dir, 'image_rootfs');
  mkdirSync(path.join(rootfs, 'usr', 'sbin'), { recursive: true });
  mkdirSync(path.join(rootfs, 'var', 'empty'), { recursive: true });
  mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc', 'motd'), 'welcome\n');
  writeFileSync(path.join(rootfs, 'usr', 'sbin', 'netd'), '#!/bin/sh\necho netd\n');
  chmodSync(path.join(rootfs, 'usr', 'sbin', 'netd'), 0o755);
  await must('setcap', ['cap_net_bind_service=+ep', path.join(rootfs, 'usr', 'sbin', 'netd')]);
  writeFileSync(path.join(rootfs, 'usr', 'sbin', 'su-helper'), 'setuid\n');
  chmodSync(path.join(rootfs, 'usr', 'sbin', 'su-helper'), 0o4755);
  writeFileSync(path.join(rootfs, 'etc', 'hosts.a'), '127.0.0.1 localhost\n');
  linkSync(path.join(rootfs, 'etc', 'hosts.a'), path.join(rootfs, 'etc', 'hosts.b'));
  symlinkSync('/etc/motd', path.join(rootfs, 'etc', 'motd.abs'));
  symlinkSync('../motd', path.join(rootfs, 'var', 'empty', 'motd.rel'));
  symlinkSync('/does/not/exist', path.join(rootfs, 'etc', 'dangling'));
  await must('mkfifo', [path.join(rootfs, 'var', 'pipe')]);
  await must('setfattr', ['-n', 'user.origin', '-v', '0x00ff10', path.join(rootfs, 'etc', 'motd')]);
  writeFileSync(path.join(dir, 'ociasm.yaml'), BUILD_FILE);
  return path.join(dir, 'ociasm.yaml');
}
