/**
 * The layer in one streaming pass: tar the tree, hash the tar for the diffID,
 * compress it (gzip, or zstd when asked), hash that for the digest and write
 * the blob. Nothing is read
 * twice and no layer is held whole in memory.
 *
 * With a layer cache, a fingerprint of the tree (metadata and host file
 * identities, no content reads) is looked up first; when the layout already
 * holds the blob recorded for it, nothing is read or compressed at all.
 *
 * With a remote layer cache (`--cache-repo`, src/pipeline/cache-repo.ts),
 * a local miss first tars the tree without compressing it, for its diffID
 * (unless the remote cache has nothing for these settings); the remote cache
 * then gives a blob it has proven to hold exactly that tar, or nothing, and
 * only then is the tree tarred again and compressed. Every
 * layer compressed or reused is offered to the remote cache.
 */
import type { BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { type BlobInfo, type BlobStore, HashingTap } from '../cas/blob-store.js';
import type { CachedLayer, LayerCache } from '../cache/layer-cache.js';
import type { Descriptor, Digest } from '../oci/types.js';
import type { LayerCodec } from './codecs.js';
import type { DirNode } from '../rootfs/tree.js';
import { treeFingerprint } from './fingerprint.js';
import { OUT_CHUNK, type TarStats, tarOfTree } from './tar-of-tree.js';

export interface WrittenLayer {
  descriptor: Descriptor;
  diffId: Digest;
  uncompressedSize: number;
  stats: TarStats;
  /** True when the blob came from a layer cache: nothing was compressed. */
  cached: boolean;
  /** Which cache: the local index (nothing was tarred either) or the remote one (tarred once for the diffID). */
  cache?: 'local' | 'registry';
}

export interface LayerReuse {
  index: LayerCache;
}

export interface TarPass {
  diffId: Digest;
  uncompressedSize: number;
  stats: TarStats;
}

/** A layer cache by content, elsewhere (a registry repository: src/pipeline/cache-repo.ts). */
export interface RemoteLayers {
  /** False: only record (--no-layer-cache); no tar pass, no lookup. */
  readonly lookups: boolean;
  /**
   * A blob proven to hold exactly the tree's tar, already put into `store`, with the tar's
   * diffID, or undefined (a miss). `tar` runs the diffID pass; it is not run when the cache
   * cannot hit (unreadable, or no entry for the settings). Never throws for a cache fault.
   */
  fetch(tar: () => Promise<TarPass>, codec: LayerCodec, store: BlobStore, signal?: AbortSignal): Promise<{ blob: BlobInfo; tar: TarPass } | undefined>;
  /** A layer of this build (compressed, or reused from the local cache), for the remote cache to keep. */
  record(layer: WrittenLayer, codec: LayerCodec): void;
}

/** A blob file's identity: any write to it changes the ctime. */
export function blobIdentity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/**
 * Whether the store really holds the cached layer's blob. In a layout: a
 * regular file of the recorded size whose identity is the recorded one, or,
 * when the identity differs (another layout, a copy, a damaged file), whose
 * sha256 is the digest — then the entry's identity is brought up to date.
 * A blob that fails is rebuilt (the rebuild replaces the file).
 */
async function holds(store: BlobStore, entry: CachedLayer, reuse: LayerReuse, key: string): Promise<boolean> {
  if (!store.blobFile || !store.verify) return store.has(entry.digest);
  const st = await lstat(store.blobFile(entry.digest), { bigint: true }).catch(() => undefined);
  if (!st?.isFile() || st.size !== BigInt(entry.size)) return false;
  if (entry.blobId !== undefined && entry.blobId === blobIdentity(st)) return true;
  const ok = await store.verify(entry).then(() => true, () => false);
  if (ok) await reuse.index.put(key, { ...entry, blobId: blobIdentity(st) });
  return ok;
}

async function identityOf(store: BlobStore, digest: Digest): Promise<string | undefined> {
  if (!store.blobFile) return undefined;
  const st = await lstat(store.blobFile(digest), { bigint: true }).catch(() => undefined);
  return st?.isFile() ? blobIdentity(st) : undefined;
}

function fromCache(e: CachedLayer, mediaType: string): WrittenLayer {
  return {
    descriptor: { mediaType, digest: e.digest, size: e.size },
    diffId: e.diffId,
    uncompressedSize: e.uncompressedSize,
    stats: { entries: e.entries, files: e.files, contentBytes: e.contentBytes },
    cached: true,
    cache: 'local',
  };
}

/** The tree's tar as one stream, hashed and counted as it passes; `done()` once it has been read: its diffID, size and counts. */
function hashedTar(root: DirNode, mtime: number): { bytes: AsyncIterable<Uint8Array>; done: () => TarPass } {
  const stats: TarStats = { entries: 0, files: 0, contentBytes: 0 };
  const diff = new HashingTap();
  // The hash tap and the compressors copy each chunk before asking for the next, so one read buffer serves the whole layer.
  const scratch = Buffer.allocUnsafeSlow(OUT_CHUNK);
  return { bytes: diff.tap(tarOfTree(root, mtime, stats, scratch)), done: () => ({ diffId: diff.digest(), uncompressedSize: diff.size, stats }) };
}

/** The tree's tar, hashed and counted, compressed by nobody: its diffID. */
async function diffPass(root: DirNode, mtime: number, signal?: AbortSignal): Promise<TarPass> {
  const tar = hashedTar(root, mtime);
  for await (const _chunk of tar.bytes) signal?.throwIfAborted();
  return tar.done();
}

function layerOf(codec: LayerCodec, blob: BlobInfo, tar: TarPass, cache?: 'registry'): WrittenLayer {
  return {
    descriptor: { mediaType: codec.mediaType, digest: blob.digest, size: blob.size },
    diffId: tar.diffId, uncompressedSize: tar.uncompressedSize, stats: tar.stats, cached: cache !== undefined, ...(cache ? { cache } : {}),
  };
}

async function remember(reuse: LayerReuse | undefined, key: string | undefined, store: BlobStore, layer: WrittenLayer): Promise<void> {
  if (!reuse || !key) return;
  const blobId = await identityOf(store, layer.descriptor.digest);
  await reuse.index.put(key, {
    digest: layer.descriptor.digest, size: layer.descriptor.size, diffId: layer.diffId, uncompressedSize: layer.uncompressedSize,
    ...layer.stats, ...(blobId ? { blobId } : {}),
  });
}

export async function writeLayer(
  root: DirNode, mtime: number, codec: LayerCodec, store: BlobStore, reuse?: LayerReuse, remote?: RemoteLayers, signal?: AbortSignal,
): Promise<WrittenLayer> {
  // The codec's settings (compression, its format version, level) are part of the key: a zstd build never reuses a gzip blob.
  const key = reuse ? treeFingerprint(root, mtime, codec.settings) : undefined;
  if (reuse && key) {
    const hit = await reuse.index.get(key);
    if (hit && (await holds(store, hit, reuse, key))) {
      const layer = fromCache(hit, codec.mediaType);
      remote?.record(layer, codec);
      return layer;
    }
  }
  if (remote?.lookups) {
    const got = await remote.fetch(() => diffPass(root, mtime, signal), codec, store, signal);
    if (got) {
      const layer = layerOf(codec, got.blob, got.tar, 'registry');
      await remember(reuse, key, store, layer);
      return layer;
    }
  }
  const tar = hashedTar(root, mtime);
  const blob = await store.put(codec.compress(tar.bytes));
  const layer = layerOf(codec, blob, tar.done());
  await remember(reuse, key, store, layer);
  remote?.record(layer, codec);
  return layer;
}
