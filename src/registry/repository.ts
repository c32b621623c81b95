/**
 * One registry repository, seen through the same BlobStore interface as an OCI
 * layout, plus manifest and tag operations. Manifests are negotiated with
 * Accept for the OCI index and manifest and the Docker list and schema2.
 * Bounds (docs/security.md): a manifest is read into memory up to
 * `maxManifestBytes`; a blob opened with its descriptor size stops there (a
 * longer or shorter body is DIGEST_MISMATCH); `readBytes` caps at
 * `maxBlobInMemoryBytes`.
 */
import { type BlobInfo, type BlobStore, sha256 } from '../cas/blob-store.js';
import { OciasmError } from '../errors.js';
import { type Descriptor, type Digest, MediaType } from '../oci/types.js';
import { type RegistryClient, header } from './client.js';
import { type UploadOptions, uploadBlob, type BlobSource } from './upload.js';

export const MANIFEST_ACCEPT = [MediaType.ImageIndex, MediaType.ImageManifest, MediaType.DockerManifestList, MediaType.DockerManifest].join(', ');

export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

/** The mediaType of manifest JSON whose Content-Type is missing or generic. */
function sniffMediaType(bytes: Buffer): string {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    return doc.mediaType ?? (Array.isArray(doc.manifests) ? MediaType.ImageIndex : MediaType.ImageManifest);
  } catch {
    return MediaType.ImageManifest;
  }
}

export class RegistryRepository implements BlobStore {
  readonly label: string;
  readonly pull: string[];
  readonly pushPull: string[];

  constructor(readonly client: RegistryClient, readonly repository: string, private readonly upload: UploadOptions = {}) {
    this.label = `${client.registry}/${repository}`;
    this.pull = [`repository:${repository}:pull`];
    this.pushPull = [`repository:${repository}:pull,push`];
  }

  private blobPath(digest: string): string {
    return `/v2/${this.repository}/blobs/${digest}`;
  }

  async has(digest: Digest): Promise<boolean> {
    const what = `blob ${digest} of ${this.label}`;
    const res = await this.client.request({ method: 'HEAD', path: this.blobPath(digest), scopes: this.pull, what });
    if (res.status !== 200 && res.status !== 404) throw await this.client.unexpected(res, { method: 'HEAD', what });
    await res.body.dump();
    return res.status === 200;
  }

