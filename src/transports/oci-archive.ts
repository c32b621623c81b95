/**
 * `oci-archive:FILE[:REF]`: a tar of an OCI image layout (skopeo's
 * oci-archive), as a source and a destination. Rules:
 * - As a source the tar is indexed in one streaming pass and blobs are read
 *   by range from the file (./tar-file.ts); nothing is extracted. REF is an
 *   index.json ref name, as for oci:, or absent when the layout holds one image.
 * - As a destination a layout is written into a temp folder (the context's
 *   tmpDir, else beside FILE); commit() tars it deterministically
 *   (./tar-write.ts) and renames it over FILE, so FILE holds only this copy's
 *   image, as skopeo's oci-archive does. close() removes the temp folder;
 *   without a commit FILE is untouched.
 * - Without REF the copied root is listed in index.json without a ref name.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../cas/blob-store.js';
import { LayoutStore } from '../cas/layout-store.js';
import { ioError, OciasmError } from '../errors.js';
import { Annotation, type Descriptor, type Digest, type ImageIndex, MediaType, sniffManifestMediaType } from '../oci/types.js';
import type { DestinationOptions, Transport, TransportContext } from './index.js';
import { findRef } from './layout-ref.js';
import { LayoutImageDestination } from './oci.js';
import { type ArchiveEntry, TarFile } from './tar-file.js';
import { type ArchiveMember, parseArchiveArg, writeArchiveFile } from './tar-write.js';
import type { BlobLocation, BlobRange, BlobReader, DestinationCapabilities, ImageDestination, ImageSource, Manifest, Opts, PutBlobOutcome } from './types.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function blobName(digest: Digest): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

export class OciArchiveSource implements ImageSource {
  readonly name: string;
  /** What a build on it records as its base name: the ref, else the file's name (as for oci:). */
  readonly baseName: string;
  /** Its blobs are on this machine: a base reads them in place. */
  readonly local = true;
  private constructor(private readonly tar: TarFile, private readonly index: ImageIndex, private readonly ref?: string) {
    this.name = `oci-archive:${tar.file}${ref !== undefined ? `:${ref}` : ''}`;
    this.baseName = ref ?? path.basename(tar.file);
  }

  static async open(file: string, ref: string | undefined, ctx: TransportContext, opts: Opts = {}): Promise<OciArchiveSource> {
    const tar = await TarFile.open(file, { ...(ctx.tmpDir ? { tmpDir: ctx.tmpDir } : {}), ...opts });
    try {
      const layout = tar.find('oci-layout');
      if (!layout) throw new OciasmError('ARCHIVE_INVALID', `${file} is not an OCI archive (no oci-layout in it; a docker save archive is docker-archive:)`);
      let index: ImageIndex;
      try {
        if (JSON.parse((await tar.readBytes(layout, opts)).toString('utf8')).imageLayoutVersion !== '1.0.0') throw new Error('imageLayoutVersion is not 1.0.0');
        index = JSON.parse((await tar.readBytes(tar.get('index.json', 'the layout index'), opts)).toString('utf8')) as ImageIndex;
      } catch (e) {
        if (e instanceof OciasmError) throw e;
        throw new OciasmError('ARCHIVE_INVALID', `${file}: ${(e as Error).message}`, { cause: e });
      }
      if (index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
        throw new OciasmError('ARCHIVE_INVALID', `${file}: index.json is not an image index (schemaVersion 2 with manifests)`);
      }
      return new OciArchiveSource(tar, index, ref);
    } catch (e) {
      await tar.close();
      throw e;
    }
  }

  private blob(digest: string): ArchiveEntry | undefined {
    if (!DIGEST.test(digest)) throw new OciasmError('ARCHIVE_INVALID', `${this.name}: unsupported or malformed digest "${digest}"`);
    return this.tar.find(blobName(digest as Digest));
  }

  private async readManifest(desc: Pick<Descriptor, 'digest'> & Partial<Descriptor>, opts?: Opts): Promise<Manifest> {
    const entry = this.blob(desc.digest);
    if (!entry) throw new OciasmError('REF_NOT_FOUND', `${this.name}: no manifest ${desc.digest} in the archive`);
    const bytes = await this.tar.readBytes(entry, opts);
    if (sha256(bytes) !== desc.digest || (desc.size !== undefined && desc.size !== bytes.length)) {
      throw new OciasmError('DIGEST_MISMATCH', `${this.name}: manifest ${desc.digest} does not match its digest or size in the archive`);
    }
    const descriptor: Descriptor = { mediaType: desc.mediaType || sniffManifestMediaType(bytes), digest: desc.digest, size: bytes.length };
    if (desc.platform) descriptor.platform = desc.platform;
    return { descriptor, bytes };
  }

  async getManifest(ref?: string, opts?: Opts): Promise<Manifest> {
    if (ref !== undefined && DIGEST.test(ref)) {
      return this.readManifest(this.index.manifests.find((d) => d.digest === ref) ?? { digest: ref as Digest }, opts);
    }
    const top = await findRef({ readIndex: async () => this.index }, ref ?? this.ref, this.name);
    const { annotations: _refName, ...descriptor } = top;
    return this.readManifest(descriptor, opts);
  }

  async listTags(): Promise<string[]> {
    return this.index.manifests.map((d) => d.annotations?.[Annotation.RefName]).filter((n): n is string => !!n);
  }

  async statBlob(digest: Digest): Promise<number | undefined> {
    return this.blob(digest)?.size;
  }

  openBlob(desc: Descriptor, range?: BlobRange, opts?: Opts): AsyncIterable<Uint8Array> {
    const entry = this.blob(desc.digest);
    if (!entry) throw new OciasmError('ARCHIVE_INVALID', `${this.name}: blob ${desc.digest} is not in the archive`);
    return this.tar.openRange(entry, range?.offset ?? 0, Math.min(range?.end ?? desc.size, desc.size), opts);
  }

  async close(): Promise<void> {
    await this.tar.close();
  }
}

