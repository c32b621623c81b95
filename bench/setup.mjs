// Bench inputs: the Go toolchain tree, the small five-platform inputs, a loopback registry.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { CLI, ROOT, WORK, log, sh } from './lib.mjs';

/** The newest /usr/lib/go-X that golang-go installed. */
function goRoot() {
  const names = readdirSync('/usr/lib').filter((n) => /^go-\d+\.\d+$/.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) throw new Error('no /usr/lib/go-X: install golang-go');
  return path.join('/usr/lib', names.at(-1));
}

/**
 * Debian splits the toolchain between /usr/lib/go-X and /usr/share/go-X and
 * joins them with symlinks. A layer keeps symlinks as symlinks, so the bench
 * copies both into one real tree (once): about 0.5 GB in over 10,000 files.
 */
export function goTree() {
  const src = goRoot();
  const dest = path.join(WORK, 'gotree');
  const stamp = path.join(WORK, 'gotree.stamp');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === src) return dest;
  log(`copying ${src} (symlinks into /usr/share resolved) to ${dest}`);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  // cp -L dereferences the cross-tree symlinks; files are copied with their modes.
  sh('cp', ['-rL', '--preserve=mode', `${src}/.`, dest]);
  writeFileSync(stamp, src);
  return dest;
}

/**
 * The mixed tree of issue 11: what real application images carry besides Go
 * binaries — the Python standard library and packages, GCC's libexec and
 * libraries, the locale catalogues, Perl, valgrind's tools, glibc's i18n data
 * — copied (symlinks kept) from this machine's Debian into one tree, once:
 * about 0.5 GB in about 12,000 files. Sources that are absent are skipped and
 * the report states the tree it measured.
 */
export const MIXED_SOURCES = ['/usr/lib/python3.11', '/usr/lib/python3/dist-packages', '/usr/lib/gcc', '/usr/share/locale',
  '/usr/share/perl', '/usr/lib/x86_64-linux-gnu/perl', '/usr/libexec/valgrind', '/usr/share/i18n'];
export function mixedTree() {
  const dest = path.join(WORK, 'mixedtree');
  const stamp = path.join(WORK, 'mixedtree.stamp');
  const sources = MIXED_SOURCES.filter((s) => existsSync(s));
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === sources.join('\n')) return dest;
  log(`copying ${sources.join(', ')} to ${dest}`);
  rmSync(dest, { recursive: true, force: true });
  for (const src of sources) {
    const to = path.join(dest, src);
    mkdirSync(path.dirname(to), { recursive: true });
    sh('cp', ['-r', '--preserve=mode', src, to]);
  }
  writeFileSync(stamp, sources.join('\n'));
  return dest;
}

export function treeStats(dir) {
  const [files, bytes] = sh('sh', ['-c', `find "${dir}" -type f | wc -l; du -sb "${dir}" | cut -f1`]).trim().split('\n').map(Number);
  const entries = Number(sh('sh', ['-c', `find "${dir}" | wc -l`]).trim());
  return { files, entries, bytes };
}

const PLATFORMS = [
  ['linux/amd64', 'amd64', '/bin/busybox'],
  ['linux/arm64/v8', 'arm64v8', 'arm64'],
  ['linux/arm/v7', 'arm32v7', 'armhf'],
  ['linux/arm/v6', 'arm32v6', 'armel'],
  ['linux/arm/v5', 'arm32v5', 'armel'],
];

/**
 * The small end-to-end case: a five-platform busybox base in a local layout
 * (built once, "already cached"), and per platform one 10 MiB binary: a
 * distinct 10 MiB slice of the Go tool binaries.
 */
export async function smallInputs(gotree) {
  const dir = path.join(WORK, 'small');
  const file = path.join(dir, 'ociasm.yaml');
  if (existsSync(path.join(dir, 'base', 'index.json')) && existsSync(file)) return file;
  const fixtures = path.join(ROOT, '.cache', 'fixtures', 'busybox');
  if (!existsSync(path.join(fixtures, 'armel', 'busybox'))) {
    log('fetching foreign busybox binaries (test/harness/test-deps.mjs)');
    sh(process.execPath, [path.join(ROOT, 'test', 'harness', 'test-deps.mjs')], { stdio: 'inherit' });
  }
  rmSync(dir, { recursive: true, force: true });
  const tools = path.join(gotree, 'pkg', 'tool', 'linux_amd64');
  const pool = ['compile', 'trace', 'pprof', 'vet', 'link'].map((n) => readFileSync(path.join(tools, n)));
  const all = Buffer.concat(pool);
  const MiB = 1 << 20;
  for (const [i, [, tag, bb]] of PLATFORMS.entries()) {
    mkdirSync(path.join(dir, 'busybox', tag), { recursive: true });
    sh('cp', [bb.startsWith('/') ? bb : path.join(fixtures, bb, 'busybox'), path.join(dir, 'busybox', tag, 'busybox')]);
    mkdirSync(path.join(dir, 'app', tag), { recursive: true });
    const start = (i * 5 * MiB) % Math.max(1, all.length - 10 * MiB);
    writeFileSync(path.join(dir, 'app', tag, 'app'), all.subarray(start, start + 10 * MiB), { mode: 0o755 });
  }
  const platforms = PLATFORMS.map(([p]) => p).join(', ');
  writeFileSync(path.join(dir, 'base.yaml'), `images:
  - name: busybox
    tag: "1"
    platforms: [${platforms}]
    files: [{ src: "busybox/{{platformTag}}/busybox", dest: /bin/busybox }]
    paths:
      - { path: /bin/sh, type: symlink, target: busybox }
      - { path: /tmp, type: directory, mode: "1777" }
`);
  sh(process.execPath, [CLI, 'build', '-f', path.join(dir, 'base.yaml'), '-o', path.join(dir, 'base'), '--no-layer-cache']);
  writeFileSync(file, `images:
  - name: app
    tag: "1"
    base: oci:base:busybox:1
    platforms: [${platforms}]
    files: [{ src: "app/{{platformTag}}/app", dest: /usr/local/bin/app }]
    entrypoint: [/usr/local/bin/app]
`);
  return file;
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Debian's docker-registry on a loopback port, storage in a fresh folder (default WORK/registry). */
export async function startRegistry(dir = path.join(WORK, 'registry')) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const port = await freePort();
  writeFileSync(path.join(dir, 'config.yml'), `version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: ${dir}/data } }
http: { addr: 127.0.0.1:${port}, secret: ociasm-bench }
`);
  const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => http.get(`http://127.0.0.1:${port}/v2/`, (res) => { res.resume(); r(res.statusCode === 200); }).on('error', () => r(false)));
    if (ok) return { host: `127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  throw new Error('docker-registry did not start');
}

/** Bytes of the largest layer of the first manifest in an OCI layout (umoci's output). */
export function layoutLayerSize(layout) {
  const blob = (d) => JSON.parse(readFileSync(path.join(layout, 'blobs', 'sha256', d.slice(7)), 'utf8'));
  const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
  const manifest = blob(index.manifests[0].digest);
  return Math.max(...manifest.layers.map((l) => l.size));
}
