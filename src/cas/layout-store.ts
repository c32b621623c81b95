/**
 * An OCI image layout directory as a BlobStore plus its index.json.
 * Blobs are written to a temp file, fsynced, checked against their digest and
 * then renamed; index.json is replaced atomically the same way, under the
 * layout's lock (layout-lock.ts) whenever it is read to be changed.
 *
 * Hostile layouts: a blob is opened with O_NOFOLLOW (a symlink in blobs/ is
 * an error, never a way to read a host file), and every file of the layout
 * with O_NONBLOCK then checked to be a regular file (a FIFO or device planted
 * in the layout is an error, never a hang), `has` does not follow links
 * either, and no parse error quotes a file's content. A layout left
 * half-created by a crash (oci-layout, no index.json) is completed when it is
 * opened for writing. Opening for writing also sweeps stale temp files of our
 * own kind (temp-files.ts).
 */
import { constants, createReadStream } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { errnoOf, ioError, OciasmError, parseJsonText, printable } from '../errors.js';
import type { Descriptor, Digest, ImageIndex } from '../oci/types.js';
import { MediaType } from '../oci/types.js';
import { writeFileAtomic } from './atomic-file.js';
import { type BlobInfo, type BlobStore, HashingTap, checkDigestFormat } from './blob-store.js';
import { type LockOptions, withLock } from './layout-lock.js';
import { makeDirs } from './make-dirs.js';
import { sweepStale, tempName, track, untrack } from './temp-files.js';

const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const BLOB_TEMP = '.tmp-';
const EMPTY_INDEX: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };

async function mkdirBlobs(dir: string): Promise<void> {
  await makeDirs(path.join(dir, 'blobs', 'sha256'), 'cannot create the layout folder');
}

export class LayoutStore implements BlobStore {
  readonly label: string;
  private constructor(readonly dir: string) {
    this.label = dir;
  }

