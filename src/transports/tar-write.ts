/**
 * Deterministic image archives written with our tar encoder. Rules:
 * - Entries are sorted by path (byte order); every entry has uid/gid 0, no
 *   owner names, mtime 0, mode 0644 (files), 0755 (directories) or 0777
 *   (symlinks): the same content always gives the same archive bytes.
 * - writeArchiveFile() writes a temp file beside the target, fsyncs it and
 *   renames it over the target, so readers see the old file or the new one,
 *   never a part; on any failure the temp file is removed.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../cas/atomic-file.js';
import { encodeTar, type TarInputEntry } from '../codec/tar/encode.js';
import { OciasmError } from '../errors.js';
import type { Opts } from './types.js';

export type ArchiveMember =
  | { path: string; type: 'directory' }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'file'; bytes: Buffer }
  | { path: string; type: 'file'; file: string; size: number };

const byPath = (a: { path: string }, b: { path: string }) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

/** The archive's bytes, members in path order. */
export function archiveStream(members: ArchiveMember[], opts: Opts = {}): AsyncIterable<Buffer> {
  const sorted = [...members].sort(byPath);
  async function* entries(): AsyncGenerator<TarInputEntry> {
    for (const m of sorted) {
      opts.signal?.throwIfAborted();
      const base = { path: m.path, uid: 0, gid: 0, mtime: 0 };
      if (m.type === 'directory') yield { header: { ...base, type: 'directory', mode: 0o755, size: 0 } };
      else if (m.type === 'symlink') yield { header: { ...base, type: 'symlink', mode: 0o777, size: 0, linkname: m.target } };
      else if ('bytes' in m) yield { header: { ...base, type: 'file', mode: 0o644, size: m.bytes.length }, body: m.bytes };
      else yield { header: { ...base, type: 'file', mode: 0o644, size: m.size }, body: createReadStream(m.file, { highWaterMark: 1 << 20 }) };
    }
  }
  return encodeTar(entries());
}

/** Replaces `target` with the archive, atomically. */
export async function writeArchiveFile(target: string, members: ArchiveMember[], opts: Opts = {}): Promise<void> {
  const st = await stat(target).catch(() => undefined);
  if (st?.isDirectory()) throw new OciasmError('REFERENCE_INVALID', `${target} is a directory; an archive destination names a file`);
  await writeFileAtomic(target, archiveStream(members, opts), 'cannot write the archive');
}

/** `FILE[:REF]` split at the first ':', as skopeo splits its archive references (FILE holds no ':'). */
export function parseArchiveArg(transport: string, rest: string, cwd: string): { file: string; ref?: string } {
  const colon = rest.indexOf(':');
  const file = colon < 0 ? rest : rest.slice(0, colon);
  const ref = colon < 0 ? undefined : rest.slice(colon + 1);
  if (file === '') throw new OciasmError('REFERENCE_INVALID', `"${transport}:${rest}" names no file (${transport}:FILE[:REF])`);
  return { file: path.resolve(cwd, file), ...(ref !== undefined && ref !== '' ? { ref } : {}) };
}
