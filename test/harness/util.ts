/** Shared helpers for the tests: run the real CLI, run host tools, read layouts. */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist', 'cmd', 'ociasm.js');
export const BUSYBOX_FIXTURES = path.join(ROOT, '.cache', 'fixtures', 'busybox');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: ExecFileOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, encoding: 'utf8', ...opts }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Runs a command and fails the test with its output when it exits non-zero. */
export async function must(cmd: string, args: string[], opts: ExecFileOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function ociasm(args: string[], opts: ExecFileOptions = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], opts);
}

export function tempDir(prefix = 'ociasm-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function blobPath(layout: string, digest: string): string {
  return path.join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

export function readBlobJson<T = any>(layout: string, digest: string): T {
  return JSON.parse(readFileSync(blobPath(layout, digest), 'utf8')) as T;
}

export function readLayoutIndex(layout: string): any {
  return JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
}

export function refDescriptor(layout: string, ref: string): any {
  const hit = readLayoutIndex(layout).manifests.find((d: any) => d.annotations?.['org.opencontainers.image.ref.name'] === ref);
  if (!hit) throw new Error(`no ref ${ref} in ${layout}`);
  return hit;
}

/** The per-platform manifests of an image index ref, with their layer blob paths. */
export function platformImages(layout: string, ref: string) {
  const index = readBlobJson(layout, refDescriptor(layout, ref).digest);
  return index.manifests.map((m: any) => {
    const manifest = readBlobJson(layout, m.digest);
    const p = m.platform;
    return {
      platform: p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`,
      descriptor: m,
      manifest,
      config: readBlobJson(layout, manifest.config.digest),
      layerPath: blobPath(layout, manifest.layers[0].digest),
    };
  });
}

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups', '--'];

/** Runs a command as the unprivileged user nobody (65534:65534). */
export function runAsNobody(cmd: string, args: string[], opts: ExecFileOptions = {}): Promise<RunResult> {
  return run('setpriv', [...NOBODY, cmd, ...args], opts);
}

/**
 * The CLI path that user nobody can run. A checkout inside a private folder
 * (a mktemp -d clone, say) is staged into a world-readable copy of dist/,
 * package.json and the production node_modules.
 */
export async function cliForNobody(stageIn: string): Promise<string> {
  if ((await runAsNobody('test', ['-r', CLI])).code === 0) return CLI;
  const stage = path.join(stageIn, 'ociasm-staged');
  const paths = (await must('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT })).trim().split('\n').slice(1);
  cpSync(path.join(ROOT, 'dist'), path.join(stage, 'dist'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(stage, 'package.json'));
  for (const p of paths) cpSync(p, path.join(stage, path.relative(ROOT, p)), { recursive: true, dereference: true });
  await must('chmod', ['-R', 'a+rX', stage]);
  return path.join(stage, 'dist', 'cmd', 'ociasm.js');
}
