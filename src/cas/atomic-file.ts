/** Replacing a small file atomically: temp file beside it, fsync, rename. */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { ioError } from '../errors.js';

/** Writes `data` to `file` so that readers see the old or the new content, never a part. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, what = 'cannot write'): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
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
  }
}
