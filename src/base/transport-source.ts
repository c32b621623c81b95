/**
 * `base:` from any source transport (`oci:DIR[:REF]`, `docker://REF`, a bare
 * registry reference, the archive transports): one BaseSource over an
 * ImageSource. Rules:
 * - The source is opened once per build, on first use; its top manifest is
 *   resolved once (a tag is looked up once per build).
 * - A local source (a layout, an archive) is read in place, every byte
 *   checked against its digest. A platformless source (`rootfs:`) is the
 *   base of every platform (./platformless.ts).
 * - A remote source is pulled into the verified blob cache through the one
 *   copy (src/copy/copy.ts): the platform's manifest, config and layers, each
 *   checked while written, nothing kept on a mismatch; then the base is read
 *   from the cache. A digest-pinned base (in the reference or ociasm.lock)
 *   whose blobs are cached sends no request at all.
 */
import type { LayoutStore } from '../cas/layout-store.js';
import { sha256 } from '../cas/blob-store.js';
import { formatReference, parseReference } from '../codec/reference.js';
import { copyImage } from '../copy/copy.js';
import { isOciasmError, OciasmError } from '../errors.js';
import { pickIndexEntry, resolvePlatform } from '../image/read.js';
import { type Descriptor, type Digest, type ImageIndex, isIndexMediaType, type Platform, sniffManifestMediaType } from '../oci/types.js';
import { LayoutImageDestination } from '../transports/oci.js';
import { openSource, splitImageName, type TransportContext } from '../transports/index.js';
import type { BlobLocation, BlobReader, ImageSource, Manifest, Opts, PutBlobOutcome } from '../transports/types.js';
import { platformlessBase } from './platformless.js';
import { SourceBlobStore } from './source-store.js';
import type { BaseImage, BaseSource } from './source.js';

export interface PullContext {
  /** Opens sources; relative paths are the build file's. */
  ctx: TransportContext;
  /** The shared blob cache, opened on first use. */
  cache: () => Promise<LayoutStore>;
  /** Digests pinned by ociasm.lock, by base reference as written (registry bases). */
  pins?: Record<string, Digest>;
  /** Filled with each registry base's resolved top-level digest, by base reference as written. */
  resolved?: Map<string, Digest>;
}

interface Top {
  source: ImageSource;
  manifest: Manifest;
  /** For a platformless source: the one base of every platform. */
  platformless?: Promise<BaseImage>;
}

/** The cache as a destination, shared by a base's platforms: a blob two platforms need is downloaded once. */
class SharedCacheDestination extends LayoutImageDestination {
  private readonly inflight = new Map<string, Promise<PutBlobOutcome>>();
  override putBlob(desc: Descriptor, data: BlobReader, known: readonly BlobLocation[], opts?: Opts): Promise<PutBlobOutcome> {
    let p = this.inflight.get(desc.digest);
    if (!p) {
      p = super.putBlob(desc, data, known, opts);
      this.inflight.set(desc.digest, p);
      p.then(() => this.inflight.delete(desc.digest), () => this.inflight.delete(desc.digest));
    }
    return p;
  }
}

export class TransportBaseSource implements BaseSource {
  private top?: Promise<Top>;
  private dest?: SharedCacheDestination;
  private readonly transport: string;
  /** The registry reference's own digest, for a docker base. */
  private readonly digest?: Digest;
  private readonly label: string;

  constructor(readonly spec: string, private readonly pull: PullContext, where: string) {
    const { transport, rest } = splitImageName(spec, 'docker');
    this.transport = transport;
    this.label = spec;
    if (transport === 'docker') {
      try {
        const ref = parseReference(rest);
        this.label = formatReference(ref);
        if (ref.digest) this.digest = ref.digest as Digest;
      } catch (e) {
        throw new OciasmError('BUILDFILE_INVALID', `${where}.base: ${(e as Error).message}`, { cause: e });
      }
    }
  }

