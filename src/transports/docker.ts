/**
 * `docker://REF`: a repository in a registry, as a source and a destination,
 * over RegistryRepository (the HTTP rules live in src/registry/). Rules:
 * - Opening does no I/O: a digest-pinned base whose blobs are cached builds
 *   without one request.
 * - A blob the repository has is not sent (HEAD); one the run already put in
 *   another repository of the same registry is mounted from there (never a
 *   mount without `from`, never across registries); else it is uploaded,
 *   in resumable chunks above the chunk size.
 * - A manifest the repository holds already is not written again; tags are
 *   PUTs of the manifest by tag. `lane` is the registry host, so copy() writes
 *   one registry's manifests one at a time.
 * - A reference with a digest names that manifest: as a destination it
 *   writes no tag, and copy() refuses a root with another digest.
 */
import type { BlobReader } from '../cas/blob-store.js';
import { formatReference, manifestReference, parseReference, type Reference, referenceName } from '../codec/reference.js';
import { isOciasmError, OciasmError } from '../errors.js';
import type { Descriptor, Digest } from '../oci/types.js';
import type { RegistryRepository } from '../registry/repository.js';
import type { Transport, TransportContext } from './index.js';
import type {
  BlobLocation, BlobRange, DestinationCapabilities, ImageDestination, ImageSource, Manifest, Opts, PutBlobOutcome,
} from './types.js';

export const DOCKER_TRANSPORT = 'docker';

function parse(rest: string, what: string): Reference {
  try {
    return parseReference(rest);
  } catch (e) {
    throw new OciasmError('REFERENCE_INVALID', `${what} docker://${rest}: ${(e as Error).message}`, { cause: e });
  }
}

async function repositoryFor(ref: Reference, ctx: TransportContext): Promise<RegistryRepository> {
  if (!ctx.registries) throw new OciasmError('INTERNAL', `docker://${formatReference(ref)}: no registry session was given`);
  return (await ctx.registries()).repository(ref.registry, ref.repository);
}

export class RegistryImageSource implements ImageSource {
  readonly name: string;
  /** The reference by tag when it has one (a pinned digest is recorded as base.digest). */
  readonly baseName: string;
  readonly remote = true;
  constructor(readonly repo: RegistryRepository, readonly ref: Reference) {
    this.name = `docker://${formatReference(ref)}`;
    const { digest: _pinned, ...byTag } = ref;
    this.baseName = formatReference(ref.tag ? byTag : ref);
  }

  async getManifest(ref?: string, opts?: Opts): Promise<Manifest> {
    opts?.signal?.throwIfAborted();
    const m = await this.repo.getManifest(ref ?? manifestReference(this.ref));
    return { descriptor: m.descriptor, bytes: m.bytes };
  }

  blobLocation(): BlobLocation {
    return { transport: DOCKER_TRANSPORT, location: referenceName(this.ref) };
  }

  listTags(opts?: Opts): Promise<string[]> {
    opts?.signal?.throwIfAborted();
    return this.repo.listTags();
  }

  statBlob(digest: Digest, opts?: Opts): Promise<number | undefined> {
    opts?.signal?.throwIfAborted();
    return this.repo.blobSize(digest);
  }

  async *openBlob(desc: Descriptor, range?: BlobRange, opts?: Opts): AsyncIterable<Uint8Array> {
    opts?.signal?.throwIfAborted();
    const end = Math.min(range?.end ?? desc.size, desc.size);
    yield* this.repo.openRange(desc.digest, range?.offset ?? 0, end, desc.size, opts?.signal ? { signal: opts.signal } : {});
  }

  async close(): Promise<void> {}
}

export class RegistryImageDestination implements ImageDestination {
  readonly name: string;
  readonly capabilities: DestinationCapabilities = { multiPlatform: true, referrers: false, tags: true };
  readonly lane: string;
  readonly tag?: string;
  readonly digest?: Digest;

  constructor(readonly repo: RegistryRepository, readonly ref: Reference) {
    this.name = `docker://${formatReference(ref)}`;
    this.lane = `docker://${ref.registry}`;
    if (ref.digest) this.digest = ref.digest as Digest;
    else if (ref.tag) this.tag = ref.tag;
  }

  hasBlob(desc: Descriptor, opts?: Opts): Promise<boolean> {
    opts?.signal?.throwIfAborted();
    return this.repo.has(desc.digest);
  }

  async getTag(tag: string, opts?: Opts): Promise<Manifest | undefined> {
    opts?.signal?.throwIfAborted();
    try {
      return await this.repo.getManifest(tag);
    } catch (e) {
      if (isOciasmError(e) && e.code === 'MANIFEST_UNKNOWN') return undefined;
      throw e;
    }
  }

  async putBlob(desc: Descriptor, data: BlobReader, known: readonly BlobLocation[], opts?: Opts): Promise<PutBlobOutcome> {
    opts?.signal?.throwIfAborted();
    const prefix = `${this.ref.registry}/`;
    const here = referenceName(this.ref);
    const from = known.find((l) => l.transport === DOCKER_TRANSPORT && l.location.startsWith(prefix) && l.location !== here);
    return this.repo.putBlob({ digest: desc.digest, size: desc.size }, data, from ? from.location.slice(prefix.length) : undefined);
  }

  blobLocation(): BlobLocation {
    return { transport: DOCKER_TRANSPORT, location: referenceName(this.ref) };
  }

  async putManifest(m: Manifest, opts?: Opts): Promise<void> {
    opts?.signal?.throwIfAborted();
    if ((await this.repo.resolveManifest(m.descriptor.digest)) === m.descriptor.digest) return;
    await this.repo.putManifest(m.descriptor.digest, m.bytes, m.descriptor.mediaType);
  }

  async putTag(tag: string, m: Manifest, opts?: Opts): Promise<void> {
    opts?.signal?.throwIfAborted();
    await this.repo.putManifest(tag, m.bytes, m.descriptor.mediaType);
  }

  async commit(): Promise<void> {}

  resolve(ref: string, opts?: Opts): Promise<Digest | undefined> {
    opts?.signal?.throwIfAborted();
    return this.repo.resolveManifest(ref);
  }

  async close(): Promise<void> {}
}

export const transport: Transport = {
  name: DOCKER_TRANSPORT,
  syntax: 'docker://HOST/REPO[:TAG|@DIGEST]',
  async openSource(rest, ctx) {
    const ref = parse(rest, 'source');
    return new RegistryImageSource(await repositoryFor(ref, ctx), ref);
  },
  async openDestination(rest, ctx) {
    const ref = parse(rest, 'destination');
    return new RegistryImageDestination(await repositoryFor(ref, ctx), ref);
  },
};

/** The registries a reference list pushes to (for credentials that apply to push registries only). */
export function registryOf(rest: string): string {
  return parse(rest, 'image').registry;
}
