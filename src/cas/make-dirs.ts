/**
 * `mkdir -p` that reports the real reason. Node's recursive mkdir loops
 * forever on a file system that refuses new entries (`-o /proc/oci`) and
 * reports ENOENT for a read-only one; here the nearest existing ancestor is
 * found first (it must be a directory), then each missing level is made
 * alone, so the error names the level and the system's own code (EROFS,
 * EACCES, ENOSPC, ...).
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoOf, ioError, OciasmError, printable } from '../errors.js';

export async function makeDirs(dir: string, what = 'cannot create'): Promise<void> {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    let isDir: boolean;
    try {
      isDir = (await stat(at)).isDirectory();
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw ioError(what, at, e);
      missing.push(at);
      const up = path.dirname(at);
      if (up === at) break;
      at = up;
      continue;
    }
    if (!isDir) throw new OciasmError('IO', `${what} ${printable(dir)}: ${printable(at)} is not a directory`);
    break;
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'EEXIST' && (await stat(d).then((s) => s.isDirectory(), () => false))) continue;
      if (code === 'ENOENT') {
        // The parent exists (it was just checked or made): this file system does not take new directories (procfs, sysfs).
        throw new OciasmError('IO', `${what} ${printable(d)}: ENOENT (${printable(path.dirname(d))} does not accept new directories; choose a path on a regular file system)`, { cause: e });
      }
      throw ioError(what, d, e);
    }
  }
}
