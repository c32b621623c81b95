/**
 * `base: <registry reference>`: a base image pulled from a registry. The tag
 * (or the digest it is pinned to) is resolved once per build; every manifest
 * and blob goes through the shared blob cache, checked against its digest.
 * A digest-pinned base whose blobs are all cached needs no network at all.
 * Every download is bounded by the descriptor that named it: the sizes of the
 * manifests, configs and layers are learnt from the index and manifests read
 * (from the cache or the registry), and a blob is fetched with its size, so a
 * registry serving more (or less) fails without filling the disk.
 */
import { type PullThroughStore } from '../cache/blob-cache.js';
import { formatReference, manifestReference, parseReference, type Reference } from '../codec/reference.js';
import { OciasmError, isOciasmError } from '../errors.js';
import { resolvePlatform } from '../image/read.js';
import { type Descriptor, type Digest, type ImageIndex, isIndexMediaType, MediaType, type Platform } from '../oci/types.js';
import type { LayoutStore } from '../cas/layout-store.js';
import type { Registries } from '../registry/registries.js';
import type { RegistryRepository } from '../registry/repository.js';
import type { BaseImage, BaseSource } from './source.js';

export interface PullContext {
  registries: Registries;
  /** The shared blob cache, opened on first use. */
  cache: () => Promise<LayoutStore>;
  makeStore: (cache: LayoutStore, fetch: (d: Digest) => AsyncIterable<Uint8Array>, label: string) => PullThroughStore;
  /** Digests pinned by ociasm.lock, by base reference as written. */
  pins?: Record<string, Digest>;
  /** Filled with each base's resolved top-level digest, by base reference as written. */
  resolved?: Map<string, Digest>;
}

interface Top {
  descriptor: Descriptor;
  store: PullThroughStore;
}

function sniffMediaType(bytes: Buffer): string {
  const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
  return doc.mediaType ?? (Array.isArray(doc.manifests) ? MediaType.ImageIndex : MediaType.ImageManifest);
}

export class RegistrySource implements BaseSource {
  readonly ref: Reference;
  private top?: Promise<Top>;
  private readonly manifests = new Set<string>();
  /** Descriptor sizes by digest, from every index and manifest seen. */
  private readonly sizes = new Map<string, number>();
  private readonly learnt = new Set<string>();

  constructor(readonly spec: string, private readonly ctx: PullContext, where: string) {
    try {
      this.ref = parseReference(spec);
    } catch (e) {
      throw new OciasmError('BUILDFILE_INVALID', `${where}.base: ${(e as Error).message}`);
    }
  }

  /** What goes into org.opencontainers.image.base.name: the reference by tag when it has one. */
  get name(): string {
    return formatReference(this.ref.tag ? { ...this.ref, digest: undefined } as Reference : this.ref);
  }

  private repository(): RegistryRepository {
    return this.ctx.registries.repository(this.ref.registry, this.ref.repository);
  }

  private async resolveTop(): Promise<Top> {
    const cache = await this.ctx.cache();
    const pinned = (this.ref.digest ?? this.ctx.pins?.[this.spec]) as Digest | undefined;
    let repo: RegistryRepository | undefined;
    const remote = () => (repo ??= this.repository());
    let descriptor: Descriptor;
    let bytes: Buffer;
    if (pinned && (await cache.has(pinned))) {
      bytes = await cache.readBytes(pinned);
      descriptor = { mediaType: sniffMediaType(bytes), digest: pinned, size: bytes.length };
    } else {
      const fetched = await remote().getManifest(pinned ?? manifestReference(this.ref));
      bytes = fetched.bytes;
      descriptor = fetched.descriptor;
      await cache.put((async function* () { yield bytes; })(), { digest: descriptor.digest, size: bytes.length });
    }
    this.manifests.add(descriptor.digest);
    this.learn(descriptor.digest, bytes);
    this.ctx.resolved?.set(this.spec, descriptor.digest);
    const fetch = (d: Digest) => this.fetch(d, cache, remote);
    return { descriptor, store: this.ctx.makeStore(cache, fetch, `base ${this.name}`) };
  }

  /** Records the sizes an index or manifest gives its children; an index's children are manifests. */
  private learn(digest: string, bytes: Buffer): void {
    if (this.learnt.has(digest)) return;
    this.learnt.add(digest);
    let doc: { manifests?: unknown; config?: unknown; layers?: unknown };
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch {
      return; // the reader says what is wrong with it
    }
    const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
    for (const m of list(doc.manifests)) {
      const d = m as Descriptor;
      if (typeof d?.digest === 'string') this.manifests.add(d.digest);
    }
    for (const x of [...list(doc.manifests), ...list(doc.config), ...list(doc.layers)]) {
      const d = x as Descriptor;
      if (typeof d?.digest === 'string' && Number.isSafeInteger(d.size) && d.size >= 0 && !this.sizes.has(d.digest)) this.sizes.set(d.digest, d.size);
    }
  }

  /** The descriptor size of a digest, learning from the cached manifests when needed. */
  private async sizeOf(d: Digest, cache: LayoutStore): Promise<number | undefined> {
    if (!this.sizes.has(d)) {
      for (const m of [...this.manifests]) {
        if (!this.learnt.has(m) && (await cache.has(m as Digest))) this.learn(m, await cache.readBytes(m as Digest));
      }
    }
    return this.sizes.get(d);
  }

  private async *fetch(d: Digest, cache: LayoutStore, remote: () => RegistryRepository): AsyncIterable<Uint8Array> {
    const size = await this.sizeOf(d, cache);
    if (!this.manifests.has(d)) {
      yield* remote().open(d, size !== undefined ? { size } : {});
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of remote().openManifest(d, size)) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    this.learn(d, bytes);
    yield bytes;
  }

  async resolve(platform: Platform, variantFallback = false): Promise<BaseImage> {
    this.top ??= this.resolveTop();
    this.top.catch(() => undefined);
    let top: Top;
    try {
      top = await this.top;
    } catch (e) {
      if (isOciasmError(e) && e.code === 'MANIFEST_UNKNOWN') throw new OciasmError('REF_NOT_FOUND', `base ${this.spec}: ${e.message}`);
      throw e;
    }
    const resolved = await resolvePlatform(top.store, top.descriptor, platform, formatReference(this.ref), variantFallback);
    return {
      name: this.name,
      manifestDigest: resolved.manifestDigest,
      config: resolved.config,
      layers: resolved.manifest.layers,
      blobs: top.store,
    };
  }
}
