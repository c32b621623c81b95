/**
 * A read-only BlobStore over a local ImageSource, so image/ (which reads
 * bases through BlobStore) can read a layout or an archive in place. Rules:
 * - A blob is opened with the size the source states for it; a digest the
 *   source has no blob for is read as a manifest (a registry, an archive
 *   keeps manifests apart from blobs).
 * - Whole reads (manifests, configs) are checked against their digest here;
 *   streamed layers are checked by their reader (base/layer-stream.ts).
 */
import { type BlobInfo, type BlobStore, sha256 } from '../cas/blob-store.js';
import { OciasmError } from '../errors.js';
import type { Digest } from '../oci/types.js';
import type { ImageSource } from '../transports/types.js';

export class SourceBlobStore implements BlobStore {
  readonly label: string;
  constructor(private readonly source: ImageSource) {
    this.label = source.name;
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.source.statBlob(digest)) !== undefined;
  }

  async *open(digest: Digest): AsyncIterable<Buffer> {
    const size = await this.source.statBlob(digest);
    if (size === undefined) {
      yield (await this.source.getManifest(digest)).bytes;
      return;
    }
    for await (const chunk of this.source.openBlob({ mediaType: 'application/octet-stream', digest, size })) yield Buffer.from(chunk);
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.open(digest)) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    if (sha256(bytes) !== digest) throw new OciasmError('DIGEST_MISMATCH', `${this.label}: blob ${digest} does not match its digest`);
    return bytes;
  }

  put(_data: AsyncIterable<Uint8Array>, _expected?: Partial<BlobInfo>): Promise<BlobInfo> {
    throw new OciasmError('INTERNAL', `${this.label}: a base source is read-only`);
  }

  putBytes(_data: Uint8Array): Promise<BlobInfo> {
    throw new OciasmError('INTERNAL', `${this.label}: a base source is read-only`);
  }
}
