/**
 * Opens a base layer blob as an uncompressed tar stream, checking its digest
 * as it is read, by its media type: gzip and zstd through codec/decompress
 * (zstd in-process by the pinned libzstd); plain tar passes through.
 *
 * Decompression bombs: the uncompressed stream is counted as it flows and a
 * layer is refused (LIMIT_EXCEEDED) the moment it passes `maxLayerBytes`, or
 * passes both INFLATE_RATIO_FLOOR and `maxInflateRatio` times its compressed
 * size — before the spool can fill the disk (docs/security.md, "Local"; the
 * counting itself is codec/decompress's `bounded`).
 */
import type { BlobStore } from '../cas/blob-store.js';
import { HashingTap } from '../cas/blob-store.js';
import { bounded, decompress, type InflateLimits } from '../codec/decompress.js';
import { decodeTar } from '../codec/tar/decode.js';
import type { TarEntry } from '../codec/tar/types.js';
import { OciasmError } from '../errors.js';
import { type Descriptor, MediaType } from '../oci/types.js';

const NONDIST = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
const GZIP_TYPES = new Set<string>([MediaType.LayerGzip, MediaType.DockerLayerGzip, MediaType.DockerLayerForeignGzip, `${NONDIST}+gzip`]);
const ZSTD_TYPES = new Set<string>([MediaType.LayerZstd, 'application/vnd.docker.image.rootfs.diff.tar.zstd', `${NONDIST}+zstd`]);
const PLAIN_TYPES = new Set<string>([MediaType.Layer, 'application/vnd.docker.image.rootfs.diff.tar', NONDIST]);

export { bounded, DEFAULT_MAX_INFLATE_RATIO, DEFAULT_MAX_LAYER_BYTES, INFLATE_RATIO_FLOOR, type InflateLimits } from '../codec/decompress.js';

async function* verified(store: BlobStore, desc: Descriptor): AsyncGenerator<Uint8Array> {
  const tap = new HashingTap();
  yield* tap.tap(store.open(desc.digest));
  const actual = tap.digest();
  if (actual !== desc.digest || tap.size !== desc.size) {
    throw new OciasmError('DIGEST_MISMATCH', `${store.label}: layer ${desc.digest} has content ${actual} (${tap.size} bytes)`);
  }
}

export async function* openLayerTar(store: BlobStore, desc: Descriptor, limits: InflateLimits = {}): AsyncGenerator<Uint8Array> {
  const what = `${store.label}: layer ${desc.digest}`;
  if (PLAIN_TYPES.has(desc.mediaType)) yield* verified(store, desc);
  else if (GZIP_TYPES.has(desc.mediaType)) yield* bounded(decompress('gzip', verified(store, desc), what), desc.size, limits, what);
  else if (ZSTD_TYPES.has(desc.mediaType)) yield* bounded(decompress('zstd', verified(store, desc), what), desc.size, limits, what);
  else throw new OciasmError('LAYER_INVALID', `${what} has unsupported media type ${desc.mediaType}`);
}

/** Checks the uncompressed stream against the config's diffID once it has been read whole. */
async function* checkDiffId(input: AsyncIterable<Uint8Array>, diffId: string, what: string): AsyncGenerator<Uint8Array> {
  const tap = new HashingTap();
  yield* tap.tap(input);
  const got = tap.digest();
  if (got !== diffId) throw new OciasmError('DIGEST_MISMATCH', `${what}: uncompressed content is ${got}, but the image config's diff_id is ${diffId}`);
}

/**
 * The entries of a base layer. After the end-of-archive marker the rest of
 * the blob is still read, so its digest, and the diffID when given, are
 * always checked.
 */
export async function* layerEntries(store: BlobStore, desc: Descriptor, diffId?: string, limits: InflateLimits = {}): AsyncGenerator<TarEntry> {
  const tar = openLayerTar(store, desc, limits);
  const bytes = diffId ? checkDiffId(tar, diffId, `${store.label}: layer ${desc.digest}`) : tar;
  // The decoder closes its source at end-of-archive; keep ours open to drain it.
  const unclosable: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => bytes.next() }) };
  try {
    yield* decodeTar(unclosable, { label: desc.digest });
    while (!(await bytes.next()).done);
  } finally {
    await bytes.return(undefined);
  }
}
