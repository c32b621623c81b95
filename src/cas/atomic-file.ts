/**
 * Replacing a file atomically: temp file beside it (`<file>.tmp-<pid>-<random>`,
 * tracked for signal cleanup and swept when stale, see temp-files.ts), fsync,
 * rename. Small files are given whole; larger ones (an archive) as a stream.
 */
import { open, rename, rm } from 'node:fs/promises';
import { ioError, isOciasmError } from '../errors.js';
import { tempName, track, untrack } from './temp-files.js';

/**
 * Writes `data` to `file` so that readers see the old or the new content, never
 * a part. An OciasmError or an abort from a streamed `data` passes through as it is.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string | AsyncIterable<Uint8Array>, what = 'cannot write'): Promise<void> {
  const tmp = tempName(`${file}.tmp-`);
  track(tmp);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) await fh.writeFile(data);
      else for await (const chunk of data) await fh.write(chunk);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    if (isOciasmError(e) || (e as Error).name === 'AbortError') throw e;
    throw ioError(what, file, e);
  } finally {
    untrack(tmp);
  }
}
