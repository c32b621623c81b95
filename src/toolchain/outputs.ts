/**
 * Build outputs: after a run each declared output (a file, or a directory of
 * files, directories and symlinks) goes into the cache store with its modes;
 * then — after a run or on a cache hit alike — it is restored into a fresh
 * work folder, from where it is injected into the image and extracted.
 */
import { lstatSync, readdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { chmod, mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { OciasmError } from '../errors.js';
import { compareNames } from '../rootfs/tree.js';
import type { CachedOutput, OutputEntry, ToolchainCache } from './cache.js';
import { fillOut, OUT, type PlannedBuildStep } from '../plan/build-step.js';

export interface RestoredOutput {
  /** Where the output now is on the host (named like the original). */
  hostPath: string;
  dest: string;
  /** Its path under `--extract DIR/<platformTag>/`: relative to `{{out}}`, else its base name. */
  extractName: string;
  /** The sha256 (hex) of every restored file, by host path: the layer cache identifies them by content. */
  digests: Map<string, string>;
}

export function hostPathOf(step: PlannedBuildStep, src: string, out: string): string {
  return path.resolve(step.base, fillOut(src, out));
}

/** The name an output gets under the extract folder; may climb ('../x'), which extraction refuses. */
export function extractNameOf(src: string): string {
  const m = /^\{\{\s*out\s*\}\}(\/.*)?$/.exec(src);
  if (m) return path.posix.normalize(`.${m[1] ?? ''}`).replace(/\/$/, '');
  return path.basename(src);
}

function kindOf(st: Stats): OutputEntry['type'] | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return undefined;
}

async function collectTree(abs: string, rel: string, cache: ToolchainCache, out: OutputEntry[], where: string): Promise<void> {
  const st = rel === '' ? statSync(abs) : lstatSync(abs); // the output itself is followed if a symlink
  const type = kindOf(st);
  if (!type) throw new OciasmError('OUTPUT_MISSING', `${where}: ${abs} is not a file, directory or symlink`);
  const entry: OutputEntry = { path: rel, type, mode: st.mode & 0o7777 };
  if (type === 'file') entry.digest = await cache.putFile(abs);
  if (type === 'symlink') entry.target = readlinkSync(abs);
  out.push(entry);
  if (type === 'directory') {
    for (const name of readdirSync(abs).sort(compareNames)) {
      await collectTree(path.join(abs, name), rel === '' ? name : `${rel}/${name}`, cache, out, where);
    }
  }
}

export async function collectOutputs(step: PlannedBuildStep, out: string, cache: ToolchainCache): Promise<CachedOutput[]> {
  const result: CachedOutput[] = [];
  for (const o of step.outputs) {
    const abs = hostPathOf(step, o.src, out);
    const where = `${step.where}: build.outputs "${o.src}"`;
    try {
      statSync(abs);
    } catch {
      throw new OciasmError('OUTPUT_MISSING', `${where}: ${abs} does not exist after the build step ran`);
    }
    const entries: OutputEntry[] = [];
    await collectTree(abs, '', cache, entries, where);
    result.push({ src: o.src, entries });
  }
  return result;
}

/** Restores cached outputs under `work`; undefined when a blob is missing or damaged (a miss). */
export async function restoreOutputs(step: PlannedBuildStep, cached: CachedOutput[], cache: ToolchainCache, work: string): Promise<RestoredOutput[] | undefined> {
  const restored: RestoredOutput[] = [];
  const dirModes: [string, number][] = [];
  for (const [i, o] of step.outputs.entries()) {
    const c = cached[i];
    if (!c || c.src !== o.src) return undefined;
    const name = path.basename(o.src.replace(OUT, 'out')) || 'out';
    const host = path.join(work, String(i), name);
    const digests = new Map<string, string>();
    await mkdir(path.dirname(host), { recursive: true });
    for (const e of c.entries) {
      if (e.path.split('/').includes('..')) return undefined;
      const p = e.path === '' ? host : path.join(host, e.path);
      if (e.type === 'directory') {
        await mkdir(p, { recursive: true });
        dirModes.push([p, e.mode]);
      } else if (e.type === 'symlink') await symlink(e.target ?? '', p);
      else {
        if (!e.digest || !(await cache.getFile(e.digest, p))) return undefined;
        await chmod(p, e.mode);
        digests.set(p, e.digest);
      }
    }
    restored.push({ hostPath: host, dest: o.dest, extractName: extractNameOf(o.src), digests });
  }
  for (const [p, mode] of dirModes.reverse()) await chmod(p, mode | 0o700);
  return restored;
}
