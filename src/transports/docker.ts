/**
 * `docker://REF` (and a bare registry reference): a repository in a registry,
 * as a source and a destination, over RegistryRepository. INTERIM: the
 * minimal transport `ociasm index` needs until transports-core's docker.ts
 * (mounts, resumable ranged reads, pinned digests) lands on main, which
 * replaces this file whole. Rules:
 * - Opening does no I/O.
 * - A blob the repository has is not sent (HEAD); otherwise it is uploaded
 *   (in chunks above the chunk size). Ranged reads re-read from the start.
 * - A manifest the repository holds already is not written again; a tag is
 *   a PUT of the manifest by tag; `lane` is the registry host, so copy()
 *   writes one registry's manifests one at a time.
 */
import type { BlobReader } from '../cas/blob-store.js';
import { formatReference, manifestReference, parseReference, type Reference } from '../codec/reference.js';
import { OciasmError } from '../errors.js';
import type { Descriptor, Digest } from '../oci/types.js';
import { header } from '../registry/client.js';
import type { RegistryRepository } from '../registry/repository.js';
import type { Transport, TransportContext } from './index.js';
import type { BlobLocation, BlobRange, DestinationCapabilities, ImageDestination, ImageSource, Manifest, Opts, PutBlobOutcome } from './types.js';

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
  constructor(readonly repo: RegistryRepository, readonly ref: Reference) {
    this.name = `docker://${formatReference(ref)}`;
  }

  async getManifest(ref?: string, opts?: Opts): Promise<Manifest> {
    const m = await this.repo.getManifest(ref ?? manifestReference(this.ref), opts?.signal ? { signal: opts.signal } : {});
    return { descriptor: m.descriptor, bytes: m.bytes };
  }

  async statBlob(digest: Digest): Promise<number | undefined> {
    const what = `blob ${digest} of ${this.repo.label}`;
    const res = await this.repo.client.request({ method: 'HEAD', path: `/v2/${this.repo.repository}/blobs/${digest}`, scopes: this.repo.pull, what });
    if (res.status !== 200 && res.status !== 404) throw await this.repo.client.unexpected(res, { method: 'HEAD', what });
    await res.body.dump();
    const length = Number(header(res, 'content-length'));
    return res.status === 200 && Number.isSafeInteger(length) ? length : undefined;
  }

  async *openBlob(desc: Descriptor, range?: BlobRange, opts?: Opts): AsyncIterable<Uint8Array> {
    const offset = range?.offset ?? 0;
    const end = Math.min(range?.end ?? desc.size, desc.size);
    let at = 0;
    for await (const chunk of this.repo.open(desc.digest, { size: desc.size, ...(opts?.signal ? { signal: opts.signal } : {}) })) {
      const from = Math.max(offset - at, 0);
      const to = Math.min(end - at, chunk.length);
      at += chunk.length;
      if (to > from) yield chunk.subarray(from, to);
      if (at >= end) return;
    }
  }

  async close(): Promise<void> {}
}

export class RegistryImageDestination implements ImageDestination {
  readonly name: string;
  readonly capabilities: DestinationCapabilities = { multiPlatform: true, referrers: false, tags: true };
  readonly lane: string;
  readonly tag?: string;

  constructor(readonly repo: RegistryRepository, readonly ref: Reference) {
    this.name = `docker://${formatReference(ref)}`;
    this.lane = `docker://${ref.registry}`;
    if (!ref.digest && ref.tag) this.tag = ref.tag;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.repo.has(desc.digest);
  }

  async putBlob(desc: Descriptor, data: BlobReader, _known: readonly BlobLocation[], opts?: Opts): Promise<PutBlobOutcome> {
    opts?.signal?.throwIfAborted();
    return this.repo.putBlob({ digest: desc.digest, size: desc.size }, data);
  }

  async putManifest(m: Manifest): Promise<void> {
    if ((await this.repo.resolveManifest(m.descriptor.digest)) === m.descriptor.digest) return;
    await this.repo.putManifest(m.descriptor.digest, m.bytes, m.descriptor.mediaType);
  }

  async putTag(tag: string, m: Manifest): Promise<void> {
    await this.repo.putManifest(tag, m.bytes, m.descriptor.mediaType);
  }

  async commit(): Promise<void> {}

  resolve(ref: string): Promise<Digest | undefined> {
    return this.repo.resolveManifest(ref);
  }

  async close(): Promise<void> {}
}

export const transport: Transport = {
  name: 'docker',
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
