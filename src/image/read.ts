/** Image semantics over any BlobStore: resolving an index to a platform's manifest and config. */
import { baseCandidates, formatPlatform, samePlatform } from '../codec/platform.js';
import type { BlobStore } from '../cas/blob-store.js';
import { OciasmError } from '../errors.js';
import {
  type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform,
  isIndexMediaType, isManifestMediaType,
} from '../oci/types.js';

export async function readJsonBlob<T>(store: BlobStore, desc: Descriptor, what: string): Promise<T> {
  const bytes = await store.readBytes(desc.digest);
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw new OciasmError('BASE_INVALID', `${store.label}: ${what} ${desc.digest} is not valid JSON: ${(e as Error).message}`);
  }
}

export interface ResolvedImage {
  manifestDigest: Descriptor['digest'];
  manifest: ImageManifest;
  config: ImageConfig;
}

/** Loose platform equality used to pick a base: arm64 matches with or without variant v8. */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  if (samePlatform(want, have)) return true;
  const norm = (p: Platform) => (p.architecture === 'arm64' && (p.variant ?? 'v8') === 'v8' ? { ...p, variant: 'v8' } : p);
  return samePlatform(norm(want), norm(have));
}

function describeWanted(accept: Platform[]): string {
  const [first, ...rest] = accept.map(formatPlatform);
  return rest.length === 0 ? `${first}` : `${first} (nor the allowed fallback ${rest.join(', ')})`;
}

/** The entry of an index a base for `platform` is taken from (the best candidate), or BASE_PLATFORM_MISSING listing what there is. */
export function pickIndexEntry(index: ImageIndex, platform: Platform, label: string, variantFallback = false): Descriptor {
  const accept = baseCandidates(platform, variantFallback);
  const candidates = (index.manifests ?? []).filter((m) => isManifestMediaType(m.mediaType) || isIndexMediaType(m.mediaType));
  const hit = accept.map((want) => candidates.find((m) => platformMatches(want, m.platform))).find((m) => m !== undefined);
  if (!hit) {
    const have = candidates.map((m) => (m.platform ? formatPlatform(m.platform) : '(no platform)'));
    throw new OciasmError(
      'BASE_PLATFORM_MISSING',
      `base ${label} has no ${describeWanted(accept)} image; it has: ${have.join(', ') || 'nothing'}`,
    );
  }
  return hit;
}

/**
 * Follows `desc` (an index or a manifest) to the manifest for `platform`.
 * With `variantFallback`, an older arm variant is taken when the exact one is
 * missing (see baseCandidates); the best available candidate wins.
 */
export async function resolvePlatform(
  store: BlobStore, desc: Descriptor, platform: Platform, label: string, variantFallback = false,
): Promise<ResolvedImage> {
  const accept = baseCandidates(platform, variantFallback);
  if (isIndexMediaType(desc.mediaType)) {
    const index = await readJsonBlob<ImageIndex>(store, desc, 'index');
    return resolvePlatform(store, pickIndexEntry(index, platform, label, variantFallback), platform, label, variantFallback);
  }
  if (!isManifestMediaType(desc.mediaType)) {
    throw new OciasmError('BASE_INVALID', `base ${label}: unsupported media type ${desc.mediaType}`);
  }
  const manifest = await readJsonBlob<ImageManifest>(store, desc, 'manifest');
  const config = await readJsonBlob<ImageConfig>(store, manifest.config, 'config');
  const have: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  const fits = (p: Platform | undefined) => accept.some((want) => platformMatches(want, p));
  if (!fits(have) && !fits(desc.platform)) {
    throw new OciasmError(
      'BASE_PLATFORM_MISSING',
      `base ${label} is a single ${formatPlatform(have)} image; it has no ${describeWanted(accept)} image`,
    );
  }
  return { manifestDigest: desc.digest, manifest, config };
}
