/** `oci:PATH[:REF]`: a base image read from a local OCI image layout. */
export { findRef, parseLayoutArg } from '../transports/layout-ref.js';
import path from 'node:path';
import { LayoutStore } from '../cas/layout-store.js';
import { OciasmError } from '../errors.js';
import type { Platform } from '../oci/types.js';
import { findRef, parseLayoutArg } from '../transports/layout-ref.js';
import { resolvePlatform } from '../image/read.js';
import type { BaseImage, BaseSource } from './source.js';

/** `oci:PATH[:REF]`, the build file's spelling. */
export function parseLayoutSpec(spec: string): { dir: string; ref?: string } {
  return parseLayoutArg(spec.slice('oci:'.length));
}

export class LayoutSource implements BaseSource {
  private store?: Promise<LayoutStore>;
  private readonly dir: string;
  private readonly ref?: string;

  constructor(readonly spec: string, relativeTo: string) {
    const { dir, ref } = parseLayoutSpec(spec);
    if (dir === '') throw new OciasmError('BASE_INVALID', `base "${spec}": no layout path`);
    this.dir = path.resolve(relativeTo, dir);
    if (ref !== undefined) this.ref = ref;
  }

  async resolve(platform: Platform, variantFallback = false): Promise<BaseImage> {
    this.store ??= LayoutStore.open(this.dir, false);
    const store = await this.store;
    const top = await findRef(store, this.ref, `base ${this.spec}`);
    const resolved = await resolvePlatform(store, top, platform, this.spec, variantFallback);
    return {
      name: this.ref ?? path.basename(this.dir),
      manifestDigest: resolved.manifestDigest,
      config: resolved.config,
      layers: resolved.manifest.layers,
      blobs: store,
    };
  }
}
