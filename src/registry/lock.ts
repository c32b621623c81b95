/**
 * `ociasm.lock`, beside the build file: each registry base's resolved
 * top-level digest, by the reference as written. A build pins the bases it
 * lists; `--lock` resolves them afresh and rewrites the file.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../cas/atomic-file.js';
import path from 'node:path';
import { ioError, OciasmError, parseJsonText } from '../errors.js';
import type { Digest } from '../oci/types.js';

export const LOCK_FILE = 'ociasm.lock';

export interface LockFile {
  lockVersion: 1;
  bases: Record<string, Digest>;
}

export function lockPath(buildFileDir: string): string {
  return path.join(buildFileDir, LOCK_FILE);
}

/** The pins in the lock file, or undefined when there is none. */
export async function readLock(file: string): Promise<Record<string, Digest> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('cannot read', file, e);
  }
  const doc = parseJsonText(text, file, 'LOCK_INVALID', '; rewrite it with --lock') as LockFile;
  if (doc?.lockVersion !== 1 || typeof doc.bases !== 'object' || doc.bases === null) {
    throw new OciasmError('LOCK_INVALID', `${file}: expected {"lockVersion": 1, "bases": {...}}; rewrite it with --lock`);
  }
  for (const [ref, digest] of Object.entries(doc.bases)) {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new OciasmError('LOCK_INVALID', `${file}: bases."${ref}": "${digest}" is not a sha256 digest`);
  }
  return doc.bases;
}

/** Writes the lock, merging `resolved` over what the file already pins (bases of images not built stay). */
export async function writeLock(file: string, resolved: Map<string, Digest>, previous: Record<string, Digest> = {}): Promise<void> {
  const bases: Record<string, Digest> = { ...previous };
  for (const [ref, digest] of resolved) bases[ref] = digest;
  const sorted = Object.fromEntries(Object.entries(bases).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const doc: LockFile = { lockVersion: 1, bases: sorted };
  await writeFileAtomic(file, JSON.stringify(doc, null, 2) + '\n');
}
