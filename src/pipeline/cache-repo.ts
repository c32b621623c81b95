/**
 * `--cache-repo REPO`: the layer cache kept in a registry repository, so a CI
 * run with an empty local cache does not compress a layer that an earlier
 * run already compressed (docs/cache-repo.md). Rules:
 * - The key is content, valid on any machine: the layer's diffID (the tar's
 *   sha256, one tar pass without compression) under the codec's settings key
 *   (compression, format version, level), one map per settings key
 *   (src/cache/cache-map.ts), fetched once per build. When that map is empty
 *   or unreadable the tar pass is skipped: nothing could hit.
 * - A hit is proven, never believed: the blob is downloaded into the work
 *   store, and only a blob whose bytes have the recorded digest AND whose
 *   decompression is exactly this tar (sha256 = diffID, same length) is
 *   kept; anything else is a miss, with a warning naming REPO, and the layer
 *   is compressed as usual. A hostile or broken cache can cost time, never
 *   change what an image holds.
 * - Best effort both ways: a cache that cannot be read is a miss plus one
 *   warning; one that cannot be written is a warning. The build never fails
 *   for the cache (an abort is still an abort).
 * - Writing (after the output and the push): each layer the build compressed
 *   or took from the local cache is pushed into REPO — mounted from a
 *   repository of the run on the same registry when it can be — then the
 *   map is read again, merged (new, then hit, then old entries, at most
 *   MAX_CACHE_ENTRIES) and its manifest PUT under the settings' tag. A build
 *   with hits only writes nothing. Two builds writing at once: the last one
 *   wins, and the other's new entries are misses next time.
 * - All requests go through the build's registry clients (auth, TLS, limits,
 *   retries, --debug) and RegistryRepository's public API.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { type BlobInfo, type BlobStore, HashingTap, sha256 } from '../cas/blob-store.js';
import type { LayoutStore } from '../cas/layout-store.js';
import {
  type CacheEntry, type CacheMap, cacheConfigOf, cacheManifest, cacheMapBytes, cacheTag, MAX_CACHE_ENTRIES, MAX_CACHE_MAP_BYTES,
  mergeCacheMap, parseCacheMap,
} from '../cache/cache-map.js';
import { decompress } from '../codec/decompress.js';
import { parseReference, type Reference, referenceName } from '../codec/reference.js';
import { sourceReader } from '../copy/copy.js';
import { isOciasmError, OciasmError } from '../errors.js';
import type { LayerCodec } from '../layer/codecs.js';
import type { RemoteLayers, TarPass, WrittenLayer } from '../layer/write-layer.js';
import { type Digest, MediaType } from '../oci/types.js';
import type { Registries } from '../registry/registries.js';
import type { RegistryRepository } from '../registry/repository.js';
import { DOCKER_TRANSPORT } from '../transports/docker.js';
import { LayoutImageSource } from '../transports/oci.js';
import type { BlobLocations } from '../transports/types.js';

export interface CacheRepoSummary {
  /** HOST/REPOSITORY. */
  repository: string;
  /** Layers whose proven blob came from REPO (nothing compressed). */
  hits: number;
  /** Lookups that found nothing usable (the layer was compressed). */
  misses: number;
  /** Entries added to REPO's maps by this build. */
  written: number;
}

