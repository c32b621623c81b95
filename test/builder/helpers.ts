/** Helpers for the builder tests: a git repo from a fixture, layer extraction, qemu per platform. */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { must, ROOT } from '../harness/util.js';

/** qemu-user binary for each test platform; '' runs natively (the suite runs on amd64). */
export const QEMU: Record<string, string> = {
  'linux/amd64': '',
  'linux/arm64/v8': 'qemu-aarch64-static',
  'linux/arm/v7': 'qemu-arm-static',
  'linux/arm/v6': 'qemu-arm-static',
  'linux/arm/v5': 'qemu-arm-static',
};

export const TAGS: Record<string, string> = {
  'linux/amd64': 'amd64', 'linux/arm64/v8': 'arm64v8', 'linux/arm/v7': 'arm32v7', 'linux/arm/v6': 'arm32v6', 'linux/arm/v5': 'arm32v5',
};

/** The environment of the ociasm runs: a private build cache and Go's compile cache shared across runs in .cache/. */
export function builderEnv(cacheDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, OCIASM_CACHE_DIR: cacheDir, GOCACHE: path.join(ROOT, '.cache', 'go-build'), GOFLAGS: '', CI: '1', ...extra };
}

const GIT_ENV = {
  ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com', GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
};

/** Makes a git repo at `dir` holding the fixture in `dir/sub` and `files`, commits on branch main; returns the commit. */
export async function gitRepoFrom(fixture: string, dir: string, sub: string, files: Record<string, string> = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  cpSync(path.join(ROOT, 'fixtures', fixture), path.join(dir, sub), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  await must('git', ['init', '-q', '-b', 'main', dir], { env: GIT_ENV });
  await must('git', ['-C', dir, 'add', '-A'], { env: GIT_ENV });
  await must('git', ['-C', dir, 'commit', '-q', '-m', 'fixture'], { env: GIT_ENV });
  return (await must('git', ['-C', dir, 'rev-parse', 'HEAD'])).trim();
}

/** Extracts a layer with GNU tar into `dest` and returns `dest`. */
export async function extractLayer(layerPath: string, dest: string): Promise<string> {
  mkdirSync(dest, { recursive: true });
  await must('tar', ['-xzpf', layerPath, '-C', dest]);
  return dest;
}

/** Runs a binary for `platform` under qemu-user (natively on amd64). */
export async function runFor(platform: string, binary: string): Promise<string> {
  const qemu = QEMU[platform];
  return qemu ? must(qemu, [binary]) : must(binary, []);
}

export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