  /** Opens an existing layout, or creates an empty one when `create`. */
  static async open(dir: string, create: boolean, opts: LockOptions = {}): Promise<LayoutStore> {
    const abs = path.resolve(dir);
    const store = new LayoutStore(abs);
    let layout: string | undefined;
    try {
      layout = await readRegularFile(path.join(abs, LAYOUT_FILE));
    } catch (e) {
      if (e instanceof OciasmError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot read', path.join(abs, LAYOUT_FILE), e);
    }
    if (layout === undefined) {
      if (!create) throw new OciasmError('LAYOUT_INVALID', `${abs} is not an OCI image layout (no ${LAYOUT_FILE})`);
      await mkdirBlobs(abs);
      await store.completeIndex(opts);
      await writeFileAtomic(path.join(abs, LAYOUT_FILE), Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
      return store;
    }
    const doc = parseJsonText(layout, `${abs}/${LAYOUT_FILE}`, 'LAYOUT_INVALID') as { imageLayoutVersion?: unknown } | null;
    if (doc?.imageLayoutVersion !== '1.0.0') {
      throw new OciasmError('LAYOUT_INVALID', `${abs}/${LAYOUT_FILE}: imageLayoutVersion is not 1.0.0`);
    }
    if (create) {
      await mkdirBlobs(abs);
      await sweepStale(path.join(abs, 'blobs', 'sha256'), BLOB_TEMP);
      await sweepStale(abs, `${INDEX_FILE}.tmp-`);
      await store.completeIndex(opts);
    }
    return store;
  }

  /** A layout whose index.json is missing (a crash between oci-layout and index.json) gets an empty one. */
  private async completeIndex(opts: LockOptions): Promise<void> {
    const file = path.join(this.dir, INDEX_FILE);
    const missing = async () => (await lstat(file).catch((e: unknown) => (errnoOf(e) === 'ENOENT' ? undefined : null))) === undefined;
    if (!(await missing())) return;
    await withLock(`${file}.lock`, async () => {
      if (await missing()) await this.writeIndex(EMPTY_INDEX);
    }, opts);
  }

  blobPath(digest: Digest): string {
    const d = checkDigestFormat(digest, this.dir);
    return path.join(this.dir, 'blobs', 'sha256', d.slice('sha256:'.length));
  }

  /** A blob's size, or undefined when the layout does not hold it as a regular file (symlinks are not followed). */
  async size(digest: Digest): Promise<number | undefined> {
    try {
      const st = await lstat(this.blobPath(digest));
      return st.isFile() ? st.size : undefined;
    } catch {
      return undefined;
    }
  }

  /** True for a regular file (a symlink in blobs/ is never a blob). */
  blobFile(digest: Digest): string {
    return this.blobPath(digest);
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      return (await lstat(this.blobPath(digest))).isFile();
    } catch {
      return false;
    }
  }

  /** The blob's bytes from `start` to `end` (exclusive; default: all), never through a symlink. */
  async *open(digest: Digest, start = 0, end?: number): AsyncIterable<Buffer> {
    const file = this.blobPath(digest);
    if (end !== undefined && end <= start) return;
    try {
      const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        throw new OciasmError('LAYOUT_INVALID', `${this.dir}: blob ${digest} is not a regular file`);
      }
      const stream = fh.createReadStream({ start, ...(end !== undefined ? { end: end - 1 } : {}), highWaterMark: 1 << 20 });
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (e) {
      if (e instanceof OciasmError) throw e;
      const code = errnoOf(e);
      if (code === 'ENOENT') throw new OciasmError('LAYOUT_INVALID', `${this.dir}: blob ${digest} is missing`);
      if (code === 'ELOOP') {
        throw new OciasmError('LAYOUT_INVALID', `${this.dir}: blob ${digest} is a symlink; blobs must be regular files (symlinks in blobs/ are never followed)`);
      }
      throw ioError('cannot read', file, e);
    }
  }

  /**
   * Checks a blob against its descriptor (size first, then sha256) without
   * keeping it; used before a blob leaves the layout (push).
   */
  async verify(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<void> {
    const st = await lstat(this.blobPath(desc.digest)).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      throw new OciasmError('LAYOUT_INVALID', `${this.dir}: blob ${desc.digest} is a symlink; blobs must be regular files (symlinks in blobs/ are never followed)`);
    }
    if (st?.isFile() && st.size !== desc.size) {
      throw new OciasmError('DIGEST_MISMATCH', `${this.dir}: blob ${desc.digest} has ${st.size} bytes, its descriptor says ${desc.size}`);
    }
    const tap = new HashingTap();
    for await (const _ of tap.tap(this.open(desc.digest))) void _;
    const actual = tap.digest();
    if (actual !== desc.digest || tap.size !== desc.size) {
      throw new OciasmError('DIGEST_MISMATCH', `${this.dir}: blob ${desc.digest} has content ${actual} (${tap.size} bytes)`);
    }
  }

  /** Bytes [offset, end) of a blob, read by file position, never through a symlink. */
  openAt(digest: Digest, offset: number, end: number): AsyncIterable<Buffer> {
    return this.open(digest, offset, end);
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.open(digest)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async put(data: AsyncIterable<Uint8Array>, expected?: Partial<BlobInfo>): Promise<BlobInfo> {
    const tmp = path.join(this.dir, 'blobs', 'sha256', tempName(BLOB_TEMP));
    const tap = new HashingTap();
    track(tmp);
    try {
      let fh;
      try {
        fh = await open(tmp, 'wx', 0o644);
      } catch (e) {
        throw ioError('cannot write a blob into', this.dir, e);
      }
      try {
        for await (const chunk of tap.tap(data)) await fh.write(chunk).catch((e: unknown) => { throw ioError('cannot write', tmp, e); });
        await fh.sync().catch((e: unknown) => { throw ioError('cannot write', tmp, e); });
      } finally {
        await fh.close();
      }
      const info: BlobInfo = { digest: tap.digest(), size: tap.size };
      if ((expected?.digest && expected.digest !== info.digest) || (expected?.size !== undefined && expected.size !== info.size)) {
        throw new OciasmError(
          'DIGEST_MISMATCH',
          `${this.dir}: blob content is ${info.digest} (${info.size} bytes), expected ${expected.digest ?? '?'} (${expected.size ?? '?'} bytes)`,
        );
      }
      await rename(tmp, this.blobPath(info.digest)).catch((e: unknown) => { throw ioError('cannot write', this.blobPath(info.digest), e); });
      return info;
    } finally {
      await rm(tmp, { force: true });
      untrack(tmp);
    }
  }

  async putBytes(data: Uint8Array): Promise<BlobInfo> {
    return this.put((async function* () { yield data; })());
  }

  async readIndex(): Promise<ImageIndex> {
    const file = path.join(this.dir, INDEX_FILE);
    let text: string;
    try {
      text = await readRegularFile(file);
    } catch (e) {
      if (e instanceof OciasmError) throw e;
      if (errnoOf(e) === 'ENOENT') throw new OciasmError('LAYOUT_INVALID', `${printable(file)} is missing`);
      throw ioError('cannot read', file, e);
    }
    const index = parseJsonText(text, file, 'LAYOUT_INVALID') as ImageIndex;
    if (index?.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
      throw new OciasmError('LAYOUT_INVALID', `${file}: not an image index (schemaVersion 2 with manifests)`);
    }
    return index;
  }

  /** Reads index.json, applies `change` and replaces it, all under the layout's lock. */
  async updateIndex(change: (index: ImageIndex) => ImageIndex, opts: LockOptions = {}): Promise<void> {
    await withLock(path.join(this.dir, `${INDEX_FILE}.lock`), async () => {
      await this.writeIndex(change(await this.readIndex()));
    }, opts);
  }

  async writeIndex(index: ImageIndex): Promise<void> {
    await writeFileAtomic(path.join(this.dir, INDEX_FILE), Buffer.from(JSON.stringify(index, null, 2) + '\n'));
  }
}

/**
 * A layout file's text (oci-layout, index.json), opened without blocking and
 * refused unless it is a regular file: a FIFO would otherwise hang the read.
 */
async function readRegularFile(file: string): Promise<string> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) throw new OciasmError('LAYOUT_INVALID', `${printable(file)} is not a regular file`);
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}
