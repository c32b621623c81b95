/**
 * Where base-layer file contents wait between squash and layer write: one
 * append-only temp file per build platform, so squashing holds no content in
 * memory beyond one chunk. The folder is `$TMPDIR/ociasm-spool-<pid>-XXXXXX`
 * (cas/temp-files.ts): removed on dispose and on SIGINT/SIGTERM, and swept by
 * a later run when its owner is gone. A full or unwritable TMPDIR is an IO
 * error naming the file and TMPDIR.
 *
 * The spool never fills its file system: it checks the free space (statfs)
 * as it grows, more often as the space shrinks, and stops with an IO error
 * while SPOOL_RESERVE (5% of the file system, at most 256 MiB) is still free
 * — so a base layer that inflates past what TMPDIR can hold fails before
 * other programs see a full disk.
 */
import { createHash } from 'node:crypto';
import { open, statfs, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeTempDir, removeTempDir } from '../cas/temp-files.js';
import { ioError, OciasmError, printable } from '../errors.js';
import type { ContentRef } from '../rootfs/tree.js';

const MiB = 2 ** 20;

/** What the spool leaves free on its file system: 5% of it, at most 256 MiB. */
export function spoolReserve(totalBytes: number): number {
  return Math.min(256 * MiB, Math.floor(totalBytes * 0.05));
}

export class Spool {
  private handle?: FileHandle;
  private offset = 0;
  /** The offset at which free space is looked at next. */
  private nextCheck = 0;
  private constructor(readonly dir: string, readonly file: string) {}

  static async create(tmpdir = os.tmpdir()): Promise<Spool> {
    const dir = await makeTempDir(tmpdir, 'ociasm-spool-');
    return new Spool(dir, path.join(dir, 'contents'));
  }

  /** Appends a body and returns where it lives, with its sha256 (so the layer cache never reads it again). */
  async write(body: AsyncIterable<Uint8Array>): Promise<{ ref: ContentRef; size: number }> {
    if (!this.handle) {
      try {
        this.handle = await open(this.file, 'w+', 0o600);
      } catch (e) {
        throw ioError('cannot create the spool file (TMPDIR)', this.file, e);
      }
    }
    const start = this.offset;
    const hash = createHash('sha256');
    for await (const chunk of body) {
      hash.update(chunk);
      if (this.offset + chunk.length > this.nextCheck) await this.checkSpace(chunk.length);
      try {
        await this.handle.write(chunk, 0, chunk.length, this.offset);
      } catch (e) {
        throw ioError('cannot write the spool file (TMPDIR)', this.file, e);
      }
      this.offset += chunk.length;
    }
    return { ref: { kind: 'spool', path: this.file, offset: start, sha256: hash.digest('hex') }, size: this.offset - start };
  }

  private async checkSpace(next: number): Promise<void> {
    let free: number;
    let reserve: number;
    try {
      const s = await statfs(this.dir);
      free = s.bavail * s.bsize;
      reserve = spoolReserve(s.blocks * s.bsize);
    } catch {
      this.nextCheck = Infinity; // no statfs here: ENOSPC will still be an IO error
      return;
    }
    if (free - next < reserve) {
      throw new OciasmError(
        'IO',
        `the base layers' contents do not fit into ${printable(this.dir)}: ${this.offset} bytes spooled, ${free} bytes free, ` +
          `${reserve} kept free (TMPDIR is too small: point TMPDIR at a larger file system, or free space)`,
      );
    }
    // Look again after half of what is left above the reserve, at least 1 MiB on.
    this.nextCheck = this.offset + Math.max(MiB, Math.floor((free - reserve) / 2));
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }

  async dispose(): Promise<void> {
    await this.close().catch(() => undefined);
    await removeTempDir(this.dir);
  }
}
