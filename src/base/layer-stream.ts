/** Opens a base layer blob as an uncompressed tar stream, checking its digest as it is read. */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { BlobStore } from '../cas/blob-store.js';
import { HashingTap } from '../cas/blob-store.js';
import { OciasmError } from '../errors.js';
import { type Descriptor, MediaType } from '../oci/types.js';

const GZIP_TYPES = new Set<string>([MediaType.LayerGzip, MediaType.DockerLayerGzip, MediaType.DockerLayerForeignGzip]);
const PLAIN_TYPES = new Set<string>([MediaType.Layer, 'application/vnd.docker.image.rootfs.diff.tar']);

async function* verified(store: BlobStore, desc: Descriptor): AsyncGenerator<Uint8Array> {
  const tap = new HashingTap();
  yield* tap.tap(store.open(desc.digest));
  if (tap.digest() !== desc.digest || tap.size !== desc.size) {
    throw new OciasmError('DIGEST_MISMATCH', `${store.label}: layer ${desc.digest} has content ${tap.digest()} (${tap.size} bytes)`);
  }
}

export async function* openLayerTar(store: BlobStore, desc: Descriptor): AsyncGenerator<Uint8Array> {
  if (PLAIN_TYPES.has(desc.mediaType)) {
    yield* verified(store, desc);
    return;
  }
  if (!GZIP_TYPES.has(desc.mediaType)) {
    throw new OciasmError('LAYER_INVALID', `${store.label}: layer ${desc.digest} has unsupported media type ${desc.mediaType}`);
  }
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const input = Readable.from(verified(store, desc));
  input.on('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (e) {
    if (e instanceof OciasmError) throw e;
    throw new OciasmError('GZIP_INVALID', `${store.label}: layer ${desc.digest}: ${(e as Error).message}`, { cause: e });
  } finally {
    input.destroy();
  }
}
