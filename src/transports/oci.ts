/**
 * `oci:DIR[:REF]`: an OCI image layout directory, as a source and a
 * destination. Rules:
 * - Relative DIRs are resolved against the context's cwd.
 * - Every manifest read is checked against its digest, and every blob read
 *   stops at its descriptor's size.
 * - As a destination, blobs and manifests land in blobs/ (content-addressed,
 *   each checked before it is renamed into place) as they come; the refs are
 *   written into index.json at commit() only, in one atomic replace.
 */
import path from 'node:path';
import { type BlobReader, sha256 } from '../cas/blob-store.js';
import type { LockOptions } from '../cas/layout-lock.js';
import { LayoutStore } from '../cas/layout-store.js';
import { OciasmError } from '../errors.js';
import { MAX_JSON_BLOB_BYTES } from '../image/read.js';
import { Annotation, type Descriptor, type Digest, sniffManifestMediaType } from '../oci/types.js';
import type { DestinationOptions, Transport, TransportContext } from './index.js';
import { findRef, parseLayoutArg, writeRefs } from './layout-ref.js';
import type { BlobLocation, BlobRange, DestinationCapabilities, ImageDestination, ImageSource, Manifest, Opts, PutBlobOutcome } from './types.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function layoutDir(rest: string, ctx: TransportContext, what: string): { dir: string; ref?: string } {
  const { dir, ref } = parseLayoutArg(rest);
  if (dir === '') throw new OciasmError('REFERENCE_INVALID', `${what} "oci:${rest}" names no layout directory (oci:DIR[:REF])`);
  return { dir: path.resolve(ctx.cwd, dir), ...(ref !== undefined && ref !== '' ? { ref } : {}) };
}

/** Reads a manifest blob and checks it against the digest that names it. */
export async function readManifestBlob(store: LayoutStore, desc: Pick<Descriptor, 'digest' | 'mediaType'> & { size?: number }, label: string): Promise<Manifest> {
  // Read into memory only what a manifest may be (image/read.ts): a huge file behind a manifest digest is refused unread.
  const have = await store.size(desc.digest);
  if (have !== undefined && have > MAX_JSON_BLOB_BYTES) {
    throw new OciasmError('LIMIT_EXCEEDED', `${label}: manifest ${desc.digest} has ${have} bytes, more than the ${MAX_JSON_BLOB_BYTES} a manifest may have`);
  }
  const bytes = await store.readBytes(desc.digest);
  if (sha256(bytes) !== desc.digest || (desc.size !== undefined && desc.size !== bytes.length)) {
    throw new OciasmError('DIGEST_MISMATCH', `${label}: manifest ${desc.digest} does not match its digest or size in the layout`);
  }
  return { descriptor: { mediaType: desc.mediaType || sniffManifestMediaType(bytes), digest: desc.digest, size: bytes.length }, bytes };
}

/** Caps a stream at `limit` bytes. */
export async function* capped(stream: AsyncIterable<Uint8Array>, limit: number): AsyncIterable<Uint8Array> {
  let left = limit;
  for await (const chunk of stream) {
    if (left <= 0) return;
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= part.length;
    yield part;
  }
}

export class LayoutImageSource implements ImageSource {
  readonly name: string;
  readonly baseName: string;
  constructor(readonly store: LayoutStore, private readonly ref?: string) {
    this.name = `oci:${store.dir}${ref !== undefined ? `:${ref}` : ''}`;
    this.baseName = ref ?? path.basename(store.dir);
  }

  async getManifest(ref?: string): Promise<Manifest> {
    if (ref !== undefined && DIGEST.test(ref)) {
      const top = (await this.store.readIndex()).manifests.find((d) => d.digest === ref);
      const bytes = top ? undefined : await this.store.readBytes(ref as Digest);
      return readManifestBlob(this.store, top ?? { digest: ref as Digest, mediaType: sniffManifestMediaType(bytes!) }, this.name);
    }
    const top = await findRef(this.store, ref ?? this.ref, this.name);
    const { annotations: _refName, ...descriptor } = top;
    const m = await readManifestBlob(this.store, descriptor, this.name);
    return { ...m, descriptor: { ...m.descriptor, ...(descriptor.platform ? { platform: descriptor.platform } : {}) } };
  }

  async listTags(): Promise<string[]> {
    return (await this.store.readIndex()).manifests.map((d) => d.annotations?.[Annotation.RefName]).filter((n): n is string => !!n);
  }

  async statBlob(digest: Digest): Promise<number | undefined> {
    return this.store.size(digest);
  }

  openBlob(desc: Descriptor, range?: BlobRange): AsyncIterable<Uint8Array> {
    const end = Math.min(range?.end ?? desc.size, desc.size);
    return this.store.openAt(desc.digest, range?.offset ?? 0, end);
  }

  /** Regular file, size, sha256: a symlink to a host file or a damaged blob never leaves the layout. */
  verifyBlob(desc: Descriptor): Promise<void> {
    return this.store.verify(desc);
  }

  async close(): Promise<void> {}
}

export class LayoutImageDestination implements ImageDestination {
  readonly name: string;
  readonly capabilities: DestinationCapabilities = { multiPlatform: true, referrers: true, tags: true };
  private readonly refs = new Map<string, Descriptor>();

  constructor(readonly store: LayoutStore, readonly tag?: string, private readonly lock: LockOptions = {}) {
    this.name = `oci:${store.dir}${tag !== undefined ? `:${tag}` : ''}`;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.store.has(desc.digest);
  }

  async putBlob(desc: Descriptor, data: BlobReader, _known: readonly BlobLocation[], opts?: Opts): Promise<PutBlobOutcome> {
    if ((await this.store.size(desc.digest)) === desc.size) return 'present';
    opts?.signal?.throwIfAborted();
    await this.store.put(data.openAt(0, desc.size), { digest: desc.digest, size: desc.size });
    return 'uploaded';
  }

  async putManifest(m: Manifest): Promise<void> {
    if ((await this.store.size(m.descriptor.digest)) === m.bytes.length) return;
    await this.store.put((async function* () { yield m.bytes; })(), { digest: m.descriptor.digest, size: m.bytes.length });
  }

  async putTag(tag: string, m: Manifest): Promise<void> {
    this.refs.set(tag, m.descriptor);
  }

  async commit(): Promise<void> {
    if (this.refs.size === 0) return;
    await writeRefs(this.store, [...this.refs].map(([refName, descriptor]) => ({ refName, descriptor })), this.lock);
  }

  async resolve(ref: string): Promise<Digest | undefined> {
    if (DIGEST.test(ref)) return (await this.store.has(ref as Digest)) ? (ref as Digest) : undefined;
    const hit = (await this.store.readIndex()).manifests.find((d) => d.annotations?.[Annotation.RefName] === ref);
    return hit?.digest;
  }

  async close(): Promise<void> {}
}

export const transport: Transport = {
  name: 'oci',
  syntax: 'oci:DIR[:REF]',
  async openSource(rest, ctx) {
    const { dir, ref } = layoutDir(rest, ctx, 'source');
    return new LayoutImageSource(await LayoutStore.open(dir, false), ref);
  },
  async openDestination(rest, ctx, _opts?: DestinationOptions) {
    const { dir, ref } = layoutDir(rest, ctx, 'destination');
    return new LayoutImageDestination(await LayoutStore.open(dir, true), ref);
  },
};