export class OciArchiveDestination implements ImageDestination {
  readonly name: string;
  readonly capabilities: DestinationCapabilities = { multiPlatform: true, referrers: true, tags: true };
  private lastManifest: Manifest | undefined;
  private tagged = false;
  private closed = false;
  private committed = false;

  private constructor(private readonly file: string, private readonly tempDir: string, private readonly layout: LayoutImageDestination, readonly tag?: string) {
    this.name = `oci-archive:${file}${tag !== undefined ? `:${tag}` : ''}`;
  }

  static async open(file: string, tag: string | undefined, ctx: TransportContext): Promise<OciArchiveDestination> {
    const st = await stat(file).catch(() => undefined);
    if (st?.isDirectory()) throw new OciasmError('REFERENCE_INVALID', `oci-archive:${file}: ${file} is a directory (an OCI layout folder is oci:${file})`);
    let tempDir: string;
    try {
      tempDir = await mkdtemp(path.join(ctx.tmpDir ?? path.dirname(file), `.${path.basename(file)}.ociasm-`));
    } catch (e) {
      throw ioError('cannot create a temp folder for', file, e);
    }
    try {
      return new OciArchiveDestination(file, tempDir, new LayoutImageDestination(await LayoutStore.open(tempDir, true), tag), tag);
    } catch (e) {
      await rm(tempDir, { recursive: true, force: true });
      throw e;
    }
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.layout.hasBlob(desc);
  }

  putBlob(desc: Descriptor, data: BlobReader, known: readonly BlobLocation[], opts?: Opts): Promise<PutBlobOutcome> {
    return this.layout.putBlob(desc, data, known, opts);
  }

  async putManifest(m: Manifest): Promise<void> {
    await this.layout.putManifest(m);
    this.lastManifest = m;
  }

  async putTag(tag: string, m: Manifest): Promise<void> {
    this.tagged = true;
    await this.layout.putTag(tag, m);
  }

  async commit(opts?: Opts): Promise<void> {
    await this.layout.commit();
    const store = this.layout.store;
    if (!this.tagged && this.lastManifest) {
      const { descriptor } = this.lastManifest;
      await store.writeIndex({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [descriptor] });
    }
    const blobs = await readdir(path.join(store.dir, 'blobs', 'sha256'));
    const members: ArchiveMember[] = [
      { path: 'blobs', type: 'directory' },
      { path: 'blobs/sha256', type: 'directory' },
      ...await Promise.all(blobs.filter((b) => /^[a-f0-9]{64}$/.test(b)).map(async (b): Promise<ArchiveMember> => {
        const file = path.join(store.dir, 'blobs', 'sha256', b);
        return { path: `blobs/sha256/${b}`, type: 'file', file, size: (await stat(file)).size };
      })),
      ...await Promise.all(['index.json', 'oci-layout'].map(async (n): Promise<ArchiveMember> => {
        const file = path.join(store.dir, n);
        return { path: n, type: 'file', file, size: (await stat(file)).size };
      })),
    ];
    await writeArchiveFile(this.file, members, opts);
    this.committed = true;
    await this.close();
  }

  /** Read-back from the written archive (not the temp layout). */
  async resolve(ref: string, opts?: Opts): Promise<Digest | undefined> {
    if (!this.committed) return undefined;
    const src = await OciArchiveSource.open(this.file, undefined, { cwd: '/', env: {} }, opts);
    try {
      return (await src.getManifest(ref, opts)).descriptor.digest;
    } catch (e) {
      if (e instanceof OciasmError && e.code === 'REF_NOT_FOUND') return undefined;
      throw e;
    } finally {
      await src.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await rm(this.tempDir, { recursive: true, force: true });
  }
}

export const transport: Transport = {
  name: 'oci-archive',
  syntax: 'oci-archive:FILE[:REF]',
  async openSource(rest, ctx, opts) {
    const { file, ref } = parseArchiveArg('oci-archive', rest, ctx.cwd);
    return OciArchiveSource.open(file, ref, ctx, opts);
  },
  async openDestination(rest, ctx, _opts?: DestinationOptions) {
    const { file, ref } = parseArchiveArg('oci-archive', rest, ctx.cwd);
    return OciArchiveDestination.open(file, ref, ctx);
  },
};