  private async manifestFromCache(cache: LayoutStore, digest: Digest, platform?: Platform): Promise<Manifest | undefined> {
    if (!(await cache.has(digest))) return undefined;
    const bytes = await cache.readBytes(digest);
    if (sha256(bytes) !== digest) return undefined;
    return { descriptor: { mediaType: sniffManifestMediaType(bytes), digest, size: bytes.length, ...(platform ? { platform } : {}) }, bytes };
  }

  private async resolveTop(): Promise<Top> {
    const source = await openSource(this.spec, this.pull.ctx);
    if (source.platformless) {
      const platformless = platformlessBase(source as ImageSource & { platformless: { baseName: string } });
      platformless.catch(() => undefined);
      return { source, manifest: await source.getManifest(), platformless };
    }
    if (!source.remote) return { source, manifest: await source.getManifest() };
    const cache = await this.pull.cache();
    const pinned = this.digest ?? this.pull.pins?.[this.spec];
    let manifest = pinned ? await this.manifestFromCache(cache, pinned) : undefined;
    if (!manifest) {
      manifest = await source.getManifest(pinned);
      if (pinned && manifest.descriptor.digest !== pinned) {
        throw new OciasmError('DIGEST_MISMATCH', `base ${this.label}: manifest ${pinned} has content ${manifest.descriptor.digest}; nothing was kept`);
      }
      const bytes = manifest.bytes;
      await cache.put((async function* () { yield bytes; })(), { digest: manifest.descriptor.digest, size: bytes.length });
    }
    if (this.transport === 'docker') this.pull.resolved?.set(this.spec, manifest.descriptor.digest);
    return { source, manifest };
  }

  /** Pulls the platform's manifest, config and layers into the cache; what it returns is read from the cache only. */
  private async pullPlatform(top: Top, platform: Platform, variantFallback: boolean): Promise<LayoutStore> {
    const cache = await this.pull.cache();
    let node = top.manifest;
    for (let depth = 0; isIndexMediaType(node.descriptor.mediaType); depth++) {
      if (depth > 8) throw new OciasmError('GRAPH_INVALID', `base ${this.label}: indexes nest too deep`);
      const index = JSON.parse(node.bytes.toString('utf8')) as ImageIndex;
      const entry: Descriptor = pickIndexEntry(index, platform, this.label, variantFallback);
      const cached = await this.manifestFromCache(cache, entry.digest, entry.platform);
      const got = cached ?? (await top.source.getManifest(entry.digest));
      if (got.descriptor.digest !== entry.digest || got.bytes.length !== entry.size) {
        throw new OciasmError('DIGEST_MISMATCH', `base ${this.label}: manifest ${entry.digest} does not match its digest or size in the index`);
      }
      node = { descriptor: { mediaType: entry.mediaType, digest: entry.digest, size: entry.size, ...(entry.platform ? { platform: entry.platform } : {}) }, bytes: got.bytes };
      if (!cached && isIndexMediaType(node.descriptor.mediaType)) {
        const bytes = node.bytes;
        await cache.put((async function* () { yield bytes; })(), { digest: entry.digest, size: bytes.length });
      }
    }
    this.dest ??= new SharedCacheDestination(cache);
    await copyImage(top.source, this.dest, { from: node, tags: [] });
    return cache;
  }

  async resolve(platform: Platform, variantFallback = false): Promise<BaseImage> {
    this.top ??= this.resolveTop();
    this.top.catch(() => undefined);
    let top: Top;
    try {
      top = await this.top;
    } catch (e) {
      if (isOciasmError(e) && e.code === 'MANIFEST_UNKNOWN') throw new OciasmError('REF_NOT_FOUND', `base ${this.spec}: ${e.message}`, { cause: e });
      throw e;
    }
    if (top.platformless) return top.platformless;
    const blobs = top.source.remote ? await this.pullPlatform(top, platform, variantFallback) : new SourceBlobStore(top.source);
    const { descriptor } = top.manifest;
    const resolved = await resolvePlatform(blobs, { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size }, platform, this.label, variantFallback);
    return {
      name: top.source.baseName ?? top.source.name,
      manifestDigest: resolved.manifestDigest,
      config: resolved.config,
      layers: resolved.manifest.layers,
      blobs,
    };
  }
}
