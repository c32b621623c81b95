/**
 * Where base-layer file contents wait between squash and layer write: one
 * append-only temp file per build platform, so squashing holds no content in
 * memory beyond one chunk.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ContentRef } from '../rootfs/tree.js';

export class Spool {
  private handle?: FileHandle;
  private offset = 0;
  private constructor(readonly dir: string, readonly file: string) {}

  static async create(): Promise<Spool> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ociasm-spool-'));
    return new Spool(dir, path.join(dir, 'contents'));
  }

  /** Appends a body and returns where it lives, with its sha256 (so the layer cache never reads it again). */
  async write(body: AsyncIterable<Uint8Array>): Promise<{ ref: ContentRef; size: number }> {
    this.handle ??= await open(this.file, 'w+', 0o600);
    const start = this.offset;
    const hash = createHash('sha256');
    for await (const chunk of body) {
      hash.update(chunk);
      await this.handle.write(chunk, 0, chunk.length, this.offset);
      this.offset += chunk.length;
    }
    return { ref: { kind: 'spool', path: this.file, offset: start, sha256: hash.digest('hex') }, size: this.offset - start };
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }

  async dispose(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
