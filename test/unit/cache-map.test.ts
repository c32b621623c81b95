/**
 * The registry layer cache's map format (src/cache/cache-map.ts): strict
 * parsing (malformed entries, another settings key, duplicates are dropped),
 * the merge order (new, hit, old) and its bound, and the tag per settings key.
 */
import { describe, expect, it } from 'vitest';
import {
  type CacheEntry, cacheConfigOf, cacheManifest, cacheMapBytes, cacheTag, MAX_CACHE_ENTRIES, mergeCacheMap, parseCacheMap,
} from '../../src/cache/cache-map.js';

const d = (n: number, c = 'a') => `sha256:${c.repeat(56)}${String(n).padStart(8, '0')}` as const;
const entry = (n: number): CacheEntry => ({ diffId: d(n), uncompressedSize: 1024 * n, digest: d(n, 'b'), size: 100 + n, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });

describe('cache map', () => {
  it('names one tag per settings key', () => {
    expect(cacheTag('gzip/v1/level5')).toBe('layer-cache-gzip-v1-level5');
    expect(cacheTag('zstd/v1/level3')).toBe('layer-cache-zstd-v1-level3');
  });

  it('round-trips, and drops malformed entries, duplicates and another settings key', () => {
    const map = { settings: 'gzip/v1/level5', entries: [entry(1), entry(2)] };
    expect(parseCacheMap(cacheMapBytes(map), 'gzip/v1/level5')).toEqual(map);
    expect(parseCacheMap(cacheMapBytes(map), 'gzip/v1/level6').entries).toEqual([]);
    const bad = Buffer.from(JSON.stringify({
      settings: 'gzip/v1/level5',
      entries: [entry(1), { ...entry(2), digest: 'md5:x' }, { ...entry(3), size: -1 }, { ...entry(4), mediaType: 7 }, entry(1), null, entry(5)],
    }));
    expect(parseCacheMap(bad, 'gzip/v1/level5').entries.map((e) => e.diffId)).toEqual([d(1), d(5)]);
    expect(parseCacheMap(Buffer.from('not json'), 'gzip/v1/level5').entries).toEqual([]);
  });

  it('merges new entries first, then hits, then the rest, and keeps at most the limit', () => {
    const old = { settings: 's', entries: [1, 2, 3, 4].map(entry) };
    const merged = mergeCacheMap(old, [entry(9), { ...entry(2), digest: d(22, 'c') }], [d(4)], 4);
    expect(merged.entries.map((e) => e.diffId)).toEqual([d(9), d(2), d(4), d(1)]);
    expect(merged.entries[1]!.digest).toBe(d(22, 'c')); // a rewritten entry replaces the old one
    const many = { settings: 's', entries: Array.from({ length: MAX_CACHE_ENTRIES }, (_, i) => entry(i + 10)) };
    const bounded = mergeCacheMap(many, [entry(1)], []);
    expect(bounded.entries.length).toBe(MAX_CACHE_ENTRIES);
    expect(bounded.entries[0]!.diffId).toBe(d(1));
    expect(bounded.entries.some((e) => e.diffId === d(MAX_CACHE_ENTRIES + 9))).toBe(false); // the oldest went
  });

  it('the manifest lists the map as its config and every blob as a layer; only such a manifest is read back', () => {
    const map = { settings: 's', entries: [entry(1)] };
    const m = cacheManifest({ mediaType: '', digest: d(7, 'e'), size: 55 }, map);
    const doc = JSON.parse(m.toString());
    expect(doc.layers).toEqual([{ mediaType: entry(1).mediaType, digest: entry(1).digest, size: entry(1).size }]);
    expect(cacheConfigOf(m)).toEqual({ mediaType: 'application/vnd.ociasm.layer-cache.v1+json', digest: d(7, 'e'), size: 55 });
    expect(cacheConfigOf(Buffer.from(JSON.stringify({ ...doc, config: { ...doc.config, mediaType: 'application/vnd.oci.image.config.v1+json' } })))).toBeUndefined();
    expect(cacheConfigOf(Buffer.from(JSON.stringify({ ...doc, config: { ...doc.config, size: 1 << 30 } })))).toBeUndefined();
  });
});
