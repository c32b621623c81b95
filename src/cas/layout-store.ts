/**
 * An OCI image layout directory as a BlobStore plus its index.json.
 * Blobs are written to a temp file, fsynced, checked against their digest and
 * then renamed; index.json is replaced atomically the same way.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ioError, OciasmError } from '../errors.js';
import type { Digest, ImageIndex } from '../oci/types.js';
import { MediaType } from '../oci/types.js';
import { writeFileAtomic } from './atomic-file.js';
import { type BlobInfo, type BlobStore, HashingTap, checkDigestFormat } from './blob-store.js';

const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';

async function mkdirBlobs(dir: string): Promise<void> {
  try {
    await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  } catch (e) {
    throw ioError('cannot create the layout', dir, e);
  }
}

export class LayoutStore implements BlobStore {
  readonly label: string;
  private constructor(readonly dir: string) {
    this.label = dir;
  }

  /** Opens an existing layout, or creates an empty one when `create`. */
  static async open(dir: string, create: boolean): Promise<LayoutStore> {
    const abs = path.resolve(dir);
    const store = new LayoutStore(abs);
    let layout: string | undefined;
    try {
      layout = await readFile(path.join(abs, LAYOUT_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot read', path.join(abs, LAYOUT_FILE), e);
    }
    if (layout === undefined) {
      if (!create) throw new OciasmError('LAYOUT_INVALID', `${abs} is not an OCI image layout (no ${LAYOUT_FILE})`);
      await mkdirBlobs(abs);
      await writeFileAtomic(path.join(abs, LAYOUT_FILE), Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
      await store.writeIndex({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] });
      return store;
    }
    try {
      if (JSON.parse(layout).imageLayoutVersion !== '1.0.0') throw new Error('imageLayoutVersion is not 1.0.0');
    } catch (e) {
      throw new OciasmError('LAYOUT_INVALID', `${abs}/${LAYOUT_FILE}: ${(e as Error).message}`);
    }
    await mkdirBlobs(abs);
    return store;
  }

  blobPath(digest: Digest): string {
    const d = checkDigestFormat(digest, this.dir);
    return path.join(this.dir, 'blobs', 'sha256', d.slice('sha256:'.length));
  }

  /** A blob's size, or undefined when the layout does not hold it. */
  async size(digest: Digest): Promise<number | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return st.isFile() ? st.size : undefined;
    } catch {
      return undefined;
    }
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      return (await stat(this.blobPath(digest))).isFile();
    } catch {
      return false;
    }
  }

  async *open(digest: Digest): AsyncIterable<Buffer> {
    const file = this.blobPath(digest);
    try {
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new OciasmError('LAYOUT_INVALID', `${this.dir}: blob ${digest} is missing`);
      }
      throw ioError('cannot read', file, e);
    }
  }

  /** Bytes [offset, end) of a blob, read by file position. */
  async *openAt(digest: Digest, offset: number, end: number): AsyncIterable<Buffer> {
    if (end <= offset) return;
    const file = this.blobPath(digest);
    try {
      for await (const chunk of createReadStream(file, { start: offset, end: end - 1, highWaterMark: 1 << 20 })) yield chunk as Buffer;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new OciasmError('LAYOUT_INVALID', `${this.dir}: blob ${digest} is missing`);
      }
      throw ioError('cannot read', file, e);
    }
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.open(digest)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async put(data: AsyncIterable<Uint8Array>, expected?: Partial<BlobInfo>): Promise<BlobInfo> {
    const tmp = path.join(this.dir, 'blobs', 'sha256', `.tmp-${randomBytes(8).toString('hex')}`);
    const tap = new HashingTap();
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        for await (const chunk of tap.tap(data)) await fh.write(chunk);
        await fh.sync();
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
      await rename(tmp, this.blobPath(info.digest));
      return info;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async putBytes(data: Uint8Array): Promise<BlobInfo> {
    return this.put((async function* () { yield data; })());
  }

  async readIndex(): Promise<ImageIndex> {
    const file = path.join(this.dir, INDEX_FILE);
    let index: ImageIndex;
    try {
      index = JSON.parse(await readFile(file, 'utf8')) as ImageIndex;
    } catch (e) {
      throw new OciasmError('LAYOUT_INVALID', `${file}: ${(e as Error).message}`);
    }
    if (index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
      throw new OciasmError('LAYOUT_INVALID', `${file}: not an image index (schemaVersion 2 with manifests)`);
    }
    return index;
  }

  async writeIndex(index: ImageIndex): Promise<void> {
    await writeFileAtomic(path.join(this.dir, INDEX_FILE), Buffer.from(JSON.stringify(index, null, 2) + '\n'));
  }
}
