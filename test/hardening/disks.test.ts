/**
 * Full disks, read-only file systems and permissions (issue 12, "full
 * disks"): a small tmpfs for ENOSPC (on the output and in TMPDIR), a
 * read-only bind mount for EROFS, user nobody for EACCES. Each is an IO
 * error naming the path and what to do; nothing is left half-written. The
 * mounts need root (the test harness runs as root, as the brief's machine
 * does) and are removed in afterAll.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handLayout, tarOf } from '../harness/hand-layers.js';
import { must, ociasm, readLayoutIndex, run, runAsNobody, cliForNobody, tempDir } from '../harness/util.js';

const tmp = tempDir();
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const mounts: string[] = [];

async function mount(args: string[], at: string): Promise<void> {
  mkdirSync(at, { recursive: true });
  await must('mount', [...args, at]);
  mounts.unshift(at);
}

function buildFile(name: string, body: string): string {
  const file = j(`${name}.yaml`);
  writeFileSync(file, `images:\n  - name: ${name}\n    platforms: [linux/amd64]\n${body}`);
  return file;
}

beforeAll(async () => {
  expect(process.getuid?.(), 'these tests mount file systems: run as root').toBe(0);
  mkdirSync(j('src'));
  writeFileSync(j('src', 'big.bin'), randomBytes(3 << 20)); // incompressible: the layer is > 3 MiB
  await mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], j('full'));
  await mount(['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs'], j('smalltmp'));
  // A layout built first, then seen through a read-only bind mount.
  const r = await ociasm(['build', '-f', buildFile('ro', '    paths: [{ path: /x, type: file, content: x }]\n'), '-o', j('ro-src', 'oci')]);
  expect(r.code, r.stderr).toBe(0);
  await mount(['--bind', '-o', 'ro', j('ro-src')], j('ro'));
  await must('mount', ['-o', 'remount,bind,ro', j('ro')]).catch(() => undefined);
});

afterAll(async () => {
  for (const m of mounts) await run('umount', ['-l', m]);
  tmp.cleanup();
});

describe('ENOSPC', () => {
  it('a full output file system is IO naming the path and what to do; no temp file is left', async () => {
    const out = j('full', 'oci');
    const r = await ociasm(['build', '-f', buildFile('big', `    files: [{ src: ${j('src')}/, dest: /data/ }]\n`), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[IO]');
    expect(r.stderr).toContain('ENOSPC');
    expect(r.stderr).toContain(out);
    expect(r.stderr).toContain('free space');
    expect(readLayoutIndex(out).manifests).toEqual([]);
    expect(readdirSync(path.join(out, 'blobs', 'sha256')).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });
  it('a base layer too big for TMPDIR stops before TMPDIR is full, naming TMPDIR', async () => {
    const spec = await handLayout(j('bigbase'), 'v1', [{ tar: tarOf([{ path: 'blob', body: randomBytes(12 << 20) }]) }]);
    const r = await ociasm(['build', '-f', buildFile('spool', `    base: "${spec}"\n`), '-o', j('spool-out')], { env: { ...process.env, TMPDIR: j('smalltmp') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[IO]');
    expect(r.stderr).toContain('TMPDIR');
    expect(r.stderr).toContain('do not fit into'); // the free-space guard, not ENOSPC
    expect(r.stderr).not.toContain('ENOSPC');
    expect(readdirSync(j('smalltmp'))).toEqual([]);
    expect(readLayoutIndex(j('spool-out')).manifests).toEqual([]);
  });
});

describe('EROFS', () => {
  it('an existing layout on a read-only file system: IO EROFS, not ENOENT', async () => {
    const r = await ociasm(['build', '-f', j('ro.yaml'), '-o', j('ro', 'oci')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[IO]');
    expect(r.stderr).toContain('EROFS');
    expect(r.stderr).toContain('read-only file system');
    expect(r.stderr).not.toContain('ENOENT');
  });
  it('a new layout under a read-only mount: IO EROFS naming the folder, not ENOENT', async () => {
    const r = await ociasm(['build', '-f', j('ro.yaml'), '-o', j('ro', 'new', 'oci')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[IO]');
    expect(r.stderr).toContain('EROFS');
    expect(r.stderr).toContain(j('ro', 'new'));
    expect(r.stderr).not.toContain('ENOENT');
    expect(existsSync(j('ro', 'new'))).toBe(false);
  });
});

describe('EACCES', () => {
  it('an output layout the user cannot write, and an unwritable TMPDIR, are IO EACCES', async () => {
    const cli = await cliForNobody(tmp.dir);
    mkdirSync(j('locked'), { mode: 0o755 });
    chmodSync(tmp.dir, 0o755);
    writeFileSync(j('nobody.yaml'), 'images:\n  - name: n\n    platforms: [linux/amd64]\n    paths: [{ path: /x, type: file, content: x }]\n');
    chmodSync(j('nobody.yaml'), 0o644);
    const out = await runAsNobody(process.execPath, [cli, 'build', '-f', j('nobody.yaml'), '-o', j('locked', 'oci')], { env: { ...process.env, HOME: '/nonexistent', OCIASM_CACHE_DIR: '/tmp/ociasm-nobody-cache' } });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('error[IO]');
    expect(out.stderr).toContain('EACCES');
    expect(out.stderr).toContain(j('locked', 'oci'));
    mkdirSync(j('notmp'), { mode: 0o755 });
    const spec = await handLayout(j('nb-base'), 'v1', [{ tar: tarOf([{ path: 'f', body: 'x' }]) }]);
    await must('chmod', ['-R', 'a+rX', j('nb-base')]);
    writeFileSync(j('nobody2.yaml'), `images:\n  - name: n\n    base: "${spec}"\n    platforms: [linux/amd64]\n`);
    chmodSync(j('nobody2.yaml'), 0o644);
    mkdirSync(j('nb-out'), { mode: 0o777 });
    chmodSync(j('nb-out'), 0o777);
    const t = await runAsNobody(process.execPath, [cli, 'build', '-f', j('nobody2.yaml'), '-o', j('nb-out', 'oci')], { env: { ...process.env, TMPDIR: j('notmp'), HOME: '/nonexistent', OCIASM_CACHE_DIR: '/tmp/ociasm-nobody-cache' } });
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('error[IO]');
    expect(t.stderr).toContain('EACCES');
    expect(t.stderr).toContain(j('notmp'));
  });
});
