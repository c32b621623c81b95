/** Replacing a small file atomically: temp file beside it (`<file>.tmp-<pid>-<random>`, see temp-files.ts), fsync, rename. */
import { open, rename, rm } from 'node:fs/promises';
import { ioError } from '../errors.js';
import { tempName, track, untrack } from './temp-files.js';

/** Writes `data` to `file` so that readers see the old or the new content, never a part. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, what = 'cannot write'): Promise<void> {
  const tmp = tempName(`${file}.tmp-`);
  track(tmp);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw ioError(what, file, e);
  } finally {
    untrack(tmp);
  }
}
