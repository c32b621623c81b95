/**
 * Concurrent builds, kills and leftovers (issue 12, "Concurrency, crashes"):
 * eight builds into one layout keep all eight refs; a held lock times out
 * with a clear message, a dead owner's lock is broken; SIGTERM/SIGINT clean
 * up and exit 143/130; a later run sweeps stale temp files of our own kind
 * and nothing else. Every run gets a private TMPDIR so what is left in it
 * can be counted.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handLayout, tarOf } from '../harness/hand-layers.js';
import { CLI, must, ociasm, readLayoutIndex, tempDir } from '../harness/util.js';

const tmp = tempDir();
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const DEAD_PID = 999_999_999; // above any pid_max: kill(pid, 0) is ESRCH
let baseSpec: string;

function buildFile(name: string, extra = ''): string {
  const file = j(`${name}.yaml`);
  writeFileSync(file, `images:\n  - name: ${name}\n    base: "${baseSpec}"\n    platforms: [linux/amd64]\n    paths: [{ path: /${name}, type: file, content: ${name} }]\n${extra}`);
  return file;
}

function privateTmp(name: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = j(`tmpdir-${name}`);
  mkdirSync(dir, { recursive: true });
  return { dir, env: { ...process.env, TMPDIR: dir, OCIASM_CACHE_DIR: j('cache') } };
}

function refs(layout: string): string[] {
  return readLayoutIndex(layout).manifests.map((d: any) => d.annotations['org.opencontainers.image.ref.name']).sort();
}

function temps(layout: string): string[] {
  return readdirSync(path.join(layout, 'blobs', 'sha256')).filter((f) => f.startsWith('.tmp'));
}

function age(p: string, seconds: number): void {
  const t = Date.now() / 1000 - seconds;
  utimesSync(p, t, t);
}

beforeAll(async () => {
  baseSpec = await handLayout(j('base'), 'v1', [{ tar: tarOf([{ path: 'etc/base', body: 'base\n' }, { path: 'usr/share/data', body: Buffer.alloc(300_000, 7) }]) }]);
});
afterAll(() => tmp.cleanup());

describe('concurrent builds into one layout', () => {
  it('eight builds at once keep all eight refs (two rounds)', async () => {
    const out = j('shared');
    const names = Array.from({ length: 8 }, (_, i) => `img${i}`);
    const files = names.map((n) => buildFile(n));
    for (let round = 0; round < 2; round++) {
      const { env } = privateTmp(`conc-${round}`);
      const results = await Promise.all(files.map((f) => ociasm(['build', '-f', f, '-o', out], { env })));
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      expect(refs(out)).toEqual(names.map((n) => `${n}:latest`));
      expect(temps(out)).toEqual([]);
      expect(existsSync(path.join(out, 'index.json.lock'))).toBe(false);
    }
    await must('skopeo', ['inspect', `oci:${out}:img7:latest`]);
  });
  it('a lock held by a living process times out with LOCK_TIMEOUT naming the lock and its owner', async () => {
    const out = j('held');
    const { env } = privateTmp('held');
    expect((await ociasm(['build', '-f', buildFile('first'), '-o', out], { env })).code).toBe(0);
    const before = readLayoutIndex(out);
    writeFileSync(path.join(out, 'index.json.lock'), `${process.pid}\n`);
    const r = await ociasm(['build', '-f', buildFile('second'), '-o', out, '--lock-timeout', '1'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[LOCK_TIMEOUT]');
    expect(r.stderr).toContain(path.join(out, 'index.json.lock'));
    expect(r.stderr).toContain(`process ${process.pid}`);
    expect(readLayoutIndex(out)).toEqual(before);
    expect(existsSync(path.join(out, 'index.json.lock'))).toBe(true); // not ours to remove
  });
  it('a lock left by a dead process is broken', async () => {
    const out = j('held');
    writeFileSync(path.join(out, 'index.json.lock'), `${DEAD_PID}\n`);
    const r = await ociasm(['build', '-f', buildFile('third'), '-o', out, '--lock-timeout', '5'], { env: privateTmp('stale-lock').env });
    expect(r.code, r.stderr).toBe(0);
    expect(refs(out)).toEqual(['first:latest', 'third:latest']);
    expect(existsSync(path.join(out, 'index.json.lock'))).toBe(false);
  });
});

async function interrupted(signal: 'SIGTERM' | 'SIGINT'): Promise<{ code: number | null; stderr: string; tmpLeft: string[]; out: string }> {
  const name = `sig${signal.toLowerCase()}`;
  const marker = j(`${name}.started`);
  // A duration no other process sleeps (other runs of this suite included), to find this one afterwards.
  const nap = `${7000 + Math.floor(Math.random() * 2000)}.${process.pid}`;
  const file = buildFile(name, `    test: [sh, -c, "touch ${marker}; sleep ${nap}", "{{rootfs}}"]\n`);
  const out = j(`${name}-out`);
  const { dir, env } = privateTmp(name);
  const child = spawn(process.execPath, [CLI, 'build', '-f', file, '-o', out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 600 && !existsSync(marker); i++) await sleep(100);
  expect(existsSync(marker)).toBe(true);
  // The self-check is running: the spool and the check rootfs are in TMPDIR now.
  expect(readdirSync(dir).filter((f) => f.startsWith('ociasm-')).length).toBeGreaterThan(0);
  child.kill(signal);
  const code = await exited;
  // The tool's whole process group went with it: no sleep is left behind.
  const left = await must('ps', ['-eo', 'args']);
  expect(left.split('\n').filter((l) => l.includes(marker) || l.trim() === `sleep ${nap}`)).toEqual([]);
  return { code, stderr, tmpLeft: readdirSync(dir), out };
}

describe('signals', () => {
  it('SIGTERM mid-build removes its temp files and spool folders and exits 143', async () => {
    const r = await interrupted('SIGTERM');
    expect(r.code).toBe(143);
    expect(r.stderr).toContain('interrupted by SIGTERM');
    expect(r.tmpLeft).toEqual([]);
    expect(temps(r.out)).toEqual([]);
    expect(readLayoutIndex(r.out).manifests).toEqual([]);
  });
  it('SIGINT exits 130, likewise clean', async () => {
    const r = await interrupted('SIGINT');
    expect(r.code).toBe(130);
    expect(r.tmpLeft).toEqual([]);
    expect(temps(r.out)).toEqual([]);
  });
});

describe('stale temp files of a killed run', () => {
  it('are swept by the next build when their owner is dead and they are old; others are kept', async () => {
    const out = j('sweep');
    const { dir, env } = privateTmp('sweep');
    expect((await ociasm(['build', '-f', buildFile('sweep'), '-o', out], { env })).code).toBe(0);
    const blobs = path.join(out, 'blobs', 'sha256');
    const stale = [
      path.join(blobs, `.tmp-${DEAD_PID}-0123456789ab`),
      path.join(blobs, '.tmp-0123456789abcdef'), // the older naming, no pid
      path.join(out, `index.json.tmp-${DEAD_PID}-0123456789ab`),
      path.join(dir, `ociasm-spool-${DEAD_PID}-AbC123`),
      path.join(dir, `ociasm-check-${DEAD_PID}-AbC123`),
    ];
    const kept = [
      path.join(blobs, `.tmp-${process.pid}-0123456789ab`), // a living owner
      path.join(blobs, `.tmp-${DEAD_PID}-fedcba987654`), // too fresh: it may belong to another pid namespace
      path.join(dir, 'ociasm-spool-notours'), // not our naming
      path.join(dir, 'unrelated.txt'),
    ];
    for (const p of [...stale, ...kept]) {
      if (path.basename(p).startsWith('ociasm-spool-') || path.basename(p).startsWith('ociasm-check-')) {
        mkdirSync(p);
        writeFileSync(path.join(p, 'contents'), 'x');
      } else writeFileSync(p, 'x');
    }
    for (const p of [...stale, ...kept.slice(0, 1), ...kept.slice(2)]) age(p, 2 * 3600);
    const r = await ociasm(['build', '-f', buildFile('sweep2', '    test: ["true", "{{rootfs}}"]\n'), '-o', out], { env });
    expect(r.code, r.stderr).toBe(0);
    for (const p of stale) expect(existsSync(p), p).toBe(false);
    for (const p of kept) expect(existsSync(p), p).toBe(true);
  });
});
