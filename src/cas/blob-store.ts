/**
 * The content store: blobs by digest, nothing about images. A layout
 * directory implements it now; a registry repository and the pull cache
 * implement the same interface, so push and pull are one copy between stores.
 */
import { createHash } from 'node:crypto';
import { OciasmError } from '../errors.js';
import type { Digest } from '../oci/types.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface BlobStore {
  /** A label for messages: the layout path or the registry repository. */
  readonly label: string;
  has(digest: Digest): Promise<boolean>;
  open(digest: Digest): AsyncIterable<Buffer>;
  readBytes(digest: Digest): Promise<Buffer>;
  /** Stores a stream; when `expected` is given, a mismatch stores nothing and throws. */
  put(data: AsyncIterable<Uint8Array>, expected?: Partial<BlobInfo>): Promise<BlobInfo>;
  putBytes(data: Uint8Array): Promise<BlobInfo>;
  /**
   * Where a blob is a local file (a layout): its path, so its identity can be
   * checked without reading it (the layer cache). Wrappers pass it through.
   */
  blobFile?(digest: Digest): string;
  /** Checks a blob against its descriptor (regular file, size, sha256); throws on a mismatch. */
  verify?(desc: { digest: Digest; size: number }): Promise<void>;
}

/** Bytes [offset, end) of a blob. */
export interface BlobRange {
  offset: number;
  end: number;
}

/** A blob's bytes by range, its size known up front: what an upload reads, so a broken one can resume. */
export interface BlobReader {
  size: number;
  openAt(offset: number, end: number): AsyncIterable<Uint8Array>;
}

export function sha256(data: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function checkDigestFormat(digest: string, where: string): Digest {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new OciasmError('LAYOUT_INVALID', `${where}: unsupported or malformed digest "${digest}"`);
  }
  return digest as Digest;
}

/** Passes chunks through while computing their sha256 and total size. */
export class HashingTap {
  private readonly hash = createHash('sha256');
  size = 0;
  async *tap(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.hash.update(chunk);
      this.size += chunk.length;
      yield chunk;
    }
  }
  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