/** `--cache-repo HOST/REPO`: a repository, no tag or digest (the tags are ociasm's, one per settings key). */
export function parseCacheRepo(text: string): Reference {
  let ref: Reference;
  try {
    ref = parseReference(text, { defaultTag: false });
  } catch (e) {
    throw new OciasmError('REFERENCE_INVALID', `--cache-repo ${text}: ${(e as Error).message}`, { cause: e });
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new OciasmError('REFERENCE_INVALID', `--cache-repo ${text}: name a repository (HOST/REPO) without a tag or digest; ociasm tags its maps itself (layer-cache-<settings>)`);
  }
  return ref;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class CacheRepo implements RemoteLayers {
  readonly label: string;
  private readonly maps = new Map<string, Promise<CacheMap | undefined>>();
  private readonly added = new Map<string, Map<Digest, CacheEntry>>();
  private readonly hit = new Map<string, Digest[]>();
  /** The blobs this build took from REPO: the output and the push mount them from there. */
  readonly hitBlobs = new Set<Digest>();
  private unreadable = false;
  hits = 0;
  misses = 0;
  written = 0;

  constructor(
    readonly ref: Reference,
    private readonly registries: () => Promise<Registries>,
    private readonly warn: (message: string) => void,
    /** False with --no-layer-cache: record and write only. */
    readonly lookups = true,
    private readonly debug?: (message: string) => void,
  ) {
    this.label = referenceName(ref);
  }

  summary(): CacheRepoSummary {
    return { repository: this.label, hits: this.hits, misses: this.misses, written: this.written };
  }

  private async repo(): Promise<RegistryRepository> {
    return (await this.registries()).repository(this.ref.registry, this.ref.repository);
  }

  /** The map of a settings key as REPO has it now: empty when there is none; undefined when it cannot be read. */
  private async readMap(settings: string, signal?: AbortSignal): Promise<CacheMap | undefined> {
    const tag = cacheTag(settings);
    try {
      const repo = await this.repo();
      let manifest;
      try {
        manifest = await repo.getManifest(tag, signal ? { signal } : {});
      } catch (e) {
        if (isOciasmError(e) && e.code === 'MANIFEST_UNKNOWN') return { settings, entries: [] };
        throw e;
      }
      const config = cacheConfigOf(manifest.bytes);
      if (!config) {
        this.warn(`--cache-repo ${this.label}:${tag} is not an ociasm layer cache map (or its map is past ${MAX_CACHE_MAP_BYTES} bytes): ignored, and replaced when this build writes`);
        return { settings, entries: [] };
      }
      const bytes = await repo.readBytes(config.digest, config.size);
      if (sha256(bytes) !== config.digest) {
        this.warn(`--cache-repo ${this.label}:${tag}: the map blob is not ${config.digest}: ignored`);
        return { settings, entries: [] };
      }
      return parseCacheMap(bytes, settings);
    } catch (e) {
      signal?.throwIfAborted();
      this.unreadable = true;
      this.warn(`--cache-repo ${this.label}: cannot read the layer cache (${message(e)}): building without it`);
      return undefined;
    }
  }

  /** One read per settings key, shared by every image: not cancelled by one image's signal (each caller checks its own). */
  private async map(settings: string, signal?: AbortSignal): Promise<CacheMap | undefined> {
    let m = this.maps.get(settings);
    if (!m) this.maps.set(settings, (m = this.readMap(settings)));
    const map = await m;
    signal?.throwIfAborted();
    return map;
  }

  async fetch(pass: () => Promise<TarPass>, codec: LayerCodec, store: BlobStore, signal?: AbortSignal): Promise<{ blob: BlobInfo; tar: TarPass } | undefined> {
    const map = await this.map(codec.settings, signal);
    if (!map || map.entries.length === 0) {
      // Nothing could hit: no tar pass, the layer is compressed straight away.
      this.misses++;
      this.debug?.(`cache-repo: ${map ? 'no entries' : 'no readable map'} for ${codec.settings} in ${this.label}: compressing, no diffID pass`);
      return undefined;
    }
    const tar = await pass();
    const entry = map.entries.find((e) => e.diffId === tar.diffId);
    if (!entry) {
      this.misses++;
      this.debug?.(`cache-repo: miss ${tar.diffId} (${codec.settings}) in ${this.label}`);
      return undefined;
    }
    const what = `--cache-repo ${this.label}: blob ${entry.digest} for diffID ${tar.diffId}`;
    try {
      if (entry.mediaType !== codec.mediaType || entry.uncompressedSize !== tar.uncompressedSize) {
        throw new OciasmError('CACHE_MISMATCH', `${what} is recorded as ${entry.mediaType} of ${entry.uncompressedSize} bytes, the layer is ${codec.mediaType} of ${tar.uncompressedSize}`);
      }
      const repo = await this.repo();
      const download = repo.open(entry.digest, { size: entry.size, ...(signal ? { signal } : {}) });
      const info = await store.put(proving(download, codec, tar, what), { digest: entry.digest, size: entry.size });
      this.hits++;
      this.hitBlobs.add(info.digest);
      const list = this.hit.get(codec.settings) ?? [];
      list.push(tar.diffId);
      this.hit.set(codec.settings, list);
      this.debug?.(`cache-repo: hit ${tar.diffId} → ${info.digest} from ${this.label}, proven (digest and diffID); nothing compressed`);
      return { blob: info, tar };
    } catch (e) {
      signal?.throwIfAborted();
      this.misses++;
      const why = isOciasmError(e) && e.code === 'MANIFEST_UNKNOWN' ? 'is no longer in the repository' : `cannot be used: ${message(e)}`;
      this.warn(`${what} ${why}; compressing the layer instead`);
      return undefined;
    }
  }

  record(layer: WrittenLayer, codec: LayerCodec): void {
    if (layer.cache === 'registry') return;
    const list = this.added.get(codec.settings) ?? new Map<Digest, CacheEntry>();
    list.set(layer.diffId, {
      diffId: layer.diffId, uncompressedSize: layer.uncompressedSize, digest: layer.descriptor.digest, size: layer.descriptor.size, mediaType: layer.descriptor.mediaType,
    });
    this.added.set(codec.settings, list);
  }

  /**
   * Pushes the recorded layers from `work` into REPO and merges them into the
   * maps (see the header). Never throws for a registry fault: warns.
   */
  async flush(work: LayoutStore, locations: BlobLocations | undefined, signal?: AbortSignal): Promise<void> {
    if (this.unreadable) {
      if (this.added.size > 0) this.warn(`--cache-repo ${this.label}: not written, it could not be read`);
      return;
    }
    for (const [settings, pending] of this.added) {
      try {
        await this.write(settings, [...pending.values()], work, locations, signal);
      } catch (e) {
        signal?.throwIfAborted();
        this.warn(`--cache-repo ${this.label}: cannot write the layer cache (${message(e)}); the build itself is done`);
      }
    }
  }

  private async write(settings: string, entries: CacheEntry[], work: LayoutStore, locations: BlobLocations | undefined, signal?: AbortSignal): Promise<void> {
    const fresh = await this.readMap(settings, signal); // again: another build may have written since this one read
    if (!fresh) throw new OciasmError('REGISTRY_ERROR', 'the map could not be read again');
    const known = new Map(fresh.entries.map((e) => [e.diffId, e.digest]));
    const added = entries.filter((e) => known.get(e.diffId) !== e.digest);
    if (added.length === 0) return;
    const repo = await this.repo();
    const source = new LayoutImageSource(work);
    const prefix = `${this.ref.registry}/`;
    for (const e of added) {
      const from = locations?.get(e.digest).find((l) => l.transport === DOCKER_TRANSPORT && l.location.startsWith(prefix) && l.location !== this.label);
      const how = await repo.putBlob({ digest: e.digest, size: e.size }, sourceReader(source, e, signal ? { signal } : {}), from?.location.slice(prefix.length));
      this.debug?.(`cache-repo: blob ${e.digest} ${how} → ${this.label}`);
    }
    const hit = this.hit.get(settings) ?? [];
    const put = async (map: CacheMap): Promise<void> => {
      const bytes = cacheMapBytes(map);
      const config = await repo.putBytes(bytes);
      await repo.putManifest(cacheTag(settings), cacheManifest({ mediaType: '', ...config }, map), MediaType.ImageManifest);
    };
    const merged = mergeCacheMap(fresh, added, hit, MAX_CACHE_ENTRIES);
    try {
      await put(merged);
    } catch (e) {
      signal?.throwIfAborted();
      // An old entry's blob may be gone (deleted, garbage-collected): the registry then refuses the manifest. Keep what this build proved.
      const mine = new Set([...added.map((a) => a.diffId), ...hit]);
      const kept = { settings, entries: merged.entries.filter((x) => mine.has(x.diffId)) };
      if (kept.entries.length === merged.entries.length) throw e;
      this.debug?.(`cache-repo: ${this.label} refused the merged map (${message(e)}); writing this build's ${kept.entries.length} entries only`);
      await put(kept);
    }
    this.written += added.length;
  }
}

/**
 * The downloaded blob, passed through to the store while its decompression is
 * hashed; ends (so the store keeps the blob) only when that is exactly the
 * tar: same length, sha256 = diffID. Anything else throws CACHE_MISMATCH
 * before the end, and the store keeps nothing.
 */
async function* proving(
  download: AsyncIterable<Uint8Array>, codec: LayerCodec, tar: { diffId: Digest; uncompressedSize: number }, what: string,
): AsyncGenerator<Uint8Array> {
  const feed = new PassThrough({ highWaterMark: 1 << 20 });
  const tap = new HashingTap();
  const checked = (async () => {
    for await (const _chunk of tap.tap(decompress(codec.compression, feed, what))) {
      if (tap.size > tar.uncompressedSize) throw new OciasmError('CACHE_MISMATCH', `${what} decompresses to more than the layer's ${tar.uncompressedSize} bytes`);
    }
  })();
  let failed: unknown;
  let settled = false;
  checked.then(() => { settled = true; }, (e: unknown) => { settled = true; failed = e; });
  try {
    for await (const chunk of download) {
      if (failed !== undefined) throw failed;
      // Bytes past the end of the compressed stream are not fed (the final check below fails on them anyway).
      if (!settled && !feed.write(chunk)) await Promise.race([once(feed, 'drain'), checked]);
      yield chunk;
    }
    feed.end();
    await checked;
  } finally {
    if (!feed.writableEnded) feed.destroy();
  }
  const got = tap.digest();
  if (got !== tar.diffId || tap.size !== tar.uncompressedSize) {
    throw new OciasmError('CACHE_MISMATCH', `${what} decompresses to ${got} (${tap.size} bytes), not the layer's tar (${tar.uncompressedSize} bytes): the cache entry is wrong`);
  }
}
