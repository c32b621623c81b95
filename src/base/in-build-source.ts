/**
 * `image:NAME`: a base built earlier in the same run. Its image index is read
 * back from the output layout (the same machinery as `oci:` bases), for the
 * same platform, once the image it names has been built and checked.
 */
import type { BlobStore } from '../cas/blob-store.js';
import { resolvePlatform } from '../image/read.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { BaseImage, BaseSource } from './source.js';

/** Looks up an image built in this run: its ref name and its index in `store`. */
export type InBuildLookup = (name: string) => Promise<{ refName: string; index: Descriptor; store: BlobStore }>;

export class InBuildSource implements BaseSource {
  constructor(readonly spec: string, private readonly name: string, private readonly lookup: InBuildLookup) {}

  async resolve(platform: Platform, variantFallback = false): Promise<BaseImage> {
    const { refName, index, store } = await this.lookup(this.name);
    const resolved = await resolvePlatform(store, index, platform, `${this.spec} (${refName})`, variantFallback);
    return {
      name: refName,
      manifestDigest: resolved.manifestDigest,
      config: resolved.config,
      layers: resolved.manifest.layers,
      blobs: store,
    };
  }
}
