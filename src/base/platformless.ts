/**
 * Bases from an ImageSource whose image has no platform of its own
 * (`source.platformless`, a `rootfs:` tarball). Rules:
 * - Any platform asked is accepted: the source's one manifest is the base of
 *   every platform of the build, and its config's platform is never checked
 *   (the built image's config takes the build's platform, as from scratch).
 * - The base's name is the source's `baseName` (it names the file's digest).
 * - Its blobs are read through the source (a read-only BlobStore view);
 *   TransportBaseSource (./transport-source.ts) opens it once per build.
 */
import type { BlobStore } from '../cas/blob-store.js';
import { OciasmError } from '../errors.js';
import type { Descriptor, Digest, ImageConfig, ImageManifest } from '../oci/types.js';
import type { ImageSource } from '../transports/types.js';
import type { BaseImage } from './source.js';

/** A read-only BlobStore over the blobs a source's manifest names. */
export function sourceBlobs(source: ImageSource, blobs: readonly Descriptor[]): BlobStore {
  const find = (digest: Digest): Descriptor => {
    const d = blobs.find((b) => b.digest === digest);
    if (!d) throw new OciasmError('INTERNAL', `${source.name}: blob ${digest} is not part of the base`);
    return d;
  };
  const open = (digest: Digest) => source.openBlob(find(digest)) as AsyncIterable<Buffer>;
  return {
    label: `base ${source.name}`,
    has: async (digest) => blobs.some((b) => b.digest === digest),
    open,
    async readBytes(digest) {
      const chunks: Uint8Array[] = [];
      for await (const c of open(digest)) chunks.push(c);
      return Buffer.concat(chunks);
    },
    put: async () => { throw new OciasmError('INTERNAL', `${source.name} is read-only`); },
    putBytes: async () => { throw new OciasmError('INTERNAL', `${source.name} is read-only`); },
  };
}

/** The base a platformless source gives every platform. */
export async function platformlessBase(source: ImageSource & { platformless: { baseName: string } }): Promise<BaseImage> {
  const top = await source.getManifest();
  const manifest = JSON.parse(top.bytes.toString('utf8')) as ImageManifest;
  const blobs = sourceBlobs(source, [manifest.config, ...manifest.layers]);
  const config = JSON.parse((await blobs.readBytes(manifest.config.digest)).toString('utf8')) as ImageConfig;
  return { name: source.platformless.baseName, manifestDigest: top.descriptor.digest, config, layers: manifest.layers, blobs };
}