  /**
   * Streams a blob; the caller checks it against its digest (the pull cache does).
   * With `size` (the descriptor's), the body must be exactly that long and nothing past it is read.
   */
  async *open(digest: Digest, opts: { size?: number; limit?: number; signal?: AbortSignal } = {}): AsyncIterable<Buffer> {
    const what = `blob ${digest} of ${this.label}`;
    const res = await this.client.request({
      method: 'GET', path: this.blobPath(digest), scopes: this.pull, what,
      ...(opts.size !== undefined ? { size: opts.size } : {}),
      ...(opts.limit !== undefined ? { limit: { bytes: opts.limit, what: 'blob' } } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (res.status === 404) {
      await res.body.dump();
      throw new OciasmError('MANIFEST_UNKNOWN', `${this.label}: blob ${digest} is not in the repository`);
    }
    if (res.status !== 200) throw await this.client.unexpected(res, { method: 'GET', what });
    for await (const chunk of res.body) yield chunk as Buffer;
  }

  /** A blob's size from HEAD (Content-Length), or undefined when the repository does not have it. */
  async blobSize(digest: Digest): Promise<number | undefined> {
    const what = `blob ${digest} of ${this.label}`;
    const res = await this.client.request({ method: 'HEAD', path: this.blobPath(digest), scopes: this.pull, what });
    if (res.status !== 200 && res.status !== 404) throw await this.client.unexpected(res, { method: 'HEAD', what });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const n = Number(header(res, 'content-length'));
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }

  /**
   * Bytes [offset, end) of a blob of `size` bytes (its descriptor's). From
   * offset 0 the body must be exactly `size` long; a later offset is a Range
   * request, and when the registry ignores Range (200) the leading bytes are
   * skipped. Never more than end - offset bytes; the caller checks the digest.
   */
  async *openRange(digest: Digest, offset: number, end: number, size: number, opts: { signal?: AbortSignal } = {}): AsyncIterable<Buffer> {
    if (end <= offset) return;
    if (offset === 0) {
      let pos = 0;
      for await (const chunk of this.open(digest, { size, ...opts })) {
        const part = chunk.length > end - pos ? chunk.subarray(0, end - pos) : chunk;
        pos += part.length;
        if (part.length > 0) yield part;
        if (pos >= end) return;
      }
      return;
    }
    const what = `blob ${digest} of ${this.label}`;
    const res = await this.client.request({
      method: 'GET', path: this.blobPath(digest), scopes: this.pull, what, headers: { range: `bytes=${offset}-${end - 1}` },
      limit: { bytes: size, what: 'blob' }, ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (res.status === 404) {
      await res.body.dump();
      throw new OciasmError('MANIFEST_UNKNOWN', `${this.label}: blob ${digest} is not in the repository`);
    }
    if (res.status !== 200 && res.status !== 206) throw await this.client.unexpected(res, { method: 'GET', what });
    let pos = res.status === 206 ? offset : 0;
    for await (const c of res.body) {
      const chunk = c as Buffer;
      const from = Math.max(0, offset - pos);
      const to = Math.min(chunk.length, end - pos);
      if (to > from) yield chunk.subarray(from, to);
      pos += chunk.length;
      if (pos >= end) return;
    }
  }

  /** The repository's tags (GET /v2/<name>/tags/list, following Link pagination); none when the repository is unknown. */
  async listTags(opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${this.repository}/tags/list?n=1000`;
    for (let page = 0; path && page < 1000; page++) {
      const what = `tags of ${this.label}`;
      const res = await this.client.request({
        method: 'GET', path, scopes: this.pull, what, limit: { bytes: this.client.limits.maxManifestBytes, what: 'manifest' },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (res.status === 404) {
        await res.body.dump();
        return tags;
      }
      if (res.status !== 200) throw await this.client.unexpected(res, { method: 'GET', what });
      let doc: { tags?: unknown } = {};
      try {
        doc = JSON.parse(Buffer.from(await res.body.bytes()).toString('utf8')) as { tags?: unknown };
      } catch (e) {
        throw new OciasmError('REGISTRY_ERROR', `${this.label}: the tag list is not JSON`, { cause: e });
      }
      if (Array.isArray(doc.tags)) tags.push(...doc.tags.filter((t): t is string => typeof t === 'string'));
      const link = header(res, 'link');
      path = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
    }
    return tags;
  }

  /** A blob read into memory (configs): at most `maxBlobInMemoryBytes`, exactly `size` when given. */
  async readBytes(digest: Digest, size?: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const opts = { limit: this.client.limits.maxBlobInMemoryBytes, ...(size !== undefined ? { size } : {}) };
    for await (const c of this.open(digest, opts)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async put(data: AsyncIterable<Uint8Array>, expected?: Partial<BlobInfo>): Promise<BlobInfo> {
    const chunks: Buffer[] = [];
    for await (const c of data) chunks.push(Buffer.from(c));
    const bytes = Buffer.concat(chunks);
    const info = { digest: sha256(bytes), size: bytes.length };
    if ((expected?.digest && expected.digest !== info.digest) || (expected?.size !== undefined && expected.size !== info.size)) {
      throw new OciasmError('DIGEST_MISMATCH', `${this.label}: blob content is ${info.digest}, expected ${expected.digest ?? '?'}`);
    }
    await this.putBlob(info, { size: bytes.length, openAt: async function* (offset, end) { yield bytes.subarray(offset, end); } });
    return info;
  }

  async putBytes(data: Uint8Array): Promise<BlobInfo> {
    return this.put((async function* () { yield data; })());
  }

  /** Uploads a blob unless present; mounts it from `mountFrom` (same registry) when given. Returns what happened. */
  async putBlob(info: BlobInfo, source: BlobSource, mountFrom?: string): Promise<'present' | 'mounted' | 'uploaded'> {
    if (await this.has(info.digest)) return 'present';
    return uploadBlob(this, info, source, { ...this.upload, ...(mountFrom ? { mountFrom } : {}) });
  }

  /**
   * GETs a manifest by tag or digest; a digest reference is verified against the bytes.
   * At most `maxManifestBytes` are read; with `size` (a descriptor's), exactly that many.
   */
  async getManifest(reference: string, opts: { size?: number; signal?: AbortSignal } = {}): Promise<FetchedManifest> {
    const what = `manifest ${reference} of ${this.label}`;
    const res = await this.client.request({
      method: 'GET', path: `/v2/${this.repository}/manifests/${reference}`, scopes: this.pull, what, headers: { accept: MANIFEST_ACCEPT },
      limit: { bytes: this.client.limits.maxManifestBytes, what: 'manifest' },
      ...(opts.size !== undefined ? { size: opts.size } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (res.status === 404) {
      await res.body.dump();
      throw new OciasmError('MANIFEST_UNKNOWN', `${this.label}: no manifest "${reference}"`);
    }
    if (res.status !== 200) throw await this.client.unexpected(res, { method: 'GET', what });
    const bytes = await res.body.bytes();
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new OciasmError('DIGEST_MISMATCH', `${this.label}: manifest ${reference} has content ${digest}; nothing was kept`);
    }
    const contentType = header(res, 'content-type')?.split(';')[0]?.trim();
    const mediaType = contentType && contentType !== 'application/json' && contentType !== 'application/octet-stream' ? contentType : sniffMediaType(bytes);
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes };
  }

  /** A manifest's bytes by digest, as a stream (for the pull cache). */
  async *openManifest(digest: Digest, size?: number): AsyncIterable<Buffer> {
    yield (await this.getManifest(digest, size !== undefined ? { size } : {})).bytes;
  }

  /** HEADs a tag or digest: its digest, or undefined when missing. */
  async resolveManifest(reference: string): Promise<Digest | undefined> {
    const what = `manifest ${reference} of ${this.label}`;
    const res = await this.client.request({
      method: 'HEAD', path: `/v2/${this.repository}/manifests/${reference}`, scopes: this.pull, what, headers: { accept: MANIFEST_ACCEPT },
    });
    if (res.status !== 200 && res.status !== 404) throw await this.client.unexpected(res, { method: 'HEAD', what });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const d = header(res, 'docker-content-digest');
    return d ? (d as Digest) : (await this.getManifest(reference)).descriptor.digest;
  }

  /** PUTs a manifest; answers the `OCI-Subject` header, which a registry with the referrers API sends for a manifest with a subject. */
  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<{ ociSubject?: string }> {
    const what = `manifest ${reference} of ${this.label}`;
    const res = await this.client.request({
      method: 'PUT', path: `/v2/${this.repository}/manifests/${reference}`, scopes: this.pushPull, what,
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) }, body: () => bytes,
    });
    if (res.status !== 201 && res.status !== 200) throw await this.client.unexpected(res, { method: 'PUT', what });
    await res.body.dump();
    const d = header(res, 'docker-content-digest');
    if (d && d !== sha256(bytes)) {
      throw new OciasmError('PUSH_VERIFY', `${this.label}: the registry stored manifest ${reference} as ${d}, we sent ${sha256(bytes)}`);
    }
    const ociSubject = header(res, 'oci-subject');
    return ociSubject ? { ociSubject } : {};
  }
}
