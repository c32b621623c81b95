/**
 * Temp files and folders of our own kind, and their cleanup.
 *
 * Rules:
 * - every temp name carries the owner's pid: `<prefix><pid>-<random>`;
 * - a live process tracks what it created here, and the process groups of
 *   the tools it runs; on SIGINT/SIGTERM the CLI kills those groups
 *   (killGroupsSync) and removes every tracked path synchronously
 *   (removeTrackedSync) before it exits 130/143 — these lists are
 *   process-wide because signals are;
 * - a later run removes stale ones (sweepStale): our prefix, an owner pid
 *   that is no living process on this machine (kill(pid, 0) fails with
 *   ESRCH), and untouched for STALE_AGE_MS, so a temp of a process in another
 *   pid namespace sharing the folder gets time to show it is alive. Names
 *   from before the pid rule (`<prefix><16 hex>`) count as stale after
 *   LEGACY_AGE_MS. Nothing else in the folder is ever touched.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ioError } from '../errors.js';

export const STALE_AGE_MS = 60_000;
export const LEGACY_AGE_MS = 60 * 60_000;

const tracked = new Set<string>();
const groups = new Set<number>();

/**
 * A child process group (a user's tool started with `detached`), so an
 * interrupted ociasm takes the whole group with it, grandchildren included.
 */
export function trackGroup(pgid: number): void {
  groups.add(pgid);
}

export function untrackGroup(pgid: number): void {
  groups.delete(pgid);
}

/** Sends SIGKILL to every tracked process group (signal handlers; best effort). */
export function killGroupsSync(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, signal);
    } catch {
      // already gone
    }
  }
  groups.clear();
}

/** `<prefix><pid>-<random hex>`. */
export function tempName(prefix: string): string {
  return `${prefix}${process.pid}-${randomBytes(6).toString('hex')}`;
}

export function track(p: string): void {
  tracked.add(p);
}

export function untrack(p: string): void {
  tracked.delete(p);
}

/** Removes every tracked temp path now (signal handlers: synchronous, best effort). */
export function removeTrackedSync(): void {
  for (const p of tracked) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch {
      // best effort: the next run's sweep removes what is left
    }
  }
  tracked.clear();
}

export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: alive, someone else's
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes stale temps named `<prefix><pid>-…` (or legacy `<prefix><16 hex>`)
 * directly in `dir`. Best effort: a folder that cannot be listed is left alone.
 */
export async function sweepStale(dir: string, prefix: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const ours = new RegExp(`^${escapeRe(prefix)}(\\d+)-[0-9A-Za-z]+$`);
  const legacy = new RegExp(`^${escapeRe(prefix)}[0-9a-f]{12,16}$`);
  const removed: string[] = [];
  for (const name of names) {
    const m = ours.exec(name);
    const isLegacy = !m && legacy.test(name);
    if (!m && !isLegacy) continue;
    if (m && (Number(m[1]) === process.pid || pidAlive(Number(m[1])))) continue;
    const p = path.join(dir, name);
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (now - st.mtimeMs < (isLegacy ? LEGACY_AGE_MS : STALE_AGE_MS)) continue;
    await rm(p, { recursive: true, force: true }).then(() => removed.push(p), () => undefined);
  }
  return removed;
}

/** A new temp folder `<dir>/<prefix><pid>-<random>`, tracked; stale ones of the same prefix are swept first. */
export async function makeTempDir(dir: string, prefix: string): Promise<string> {
  await sweepStale(dir, prefix);
  let made: string;
  try {
    made = await mkdtemp(path.join(dir, `${prefix}${process.pid}-`));
  } catch (e) {
    throw ioError('cannot create a temp folder in', dir, e);
  }
  track(made);
  return made;
}

/** Removes a temp folder made by makeTempDir and forgets it. */
export async function removeTempDir(p: string): Promise<void> {
  await rm(p, { recursive: true, force: true });
  untrack(p);
}
