/**
 * Where a base image comes from. Each source resolves a platform to a
 * manifest, a config and layer blobs in some BlobStore: `scratch` has none,
 * `image:NAME` is an image of the same build, and every source transport
 * (`oci:`, `docker://`, a bare registry reference, the archives) goes through
 * one TransportBaseSource (./transport-source.ts).
 */
import type { BaseImage } from '../image/base-image.js';
import type { Platform } from '../oci/types.js';

export type { BaseImage } from '../image/base-image.js';

export interface BaseSource {
  readonly spec: string;
  /** `variantFallback`: an arm/v7 build may take an arm/v6 or v5 base (build file `baseVariantFallback`). */
  resolve(platform: Platform, variantFallback?: boolean): Promise<BaseImage | undefined>;
}
