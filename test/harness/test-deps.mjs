#!/usr/bin/env node
// Installs (as root) or lists (otherwise) what the test suite needs from Debian:
// the independent checkers, and static busybox binaries for foreign platforms.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PACKAGES = [
  'skopeo', 'umoci', 'oci-image-tool', 'acl', 'attr', 'libcap2-bin', 'qemu-user-static',
  'pigz', 'gzip', 'tar', 'util-linux', 'bsdutils', 'busybox-static', 'zstd',
  'golang-go', 'gcc', 'libc6-dev', 'gcc-aarch64-linux-gnu', 'libc6-dev-arm64-cross', 'gcc-arm-linux-gnueabihf', 'libc6-dev-armhf-cross', 'git',
  'docker-registry', 'apache2-utils', 'openssl', 'proot', 'file',
  'docker.io', 'containerd', 'podman',
];
// Debian arch -> the folder name used by the tests.
export const FOREIGN_BUSYBOX = { arm64: 'arm64', armhf: 'armhf', armel: 'armel' };
export const FIXTURE_DIR = path.join(root, '.cache', 'fixtures', 'busybox');

const isRoot = process.getuid?.() === 0;

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

// apt-get waits up to LOCK_WAIT seconds for a dpkg lock another apt-get or dpkg holds,
// then fails with one clear line, not a stack trace.
const LOCK_WAIT = 600;
const LOCK_OPTS = ['-o', `DPkg::Lock::Timeout=${LOCK_WAIT}`];

function apt(args) {
  const r = spawnSync('apt-get', [...LOCK_OPTS, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    console.error(`test-deps: \`apt-get ${args.join(' ')}\` failed (exit ${r.status ?? r.signal}); if another apt-get or dpkg held the lock for more than ${LOCK_WAIT} s, wait for it and run npm test again`);
    process.exit(1);
  }
}

let updated = false;
// A partial failure of `apt-get update` (a mirror mid-sync for one list) still
// leaves usable lists; the install or download that follows says if not.
function aptUpdate() {
  if (!updated) spawnSync('apt-get', [...LOCK_OPTS, 'update', '-qq'], { stdio: ['ignore', 'inherit', 'inherit'] });
  updated = true;
}

const missing = PACKAGES.filter((p) => !installed(p));
if (missing.length > 0) {
  if (!isRoot) {
    console.error(`ociasm tests need these Debian packages: ${missing.join(' ')}\n  install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.error(`test-deps: installing ${missing.join(' ')}`);
  aptUpdate();
  apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

const needBusybox = Object.entries(FOREIGN_BUSYBOX).filter(([, dir]) => !existsSync(path.join(FIXTURE_DIR, dir, 'busybox')));
if (needBusybox.length > 0) {
  if (!isRoot) {
    console.error(`ociasm tests need foreign busybox binaries in ${FIXTURE_DIR}; run npm test once as root to fetch them`);
    process.exit(1);
  }
  const known = execFileSync('dpkg', ['--print-foreign-architectures'], { encoding: 'utf8' }).split('\n');
  for (const [arch] of needBusybox) {
    if (!known.includes(arch)) {
      execFileSync('dpkg', ['--add-architecture', arch]);
      updated = false;
    }
  }
  aptUpdate();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ociasm-debs-'));
  try {
    const dl = spawnSync('apt-get', [...LOCK_OPTS, 'download', ...needBusybox.map(([arch]) => `busybox-static:${arch}`)], { cwd: tmp, stdio: 'inherit' });
    if (dl.status !== 0) {
      console.error(`test-deps: \`apt-get download busybox-static:…\` failed (exit ${dl.status ?? dl.signal}); check the Debian mirror and run npm test again`);
      process.exit(1);
    }
    for (const [arch, dir] of needBusybox) {
      const deb = readdirSync(tmp).find((f) => f.endsWith(`_${arch}.deb`));
      if (!deb) throw new Error(`busybox-static:${arch} was not downloaded`);
      const x = path.join(tmp, arch);
      execFileSync('dpkg-deb', ['-x', path.join(tmp, deb), x]);
      mkdirSync(path.join(FIXTURE_DIR, dir), { recursive: true });
      copyFileSync(path.join(x, 'bin', 'busybox'), path.join(FIXTURE_DIR, dir, 'busybox'));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
