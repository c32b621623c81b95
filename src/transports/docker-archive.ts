/**
 * `docker-archive:FILE[:REF]`: the `docker save` / `docker load` format
 * (manifest.json listing Config, RepoTags and Layers; the config as
 * `<hex>.json`; layers as tar files; the legacy `<id>/{layer.tar,VERSION,json}`
 * folders and `repositories` for old loaders), as a source and a destination.
 * Rules:
 * - Destination: one platform per image (capabilities.multiPlatform false).
 *   Layers are stored uncompressed, as `docker save` and skopeo store them
 *   (`<diffID hex>.tar`), so every loader takes them whatever the source's
 *   compression (Docker 20.10 loads zstd images this way too). Each layer is
 *   checked twice while it streams: its bytes against the manifest's digest,
 *   its uncompressed bytes against the config's diff_id. REF becomes the
 *   image's RepoTags entry (the full name, as skopeo writes it; see repoTag).
 *   commit() writes the archive deterministically (./tar-write.ts) and
 *   renames it over FILE; close() removes the temp folder.
 * - Source: the image REF names in RepoTags, `@N` (the N-th image, from 0),
 *   or the only image. The manifest is synthesized as an OCI image manifest:
 *   uncompressed layers are `application/vnd.oci.image.layer.v1.tar` with
 *   their diff_id as digest; gzip or zstd layers (crane's archives) are served
 *   as stored, with the digest of their bytes. The same archive always gives
 *   the same manifest bytes (so the same digest).
 */
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HashingTap, sha256 } from '../cas/blob-store.js';
import { bounded, type Compression, decompress, sniffCompression } from '../codec/decompress.js';
import { parsePlatform } from '../codec/platform.js';
import { parseReference } from '../codec/reference.js';
import { ioError, isOciasmError, OciasmError } from '../errors.js';
import { type Descriptor, type Digest, type ImageConfig, type ImageManifest, isIndexMediaType, MediaType, type Platform } from '../oci/types.js';
import type { DestinationOptions, Transport, TransportContext } from './index.js';
import { type ArchiveEntry, TarFile } from './tar-file.js';
import { type ArchiveMember, parseArchiveArg, writeArchiveFile } from './tar-write.js';
import type { BlobLocation, BlobRange, BlobReader, DestinationCapabilities, ImageDestination, ImageSource, Manifest, Opts, PutBlobOutcome } from './types.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** One entry of manifest.json. */
export interface DockerArchiveItem {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/**
 * A RepoTags entry as skopeo writes it: the full name with its registry
 * (`docker.io/library/busybox:1.36`, `localhost:5000/x:1`; `:latest` added).
 * Docker normalizes it to its short form on load; podman keeps it as is
 * (a short name would become `localhost/NAME` there). Digest references are
 * refused: the format holds tags only.
 */
export function repoTag(text: string, what: string): string {
  let ref;
  try {
    ref = parseReference(text);
  } catch (e) {
    throw new OciasmError('REFERENCE_INVALID', `${what}: "${text}" is not an image name with a tag (NAME[:TAG])`, { cause: e });
  }
  if (ref.digest) throw new OciasmError('REFERENCE_INVALID', `${what}: "${text}" holds a digest; ${what.split(':')[0]} names an image by NAME:TAG only`);
  return `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`;
}

/** The compression a layer's media type names. */
function layerCompression(mediaType: string): Compression | undefined {
  if (!/\.layer\.|rootfs\.diff/.test(mediaType)) return undefined;
  if (/[+.]gzip$/.test(mediaType)) return 'gzip';
  if (/[+.]zstd$/.test(mediaType)) return 'zstd';
  if (/\.tar$/.test(mediaType)) return 'none';
  throw new OciasmError('LAYER_INVALID', `layer media type ${mediaType} is not a tar, tar+gzip or tar+zstd layer`);
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw new OciasmError('ARCHIVE_INVALID', `${what} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

// ---------------------------------------------------------------- source

interface SourceImage {
  item: DockerArchiveItem;
  manifest: Manifest;
  config: { digest: Digest; bytes: Buffer };
  layers: Map<Digest, { entry: ArchiveEntry; size: number }>;
}

export class DockerArchiveSource implements ImageSource {
  readonly name: string;
  /** What a build on it records as its base name: the tag it was opened with, else the only image's first tag, else the file's name. */
  readonly baseName: string;
  /** Its blobs are on this machine: a base reads them in place. */
  readonly local = true;
  private readonly images = new Map<number, Promise<SourceImage>>();

  private constructor(private readonly tar: TarFile, readonly items: readonly DockerArchiveItem[], private readonly ref: string | undefined, name?: string, baseName?: string) {
    this.name = name ?? `docker-archive:${tar.file}${ref !== undefined ? `:${ref}` : ''}`;
    const only = items.length === 1 ? items[0]!.RepoTags?.[0] : undefined;
    this.baseName = baseName ?? (ref !== undefined && !ref.startsWith('@') ? repoTag(ref, this.name) : only ?? path.basename(tar.file));
  }

  static async open(file: string, ref: string | undefined, ctx: TransportContext, opts: Opts & { name?: string; baseName?: string } = {}): Promise<DockerArchiveSource> {
    const tar = await TarFile.open(file, { ...(ctx.tmpDir ? { tmpDir: ctx.tmpDir } : {}), ...opts });
    try {
      const entry = tar.find('manifest.json');
      if (!entry) {
        const hint = tar.find('oci-layout') ? ' (it is an OCI archive: oci-archive:)' : '';
        throw new OciasmError('ARCHIVE_INVALID', `${file} is not a docker save archive: no manifest.json in it${hint}`);
      }
      const items = parseJson<DockerArchiveItem[]>(await tar.readBytes(entry, opts), `${file}: manifest.json`);
      if (!Array.isArray(items) || items.some((i) => typeof i?.Config !== 'string' || !Array.isArray(i.Layers) || i.Layers.some((l) => typeof l !== 'string'))) {
        throw new OciasmError('ARCHIVE_INVALID', `${file}: manifest.json is not a list of {Config, RepoTags, Layers}`);
      }
      return new DockerArchiveSource(tar, items, ref, opts.name, opts.baseName);
    } catch (e) {
      await tar.close();
      throw e;
    }
  }

  private pick(ref: string | undefined): number {
    const tags = (i: DockerArchiveItem) => (i.RepoTags ?? []).map((t) => { try { return repoTag(t, this.name); } catch { return t; } });
    if (ref === undefined) {
      if (this.items.length === 1) return 0;
      throw new OciasmError('REF_NOT_FOUND', `${this.name}: the archive holds ${this.items.length} images; name one as docker-archive:FILE:NAME:TAG or :@N (it has: ${this.items.flatMap(tags).join(', ') || 'no tags'})`);
    }
    if (/^@\d+$/.test(ref)) {
      const n = Number(ref.slice(1));
      if (n < this.items.length) return n;
      throw new OciasmError('REF_NOT_FOUND', `${this.name}: no image ${ref}; the archive holds ${this.items.length}`);
    }
    const want = repoTag(ref, this.name);
    const hits = this.items.map((it, n) => (tags(it).includes(want) ? n : -1)).filter((n) => n >= 0);
    if (hits.length === 1) return hits[0]!;
    throw new OciasmError('REF_NOT_FOUND', `${this.name}: ${hits.length > 1 ? `"${ref}" names ${hits.length} images` : `no image tagged "${ref}"`}; it has: ${this.items.flatMap(tags).join(', ') || 'no tags'}`);
  }

  private image(n: number, opts?: Opts): Promise<SourceImage> {
    let p = this.images.get(n);
    if (!p) {
      p = this.load(n, opts);
      this.images.set(n, p);
      p.catch(() => this.images.delete(n));
    }
    return p;
  }

  private async load(n: number, opts?: Opts): Promise<SourceImage> {
    const item = this.items[n]!;
    const configBytes = await this.tar.readBytes(this.tar.get(item.Config, 'image config'), opts);
    const config = parseJson<ImageConfig>(configBytes, `${this.name}: ${item.Config}`);
    const diffIds = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.length !== item.Layers.length) {
      throw new OciasmError('ARCHIVE_INVALID', `${this.name}: ${item.Config} lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff_ids for ${item.Layers.length} layers`);
    }
    const layers = new Map<Digest, { entry: ArchiveEntry; size: number }>();
    const descs: Descriptor[] = [];
    for (const [i, layerPath] of item.Layers.entries()) {
      const entry = this.tar.get(layerPath, 'layer');
      let head = Buffer.alloc(0);
      for await (const c of this.tar.openRange(entry, 0, 6, opts)) head = Buffer.concat([head, c]);
      const compression = sniffCompression(head) ?? 'none'; // a plain tar shows its ustar magic only at byte 257
      let desc: Descriptor;
      if (compression === 'none') {
        if (!DIGEST.test(diffIds[i]!)) throw new OciasmError('ARCHIVE_INVALID', `${this.name}: diff_id "${diffIds[i]}" is not a sha256 digest`);
        desc = { mediaType: MediaType.Layer, digest: diffIds[i]!, size: entry.size };
      } else if (compression === 'gzip' || compression === 'zstd') {
        const tap = new HashingTap();
        for await (const _ of tap.tap(this.tar.openRange(entry, 0, entry.size, opts)));
        desc = { mediaType: compression === 'gzip' ? MediaType.LayerGzip : MediaType.LayerZstd, digest: tap.digest(), size: entry.size };
      } else {
        throw new OciasmError('ARCHIVE_INVALID', `${this.name}: layer ${layerPath} is ${compression}-compressed; supported: plain tar, gzip, zstd`);
      }
      layers.set(desc.digest, { entry, size: entry.size });
      descs.push(desc);
    }
    const configDigest = sha256(configBytes);
    const man: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.ImageConfig, digest: configDigest, size: configBytes.length },
      layers: descs,
    };
    const bytes = Buffer.from(JSON.stringify(man));
    const platform = { architecture: config.architecture, os: config.os, ...(config.variant ? { variant: config.variant } : {}) };
    return {
      item,
      manifest: { descriptor: { mediaType: MediaType.ImageManifest, digest: sha256(bytes), size: bytes.length, ...(config.architecture && config.os ? { platform } : {}) }, bytes },
      config: { digest: configDigest, bytes: configBytes },
      layers,
    };
  }

  async getManifest(ref?: string, opts?: Opts): Promise<Manifest> {
    if (ref !== undefined && DIGEST.test(ref)) {
      for (let n = 0; n < this.items.length; n++) {
        const img = await this.image(n, opts);
        if (img.manifest.descriptor.digest === ref) return img.manifest;
      }
      throw new OciasmError('REF_NOT_FOUND', `${this.name}: no image with manifest ${ref} (docker archives hold no manifests; theirs are synthesized)`);
    }
    return (await this.image(this.pick(ref ?? this.ref), opts)).manifest;
  }

  async listTags(): Promise<string[]> {
    return this.items.flatMap((i) => i.RepoTags ?? []);
  }

  private async findBlob(digest: Digest): Promise<{ bytes?: Buffer; entry?: ArchiveEntry } | undefined> {
    for (const p of this.images.values()) {
      const img = await p;
      if (img.config.digest === digest) return { bytes: img.config.bytes };
      const l = img.layers.get(digest);
      if (l) return { entry: l.entry };
    }
    return undefined;
  }

  async statBlob(digest: Digest): Promise<number | undefined> {
    const b = await this.findBlob(digest);
    return b?.bytes?.length ?? b?.entry?.size;
  }

  async *openBlob(desc: Descriptor, range?: BlobRange, opts?: Opts): AsyncIterable<Uint8Array> {
    const b = await this.findBlob(desc.digest);
    if (!b) throw new OciasmError('ARCHIVE_INVALID', `${this.name}: blob ${desc.digest} is not part of an image read from the archive`);
    const start = range?.offset ?? 0;
    const end = Math.min(range?.end ?? desc.size, desc.size);
    if (b.bytes) yield b.bytes.subarray(start, end);
    else yield* this.tar.openRange(b.entry!, start, end, opts);
  }

  async close(): Promise<void> {
    await this.tar.close();
  }
}

// ----------------------------------------------------------- destination

interface StoredLayer {
  diffId: Digest;
  size: number;
  file: string;
}

interface DestImage {
  manifest: Digest;
  config: Digest;
  configBytes: Buffer;
  diffIds: Digest[];
  tags: string[];
}

/** Builds a docker save archive in a temp folder; what is done with the bytes at commit is the subclass's. */
export class DockerArchiveWriter {
  private readonly layers = new Map<Digest, StoredLayer>();
  private readonly blobs = new Map<Digest, string>();
  readonly images: DestImage[] = [];
  private closed = false;

  constructor(readonly name: string, private readonly tempDir: string) {}

  static async tempFolder(near: string, ctx: TransportContext, what: string): Promise<string> {
    try {
      return await mkdtemp(path.join(ctx.tmpDir ?? path.dirname(near), `.${path.basename(near)}.ociasm-`));
    } catch (e) {
      throw ioError(`cannot create a temp folder for ${what}`, near, e);
    }
  }

  has(digest: Digest): boolean {
    return this.layers.has(digest) || this.blobs.has(digest);
  }

  async putBlob(desc: Descriptor, data: BlobReader, opts: Opts = {}): Promise<PutBlobOutcome> {
    if (this.has(desc.digest)) return 'present';
    if (!DIGEST.test(desc.digest)) throw new OciasmError('DIGEST_MISMATCH', `${this.name}: unsupported digest ${desc.digest}`);
    const compression = layerCompression(desc.mediaType);
    const what = `${this.name}: blob ${desc.digest}`;
    const tmp = path.join(this.tempDir, `incoming-${desc.digest.slice(7)}`);
    const packed = new HashingTap();
    const plain = new HashingTap();
    try {
      const raw = packed.tap(data.openAt(0, desc.size));
      const body = compression === undefined ? raw : plain.tap(compression === 'none' ? raw : bounded(decompress(compression, raw, what), desc.size, {}, what));
      await pipeline(body, createWriteStream(tmp, { flags: 'wx' }), ...(opts.signal ? [{ signal: opts.signal }] : []));
      if (packed.digest() !== desc.digest || packed.size !== desc.size) {
        throw new OciasmError('DIGEST_MISMATCH', `${what}: the source sent ${packed.size} bytes with digest ${packed.digest()}`);
      }
      if (compression === undefined) {
        const file = path.join(this.tempDir, `${desc.digest.slice(7)}.blob`);
        await rename(tmp, file);
        this.blobs.set(desc.digest, file);
      } else {
        const diffId = plain.digest();
        const file = path.join(this.tempDir, `${diffId.slice(7)}.tar`);
        await rename(tmp, file);
        this.layers.set(desc.digest, { diffId, size: plain.size, file });
      }
    } catch (e) {
      await rm(tmp, { force: true });
      if (isOciasmError(e) || (e as Error).name === 'AbortError') throw e;
      throw ioError('cannot store a blob for', this.name, e);
    }
    return 'uploaded';
  }

  async putManifest(m: Manifest): Promise<void> {
    if (this.images.some((i) => i.manifest === m.descriptor.digest)) return;
    if (isIndexMediaType(m.descriptor.mediaType)) {
      throw new OciasmError('PLATFORM_INVALID', `${this.name} holds one platform per image, not an index (${m.descriptor.digest}); name the platform`);
    }
    const man = parseJson<ImageManifest>(m.bytes, `${this.name}: manifest ${m.descriptor.digest}`);
    const configFile = this.blobs.get(man.config?.digest);
    if (!configFile) throw new OciasmError('INTERNAL', `${this.name}: config ${man.config?.digest} of ${m.descriptor.digest} was not stored first`);
    const configBytes = await readFile(configFile);
    const config = parseJson<ImageConfig>(configBytes, `${this.name}: config ${man.config.digest}`);
    if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) {
      throw new OciasmError('LAYER_INVALID', `${this.name}: ${man.config.digest} (config of ${m.descriptor.digest}) is not an image config (no rootfs.diff_ids); docker archives hold images only`);
    }
    const diffIds = man.layers.map((l) => {
      const stored = this.layers.get(l.digest);
      if (!stored) throw new OciasmError('INTERNAL', `${this.name}: layer ${l.digest} of ${m.descriptor.digest} was not stored first`);
      return stored.diffId;
    });
    if (diffIds.length !== config.rootfs.diff_ids.length || diffIds.some((d, i) => d !== config.rootfs.diff_ids[i])) {
      throw new OciasmError('DIGEST_MISMATCH', `${this.name}: the layers of ${m.descriptor.digest} uncompress to ${diffIds.join(', ')}, but its config lists diff_ids ${config.rootfs.diff_ids.join(', ')}`);
    }
    this.images.push({ manifest: m.descriptor.digest, config: man.config.digest, configBytes, diffIds, tags: [] });
  }

  putTag(tag: string, m: Manifest): void {
    const img = this.images.find((i) => i.manifest === m.descriptor.digest);
    if (!img) throw new OciasmError('INTERNAL', `${this.name}: tag ${tag} for ${m.descriptor.digest}, which was not stored`);
    const t = repoTag(tag, this.name);
    for (const other of this.images) other.tags = other.tags.filter((x) => x !== t);
    img.tags.push(t);
  }

  /** The archive's members: layers, configs, legacy folders, manifest.json and repositories. */
  members(): ArchiveMember[] {
    const out = new Map<string, ArchiveMember>();
    const byDiffId = new Map<Digest, StoredLayer>();
    for (const l of this.layers.values()) byDiffId.set(l.diffId, l);
    const repositories: Record<string, Record<string, string>> = {};
    const manifest: DockerArchiveItem[] = [];
    for (const img of this.images) {
      const layerPaths = img.diffIds.map((d) => {
        const l = byDiffId.get(d)!;
        const p = `${d.slice(7)}.tar`;
        out.set(p, { path: p, type: 'file', file: l.file, size: l.size });
        return p;
      });
      const configPath = `${img.config.slice(7)}.json`;
      out.set(configPath, { path: configPath, type: 'file', bytes: img.configBytes });
      // Legacy layer folders: an id per layer from its parent's id and the chain of diff_ids, the top one from the config too.
      const config = JSON.parse(img.configBytes.toString('utf8')) as Record<string, unknown>;
      let parent = '';
      let chain = '';
      img.diffIds.forEach((d, i) => {
        chain = chain === '' ? d : sha256(Buffer.from(`${chain} ${d}`));
        const top = i === img.diffIds.length - 1;
        const id = sha256(Buffer.from(`${parent}\n${chain}\n${top ? img.config : ''}`)).slice(7);
        const json: Record<string, unknown> = { id, ...(parent ? { parent } : {}) };
        if (top) for (const k of ['architecture', 'config', 'container', 'container_config', 'created', 'docker_version', 'os']) if (config[k] !== undefined) json[k] = config[k];
        out.set(id, { path: id, type: 'directory' });
        out.set(`${id}/VERSION`, { path: `${id}/VERSION`, type: 'file', bytes: Buffer.from('1.0') });
        out.set(`${id}/json`, { path: `${id}/json`, type: 'file', bytes: Buffer.from(JSON.stringify(json)) });
        out.set(`${id}/layer.tar`, { path: `${id}/layer.tar`, type: 'symlink', target: `../${d.slice(7)}.tar` });
        parent = id;
      });
      for (const t of img.tags) {
        const colon = t.lastIndexOf(':');
        (repositories[t.slice(0, colon)] ??= {})[t.slice(colon + 1)] = parent;
      }
      manifest.push({ Config: configPath, RepoTags: img.tags, Layers: layerPaths });
    }
    out.set('manifest.json', { path: 'manifest.json', type: 'file', bytes: Buffer.from(JSON.stringify(manifest)) });
    if (Object.keys(repositories).length > 0) out.set('repositories', { path: 'repositories', type: 'file', bytes: Buffer.from(JSON.stringify(repositories)) });
    return [...out.values()];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await rm(this.tempDir, { recursive: true, force: true });
  }
}

/**
 * A single-platform destination that collects a docker archive in a temp
 * folder (blobs, manifests and tags through DockerArchiveWriter); subclasses
 * say where the archive goes at commit (a file, a daemon's load).
 */
export abstract class ArchiveWriterDestination implements ImageDestination {
  abstract readonly name: string;
  readonly capabilities: DestinationCapabilities = { multiPlatform: false, referrers: false, tags: true };
  protected abstract readonly writer: DockerArchiveWriter;

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.writer.has(desc.digest);
  }

  putBlob(desc: Descriptor, data: BlobReader, _known: readonly BlobLocation[], opts?: Opts): Promise<PutBlobOutcome> {
    return this.writer.putBlob(desc, data, opts);
  }

  putManifest(m: Manifest): Promise<void> {
    return this.writer.putManifest(m);
  }

  async putTag(tag: string, m: Manifest): Promise<void> {
    this.writer.putTag(tag, m);
  }

  abstract commit(opts?: Opts): Promise<void>;
  abstract close(): Promise<void>;
}

export class DockerArchiveDestination extends ArchiveWriterDestination {
  readonly name: string;
  protected readonly writer: DockerArchiveWriter;
  private committed = false;

  private constructor(private readonly file: string, tempDir: string, readonly tag?: string, readonly platform?: Platform) {
    super();
    this.name = `docker-archive:${file}${tag !== undefined ? `:${tag}` : ''}`;
    this.writer = new DockerArchiveWriter(this.name, tempDir);
  }

  static async open(file: string, tag: string | undefined, ctx: TransportContext, opts: DestinationOptions = {}): Promise<DockerArchiveDestination> {
    const platform = opts.platform !== undefined ? parsePlatform(opts.platform) : undefined;
    if (tag !== undefined) repoTag(tag, `docker-archive:${file}:${tag}`);
    const st = await stat(file).catch(() => undefined);
    if (st?.isDirectory()) throw new OciasmError('REFERENCE_INVALID', `docker-archive:${file}: ${file} is a directory; a docker archive is a file`);
    return new DockerArchiveDestination(file, await DockerArchiveWriter.tempFolder(file, ctx, 'docker-archive'), tag, platform);
  }

  async commit(opts?: Opts): Promise<void> {
    await writeArchiveFile(this.file, this.writer.members(), opts);
    this.committed = true;
    await this.writer.close();
  }

  /** Read-back: a tag (or manifest digest) resolves when the written archive lists it with the config that manifest names. */
  async resolve(ref: string, opts?: Opts): Promise<Digest | undefined> {
    if (!this.committed) return undefined;
    const byDigest = DIGEST.test(ref);
    const img = byDigest ? this.writer.images.find((i) => i.manifest === ref) : this.writer.images.find((i) => i.tags.includes(repoTag(ref, this.name)));
    if (!img) return undefined;
    const src = await DockerArchiveSource.open(this.file, byDigest ? undefined : ref, { cwd: '/', env: {} }, opts);
    try {
      const n = byDigest ? src.items.findIndex((i) => i.Config === `${img.config.slice(7)}.json`) : undefined;
      if (n === -1) return undefined;
      const m = await src.getManifest(n === undefined ? undefined : `@${n}`, opts);
      return (JSON.parse(m.bytes.toString('utf8')) as ImageManifest).config.digest === img.config ? img.manifest : undefined;
    } finally {
      await src.close();
    }
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}

export const transport: Transport = {
  name: 'docker-archive',
  syntax: 'docker-archive:FILE[:NAME:TAG]',
  async openSource(rest, ctx, opts) {
    const { file, ref } = parseArchiveArg('docker-archive', rest, ctx.cwd);
    return DockerArchiveSource.open(file, ref, ctx, opts);
  },
  async openDestination(rest, ctx, opts?: DestinationOptions) {
    const { file, ref } = parseArchiveArg('docker-archive', rest, ctx.cwd);
    return DockerArchiveDestination.open(file, ref, ctx, opts);
  },
};
