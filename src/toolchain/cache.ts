/**
 * The toolchain build cache, in `<cacheDir>/toolchain/`:
 * - `blobs/sha256/<hex>`: output file contents, content-addressed;
 * - `entries/<key>.json`: for a step key (command, declared env, source date
 *   epoch, inputs' contents, platform, outputs), the outputs it produced.
 * Files are written to a temp name and renamed, so a crash leaves no half entry.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../cas/atomic-file.js';
import { sweepStale, tempName, track, untrack } from '../cas/temp-files.js';
import { ioError } from '../errors.js';

export interface OutputEntry {
  /** Relative to the output ('' for the output itself). */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  digest?: string;
  target?: string;
}

export interface CachedOutput {
  src: string;
  entries: OutputEntry[];
}

export interface CacheEntry {
  outputs: CachedOutput[];
}

/** `OCIASM_CACHE_DIR`, else `$XDG_CACHE_HOME/ociasm`, else `~/.cache/ociasm`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.OCIASM_CACHE_DIR) return path.resolve(env.OCIASM_CACHE_DIR);
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'ociasm');
}

export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class ToolchainCache {
  private readonly blobs: string;
  private readonly entries: string;
  /** Stale temps of killed runs are swept once per run, at the first store (cas/temp-files.ts). */
  private swept = false;
  constructor(readonly dir: string) {
    this.blobs = path.join(dir, 'toolchain', 'blobs', 'sha256');
    this.entries = path.join(dir, 'toolchain', 'entries');
  }

  blobPath(hex: string): string {
    if (!/^[0-9a-f]{64}$/.test(hex)) throw ioError('bad cache digest', hex, 'EINVAL');
    return path.join(this.blobs, hex);
  }

  /** Copies a file into the store; returns its sha256. */
  async putFile(file: string): Promise<string> {
    await mkdir(this.blobs, { recursive: true });
    if (!this.swept) {
      this.swept = true;
      await sweepStale(this.blobs, '.tmp-');
    }
    const tmp = path.join(this.blobs, tempName('.tmp-'));
    track(tmp);
    try {
      await copyFile(file, tmp);
      const hex = await sha256File(tmp);
      await rename(tmp, this.blobPath(hex));
      return hex;
    } catch (e) {
      throw ioError('cannot store build output', file, e);
    } finally {
      await rm(tmp, { force: true });
      untrack(tmp);
    }
  }

  /** Copies a stored blob to `dest`, checking its content; false when missing or damaged. */
  async getFile(hex: string, dest: string): Promise<boolean> {
    try {
      await copyFile(this.blobPath(hex), dest);
    } catch {
      return false;
    }
    return (await sha256File(dest)) === hex;
  }

  async readEntry(key: string): Promise<CacheEntry | undefined> {
    try {
      const entry = JSON.parse(await readFile(path.join(this.entries, `${key}.json`), 'utf8')) as CacheEntry;
      return Array.isArray(entry.outputs) ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  async writeEntry(key: string, entry: CacheEntry): Promise<void> {
    await mkdir(this.entries, { recursive: true });
    await writeFileAtomic(path.join(this.entries, `${key}.json`), JSON.stringify(entry), 'cannot write cache entry');
  }
}
