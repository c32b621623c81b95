/**
 * Where base-layer file contents wait between squash and layer write: one
 * append-only temp file per build platform, so squashing holds no content in
 * memory beyond one chunk. The folder is `$TMPDIR/ociasm-spool-<pid>-XXXXXX`
 * (cas/temp-files.ts): removed on dispose and on SIGINT/SIGTERM, and swept by
 * a later run when its owner is gone. A full or unwritable TMPDIR is an IO
 * error naming the file and TMPDIR.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeTempDir, removeTempDir } from '../cas/temp-files.js';
import { ioError } from '../errors.js';
import type { ContentRef } from '../rootfs/tree.js';

export class Spool {
  private handle?: FileHandle;
  private offset = 0;
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
      try {
        await this.handle.write(chunk, 0, chunk.length, this.offset);
      } catch (e) {
        throw ioError('cannot write the spool file (TMPDIR)', this.file, e);
      }
      this.offset += chunk.length;
    }
    return { ref: { kind: 'spool', path: this.file, offset: start, sha256: hash.digest('hex') }, size: this.offset - start };
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
