/**
 * The registry layer cache's map (`--cache-repo`, docs/cache-repo.md): for one
 * compression settings key, a layer's diffID → the blob a build compressed
 * from it. Pure format code, no I/O. Rules:
 * - The map is the config blob of an OCI image manifest (as buildx keeps its
 *   cache graph in a config of `application/vnd.buildkit.cacheconfig.v0`);
 *   the manifest's `layers` are the blobs the map names, so a registry's
 *   garbage collector keeps them and `skopeo copy` copies them.
 * - One tag per settings key (`layer-cache-gzip-v1-level5`): a zstd build
 *   never reads a gzip map, and one fetch serves every platform of a build.
 * - Entries are newest first and at most MAX_CACHE_ENTRIES; a merge puts the
 *   build's new entries, then the ones it hit, then the old ones, and drops
 *   the oldest. No clock is read: the order is the age.
 * - Parsing is strict and never trusts: a malformed map or entry is dropped
 *   (a miss), and a hit is proven by its content before it is used
 *   (src/pipeline/cache-repo.ts).
 */
import type { Descriptor, Digest } from '../oci/types.js';
import { MediaType } from '../oci/types.js';

/** The artifact type of the manifest and the media type of its config (the map). */
export const CACHE_MAP_MEDIA_TYPE = 'application/vnd.ociasm.layer-cache.v1+json';
/** Entries kept per settings key; the oldest beyond it are dropped (docs/cache-repo.md). */
export const MAX_CACHE_ENTRIES = 500;
/** The largest map blob read (500 entries are about 150 KB). */
export const MAX_CACHE_MAP_BYTES = 1 << 20;

export interface CacheEntry {
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  uncompressedSize: number;
  /** The compressed blob, in the cache repository. */
  digest: Digest;
  size: number;
  mediaType: string;
}

export interface CacheMap {
  settings: string;
  entries: CacheEntry[];
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The tag that holds the map of a settings key: `gzip/v1/level5` → `layer-cache-gzip-v1-level5`. */
export function cacheTag(settings: string): string {
  const tag = `layer-cache-${settings.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw new Error(`settings key ${settings} gives no valid tag`);
  return tag;
}

function validEntry(v: unknown): v is CacheEntry {
  const e = v as CacheEntry;
  return !!e && typeof e === 'object' && DIGEST.test(String(e.diffId)) && DIGEST.test(String(e.digest)) &&
    typeof e.mediaType === 'string' && e.mediaType.length > 0 && e.mediaType.length < 256 &&
    [e.size, e.uncompressedSize].every((n) => Number.isSafeInteger(n) && n >= 0);
}

/** The map in a config blob; entries that are malformed or for another settings key are dropped, as is everything past the limit. */
export function parseCacheMap(bytes: Buffer, settings: string): CacheMap {
  let doc: { settings?: unknown; entries?: unknown };
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch {
    return { settings, entries: [] };
  }
  if (!doc || typeof doc !== 'object' || doc.settings !== settings || !Array.isArray(doc.entries)) return { settings, entries: [] };
  const seen = new Set<string>();
  const entries: CacheEntry[] = [];
  for (const e of doc.entries.slice(0, MAX_CACHE_ENTRIES)) {
    if (!validEntry(e) || seen.has(e.diffId)) continue;
    seen.add(e.diffId);
    entries.push({ diffId: e.diffId, uncompressedSize: e.uncompressedSize, digest: e.digest, size: e.size, mediaType: e.mediaType });
  }
  return { settings, entries };
}

/** New entries first, then the ones this build hit, then the rest of `old`; one per diffID, at most `limit`. */
export function mergeCacheMap(old: CacheMap, added: CacheEntry[], hit: Digest[], limit = MAX_CACHE_ENTRIES): CacheMap {
  const byDiff = new Map(old.entries.map((e) => [e.diffId, e]));
  const out: CacheEntry[] = [];
  const seen = new Set<string>();
  const push = (e: CacheEntry | undefined) => {
    if (!e || seen.has(e.diffId) || out.length >= limit) return;
    seen.add(e.diffId);
    out.push(e);
  };
  for (const e of added) push(e);
  for (const d of hit) push(byDiff.get(d));
  for (const e of old.entries) push(e);
  return { settings: old.settings, entries: out };
}

/** The config blob's bytes. */
export function cacheMapBytes(map: CacheMap): Buffer {
  return Buffer.from(JSON.stringify({ settings: map.settings, entries: map.entries }) + '\n');
}

/** The manifest that tags the map: the map as its config, the blobs it names as its layers. */
export function cacheManifest(config: Descriptor, map: CacheMap): Buffer {
  const layers = map.entries.map((e) => ({ mediaType: e.mediaType, digest: e.digest, size: e.size }));
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    artifactType: CACHE_MAP_MEDIA_TYPE,
    config: { mediaType: CACHE_MAP_MEDIA_TYPE, digest: config.digest, size: config.size },
    layers,
    annotations: { 'dev.ociasm.layer-cache.settings': map.settings },
  }));
}

/** The config descriptor of a fetched cache manifest, or undefined when it is no ociasm cache map. */
export function cacheConfigOf(manifest: Buffer): Descriptor | undefined {
  try {
    const doc = JSON.parse(manifest.toString('utf8')) as { config?: Descriptor };
    const c = doc.config;
    if (!c || c.mediaType !== CACHE_MAP_MEDIA_TYPE || !DIGEST.test(String(c.digest)) || !Number.isSafeInteger(c.size) || c.size < 0) return undefined;
    if (c.size > MAX_CACHE_MAP_BYTES) return undefined;
    return { mediaType: c.mediaType, digest: c.digest, size: c.size };
  } catch {
    return undefined;
  }
}
