/**
 * The layer in one streaming pass: tar the tree, hash the tar for the diffID,
 * gzip it, hash the gzip for the digest and write the blob. Nothing is read
 * twice and no layer is held whole in memory.
 */
import type { GzipCompressor } from '../codec/gzip/index.js';
import { type BlobStore, HashingTap } from '../cas/blob-store.js';
import { type Descriptor, type Digest, MediaType } from '../oci/types.js';
import type { DirNode } from '../rootfs/tree.js';
import { type TarStats, tarOfTree } from './tar-of-tree.js';

export interface WrittenLayer {
  descriptor: Descriptor;
  diffId: Digest;
  uncompressedSize: number;
  stats: TarStats;
}

export async function writeLayer(root: DirNode, mtime: number, gzip: GzipCompressor, store: BlobStore): Promise<WrittenLayer> {
  const stats: TarStats = { entries: 0, files: 0, contentBytes: 0 };
  const diff = new HashingTap();
  const compressed = gzip.compress(diff.tap(tarOfTree(root, mtime, stats)));
  const blob = await store.put(compressed);
  return {
    descriptor: { mediaType: MediaType.LayerGzip, digest: blob.digest, size: blob.size },
    diffId: diff.digest(),
    uncompressedSize: diff.size,
    stats,
  };
}
