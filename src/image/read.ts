/** Image semantics over any BlobStore: resolving an index to a platform's manifest and config. */
import { baseCandidates, formatPlatform, samePlatform } from '../codec/platform.js';
import { type BlobStore, sha256 } from '../cas/blob-store.js';
import { OciasmError, parseJsonText } from '../errors.js';
import {
  type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform,
  isIndexMediaType, isManifestMediaType,
} from '../oci/types.js';

/** Manifests, indexes and configs are read whole into memory: at most this many bytes (containerd's limit is 4 MiB too). */
export const MAX_JSON_BLOB_BYTES = 4 << 20;
/** How deep indexes may nest (index → index → … → manifest); real images use one or two levels. */
export const MAX_GRAPH_DEPTH = 8;

/**
 * A JSON blob (manifest, index, config) read and checked against its
 * descriptor before it is believed: its size (refused above
 * MAX_JSON_BLOB_BYTES without reading, and reading stops one byte past the
 * descriptor's size) and its sha256, from any store, local layouts included.
 * A parse error never quotes the content.
 */
export async function readJsonBlob<T>(store: BlobStore, desc: Descriptor, what: string): Promise<T> {
  const bytes = await readVerifiedBlob(store, desc, what);
  return parseJsonText(bytes.toString('utf8'), `${store.label}: ${what} ${desc.digest}`, 'BASE_INVALID') as T;
}

export async function readVerifiedBlob(store: BlobStore, desc: Descriptor, what: string, max = MAX_JSON_BLOB_BYTES): Promise<Buffer> {
  const at = `${store.label}: ${what} ${desc.digest}`;
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) throw new OciasmError('BASE_INVALID', `${at}: descriptor size ${String(desc.size)} is not a byte count`);
  if (desc.size > max) throw new OciasmError('LIMIT_EXCEEDED', `${at}: ${desc.size} bytes is more than the ${max} bytes a ${what} may have`);
  const chunks: Buffer[] = [];
  let size = 0;
  const source = store.open(desc.digest)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const { done, value } = await source.next();
      if (done) break;
      size += value.length;
      if (size > desc.size) throw new OciasmError('DIGEST_MISMATCH', `${at}: the blob is larger than its descriptor's ${desc.size} bytes`);
      chunks.push(value);
    }
  } finally {
    await source.return?.();
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length !== desc.size) {
    throw new OciasmError('DIGEST_MISMATCH', `${at}: the blob has ${bytes.length} bytes, its descriptor says ${desc.size}`);
  }
  const actual = sha256(bytes);
  if (actual !== desc.digest) throw new OciasmError('DIGEST_MISMATCH', `${at}: the blob's content is ${actual}`);
  return bytes;
}

/**
 * One step down an image graph: `trail` is the digests from the root to the
 * parent. A digest already on the trail is a cycle (an index that lists
 * itself, directly or not); more than MAX_GRAPH_DEPTH levels is refused.
 * Every walker of manifests and indexes calls this before reading a child.
 */
export function descend(trail: readonly string[], desc: Descriptor, label: string): string[] {
  if (trail.includes(desc.digest)) {
    throw new OciasmError('GRAPH_INVALID', `${label}: index ${trail[trail.length - 1]} lists ${desc.digest}, which contains it (a cycle)`);
  }
  if (trail.length >= MAX_GRAPH_DEPTH) {
    throw new OciasmError('GRAPH_INVALID', `${label}: indexes nest deeper than ${MAX_GRAPH_DEPTH} levels at ${desc.digest}`);
  }
  return [...trail, desc.digest];
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
  if (!Array.isArray(index?.manifests)) throw new OciasmError('BASE_INVALID', `base ${label}: the index has no manifests list`);
  const candidates = index.manifests.filter((m) => isManifestMediaType(m.mediaType) || isIndexMediaType(m.mediaType));
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
  store: BlobStore, desc: Descriptor, platform: Platform, label: string, variantFallback = false, trail: readonly string[] = [],
): Promise<ResolvedImage> {
  const accept = baseCandidates(platform, variantFallback);
  const here = descend(trail, desc, `base ${label}`);
  if (isIndexMediaType(desc.mediaType)) {
    const index = await readJsonBlob<ImageIndex>(store, desc, 'index');
    if (!Array.isArray(index?.manifests)) throw new OciasmError('BASE_INVALID', `base ${label}: index ${desc.digest} has no manifests list`);
    return resolvePlatform(store, pickIndexEntry(index, platform, label, variantFallback), platform, label, variantFallback, here);
  }
  if (!isManifestMediaType(desc.mediaType)) {
    throw new OciasmError('BASE_INVALID', `base ${label}: unsupported media type ${desc.mediaType}`);
  }
  const manifest = await readJsonBlob<ImageManifest>(store, desc, 'manifest');
  if (!manifest?.config || !Array.isArray(manifest.layers)) {
    throw new OciasmError('BASE_INVALID', `base ${label}: manifest ${desc.digest} has no config or no layers list`);
  }
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
