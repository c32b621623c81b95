/**
 * Opens a base layer blob as an uncompressed tar stream, checking its digest
 * as it is read. gzip is decompressed in-process; zstd (decompress only) by
 * Debian's `zstd -dc`, since Node 20 has no zstd; plain tar passes through.
 *
 * Decompression bombs: the uncompressed stream is counted as it flows and a
 * layer is refused (LIMIT_EXCEEDED) the moment it passes `maxLayerBytes`, or
 * passes both INFLATE_RATIO_FLOOR and `maxInflateRatio` times its compressed
 * size — before the spool can fill the disk (docs/security.md, "Local").
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
import type { BlobStore } from '../cas/blob-store.js';
import { HashingTap } from '../cas/blob-store.js';
import { decodeTar } from '../codec/tar/decode.js';
import type { TarEntry } from '../codec/tar/types.js';
import { OciasmError } from '../errors.js';
import { type Descriptor, MediaType } from '../oci/types.js';

const NONDIST = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
const GZIP_TYPES = new Set<string>([MediaType.LayerGzip, MediaType.DockerLayerGzip, MediaType.DockerLayerForeignGzip, `${NONDIST}+gzip`]);
const ZSTD_TYPES = new Set<string>([MediaType.LayerZstd, 'application/vnd.docker.image.rootfs.diff.tar.zstd', `${NONDIST}+zstd`]);
const PLAIN_TYPES = new Set<string>([MediaType.Layer, 'application/vnd.docker.image.rootfs.diff.tar', NONDIST]);

export interface InflateLimits {
  /** Most uncompressed bytes one layer may have (default DEFAULT_MAX_LAYER_BYTES; CLI --max-layer-size). */
  maxLayerBytes?: number;
  /** Most uncompressed bytes per compressed byte, once past INFLATE_RATIO_FLOOR (default DEFAULT_MAX_INFLATE_RATIO; CLI --max-inflate-ratio). */
  maxInflateRatio?: number;
}

export const DEFAULT_MAX_LAYER_BYTES = 64 * 2 ** 30;
export const DEFAULT_MAX_INFLATE_RATIO = 200;
/** Below this many uncompressed bytes the ratio is not checked: small, very compressible layers (a file of zeros) are fine. */
export const INFLATE_RATIO_FLOOR = 64 * 2 ** 20;

/** Counts the uncompressed bytes and stops past the limits. */
async function* bounded(input: AsyncIterable<Uint8Array>, compressedSize: number, limits: InflateLimits, what: string): AsyncGenerator<Uint8Array> {
  const maxBytes = limits.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
  const ratio = limits.maxInflateRatio ?? DEFAULT_MAX_INFLATE_RATIO;
  const ratioCap = Math.max(INFLATE_RATIO_FLOOR, ratio * compressedSize);
  let total = 0;
  for await (const chunk of input) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new OciasmError('LIMIT_EXCEEDED', `${what} inflates past ${maxBytes} bytes, the most one layer may have (raise --max-layer-size)`);
    }
    if (total > ratioCap) {
      throw new OciasmError(
        'LIMIT_EXCEEDED',
        `${what} inflates to more than ${ratio} times its ${compressedSize} compressed bytes (past ${total} bytes): refused as a decompression bomb (raise --max-inflate-ratio)`,
      );
    }
    yield chunk;
  }
}

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
  else if (GZIP_TYPES.has(desc.mediaType)) yield* bounded(gunzip(verified(store, desc), what), desc.size, limits, what);
  else if (ZSTD_TYPES.has(desc.mediaType)) yield* bounded(unzstd(verified(store, desc), what), desc.size, limits, what);
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

async function* gunzip(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const gz = createGunzip({ chunkSize: 1 << 20 });
  const feed = Readable.from(input);
  feed.on('error', (e) => gz.destroy(e));
  feed.pipe(gz);
  try {
    for await (const chunk of gz) yield chunk as Buffer;
  } catch (e) {
    if (e instanceof OciasmError) throw e;
    throw new OciasmError('GZIP_INVALID', `${what}: ${(e as Error).message}`, { cause: e });
  } finally {
    feed.destroy();
  }
}

async function* unzstd(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const sub = execa('zstd', ['-d', '-c', '-q'], {
    stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: { stdout: false, stderr: true }, reject: false,
  });
  let inputError: unknown;
  const feed = Readable.from(input);
  feed.on('error', (e) => {
    inputError = e;
    sub.kill();
  });
  sub.stdin!.on('error', () => {}); // EPIPE when zstd stops early; its exit status says why
  feed.pipe(sub.stdin!);
  let done = false;
  try {
    for await (const chunk of sub.stdout!) yield chunk as Buffer;
    done = true;
  } finally {
    if (!done) {
      feed.destroy();
      sub.kill();
      await sub;
    }
  }
  const result = await sub;
  if (inputError !== undefined) throw inputError;
  if (result.code === 'ENOENT') {
    throw new OciasmError('TOOL_MISSING', `${what} is zstd-compressed: install the zstd program (Debian: apt-get install zstd)`);
  }
  if (result.failed) {
    const reason = String(result.stderr ?? '').trim() || result.shortMessage;
    throw new OciasmError('ZSTD_INVALID', `${what}: zstd -d failed: ${reason}`);
  }
}
