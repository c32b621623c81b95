/**
 * An exclusive lock on one layout's index.json, held while it is read,
 * merged and replaced, so concurrent builds into one layout never lose a
 * ref (umoci and containers/storage lock the same way, with flock; Node has
 * no flock, so this is a lock file made with O_EXCL).
 *
 * Rules:
 * - the lock is `<layout>/index.json.lock`, holding the owner's pid; it is
 *   created with O_CREAT|O_EXCL and removed on release (and by the CLI's
 *   signal handler: it is a tracked temp);
 * - a waiter polls until `timeoutMs` (default DEFAULT_LOCK_TIMEOUT_MS, the
 *   build option `lockTimeoutMs`, CLI `--lock-timeout SECONDS`), then fails
 *   with LOCK_TIMEOUT naming the lock file and its owner;
 * - a lock whose pid is no living process on this machine is stale: it is
 *   renamed away (only one waiter wins the rename), re-read, and restored if
 *   its owner turned out to be alive after all;
 * - an `AbortSignal` stops the wait.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoOf, ioError, OciasmError, printable } from '../errors.js';
import { pidAlive, track, untrack } from './temp-files.js';

export const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

export interface LockOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

async function ownerOf(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pid = Number(text.trim().split(/\s+/)[0]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

async function tryCreate(file: string): Promise<boolean> {
  try {
    const fh = await open(file, 'wx', 0o644);
    try {
      await fh.writeFile(`${process.pid}\n`);
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    throw ioError('cannot create the layout lock', file, e);
  }
}

/** Breaks a lock whose owner is dead; true when it is gone (by us or someone else). */
async function breakStale(file: string): Promise<boolean> {
  const owner = await ownerOf(file);
  if (owner !== undefined && pidAlive(owner)) return false;
  if (owner === undefined) {
    // Unreadable or just being written: only an old empty file is stale.
    return false;
  }
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch (e) {
    return errnoOf(e) === 'ENOENT';
  }
  const moved = await ownerOf(aside);
  if (moved !== owner && moved !== undefined && pidAlive(moved)) {
    // Another waiter broke it and took it between our read and our rename: give it back.
    await link(aside, file).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
  return true;
}

/** Runs `fn` holding the lock file `file`. */
export async function withLock<T>(file: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const timeout = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const start = Date.now();
  let delay = 10;
  for (;;) {
    opts.signal?.throwIfAborted();
    if (await tryCreate(file)) break;
    if (await breakStale(file)) continue;
    if (Date.now() - start >= timeout) {
      const owner = await ownerOf(file);
      throw new OciasmError(
        'LOCK_TIMEOUT',
        `${printable(file)} is held by ${owner ? `process ${owner}` : 'another process'}; waited ${Math.round(timeout / 1000)} s ` +
          '(another ociasm is writing this layout; wait for it, raise --lock-timeout, or remove the file if no ociasm runs)',
      );
    }
    await sleep(delay + Math.floor(Math.random() * delay), undefined, opts.signal ? { signal: opts.signal } : {});
    delay = Math.min(delay * 2, 250);
  }
  track(file);
  try {
    return await fn();
  } finally {
    untrack(file);
    await unlink(file).catch(() => undefined);
  }
}
