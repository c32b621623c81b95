/** `oci:PATH[:REF]`: a base image read from a local OCI image layout. */
import path from 'node:path';
import { LayoutStore } from '../cas/layout-store.js';
import { OciasmError } from '../errors.js';
import { Annotation, type Descriptor, type Platform } from '../oci/types.js';
import { resolvePlatform } from '../image/read.js';
import type { BaseImage, BaseSource } from './source.js';

/** Splits `PATH[:REF]` (the CLI's `DIR[:REF]`) at the first ':', as skopeo's oci: transport does (PATH holds no ':'). */
export function parseLayoutArg(arg: string): { dir: string; ref?: string } {
  const colon = arg.indexOf(':');
  if (colon < 0) return { dir: arg };
  return { dir: arg.slice(0, colon), ref: arg.slice(colon + 1) };
}

/** `oci:PATH[:REF]`, the build file's spelling. */
export function parseLayoutSpec(spec: string): { dir: string; ref?: string } {
  return parseLayoutArg(spec.slice('oci:'.length));
}

export async function findRef(store: LayoutStore, ref: string | undefined, label: string): Promise<Descriptor> {
  const index = await store.readIndex();
  const named = (d: Descriptor) => d.annotations?.[Annotation.RefName];
  if (ref === undefined) {
    // Referrers (SBOMs, signatures) stored beside an image are not images to choose from.
    const images = index.manifests.filter((d) => !d.annotations?.[Annotation.ReferrerSubject]);
    if (images.length === 1) return images[0]!;
    throw new OciasmError('REF_NOT_FOUND', `${label}: the layout holds ${images.length} images; name one as oci:PATH:REF`);
  }
  const hit = index.manifests.filter((d) => named(d) === ref);
  if (hit.length === 1) return hit[0]!;
  const refs = index.manifests.map(named).filter((n): n is string => !!n);
  if (hit.length > 1) throw new OciasmError('REF_NOT_FOUND', `${label}: ref "${ref}" names ${hit.length} entries`);
  throw new OciasmError('REF_NOT_FOUND', `${label}: no ref "${ref}" in the layout; it has: ${refs.join(', ') || 'none'}`);
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
