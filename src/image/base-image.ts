/**
 * A resolved base image for one platform: what image composition needs of a
 * base (its config, its layers and where their blobs are), whatever source
 * it came from. Sources live in base/ and transports/; this type is theirs
 * and image/'s common ground, so image/ depends on neither.
 */
import type { BlobStore } from '../cas/blob-store.js';
import type { Descriptor, Digest, ImageConfig } from '../oci/types.js';

export interface BaseImage {
  /** What goes into org.opencontainers.image.base.name. */
  name: string;
  manifestDigest: Digest;
  config: ImageConfig;
  layers: Descriptor[];
  blobs: BlobStore;
}
