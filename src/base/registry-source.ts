/**
 * `base: <registry reference>`: a base image pulled from a registry. The tag
 * (or the digest it is pinned to) is resolved once per build; every manifest
 * and blob goes through the shared blob cache, checked against its digest.
 * A digest-pinned base whose blobs are all cached needs no network at all.
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
    if (isIndexMediaType(descriptor.mediaType)) {
      for (const m of (JSON.parse(bytes.toString('utf8')) as ImageIndex).manifests) this.manifests.add(m.digest);
    }
    this.ctx.resolved?.set(this.spec, descriptor.digest);
    const fetch = (d: Digest) => (this.manifests.has(d) ? remote().openManifest(d) : remote().open(d));
    return { descriptor, store: this.ctx.makeStore(cache, fetch, `base ${this.name}`) };
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
