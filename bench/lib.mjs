// Bench helpers: run whole processes under /usr/bin/time, medians, tool installs, versions.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'dist', 'cmd', 'ociasm.js');
export const WORK = process.env.BENCH_DIR ? path.resolve(process.env.BENCH_DIR) : path.join(ROOT, '.cache', 'bench');
export const CORES = os.availableParallelism();

/** Debian packages the bench runs (binary → package). */
const TOOLS = {
  umoci: 'umoci', pigz: 'pigz', skopeo: 'skopeo', 'docker-registry': 'docker-registry', go: 'golang-go',
  gzip: 'gzip', tar: 'tar', busybox: 'busybox-static', zstd: 'zstd',
};

export function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

export function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
}

export function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

export function ensureTools() {
  const missing = Object.entries(TOOLS).filter(([bin]) => !has(bin)).map(([, pkg]) => pkg);
  if (!existsTime()) missing.push('time');
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`the bench needs: apt-get install -y ${missing.join(' ')}`);
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

function existsTime() {
  return spawnSync('/usr/bin/time', ['-f', '%e', 'true']).status === 0;
}

/**
 * Runs one process (or an `sh -c` pipeline) under GNU time: wall seconds,
 * CPU seconds (user + sys of it and its children) and peak RSS in MiB (the
 * largest single process). Throws with its stderr when it fails.
 */
export function measure(cmd, args, opts = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ociasm-bench-time-'));
  const out = path.join(tmp, 'time');
  return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn('/usr/bin/time', ['-o', out, '-f', '%e %U %S %M', cmd, ...args], {
        cwd: opts.cwd ?? WORK, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', (code) => {
        const wall = (performance.now() - t0) / 1000;
        if (code !== 0) return rmSync(tmp, { recursive: true, force: true }), reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr.slice(-4000)}`));
        const [, user, sys, rssKb] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        rmSync(tmp, { recursive: true, force: true });
        resolve({ wall, cpu: user + sys, rss: rssKb / 1024, stdout, stderr });
      });
  });
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function loadAverage() {
  return os.loadavg().map((x) => x.toFixed(2)).join(' ');
}

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout || ''}${r.stderr || ''}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown';
}

function dpkgVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : 'not installed';
}

export function versions() {
  let rev = 'unknown';
  try {
    rev = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).trim();
    if (sh('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no']).trim() !== '') rev += ' + local changes';
  } catch { /* not a git checkout */ }
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  return {
    ociasm: `${pkg.version} (${rev}), Node ${process.version}, zlib ${process.versions.zlib}`,
    umoci: firstLine('umoci', ['--version']),
    'GNU tar': firstLine('tar', ['--version']),
    gzip: firstLine('gzip', ['--version']),
    pigz: firstLine('pigz', ['--version']),
    zstd: firstLine('zstd', ['--version']),
    skopeo: firstLine('skopeo', ['--version']),
    'docker-registry': `Debian docker-registry ${dpkgVersion('docker-registry')}`,
    'golang-go': `Debian golang-go ${dpkgVersion('golang-go')}`,
  };
}

export function cpuModel() {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
