/**
 * `rootfs:FILE`: a tar of a root filesystem (plain, gzip, xz or zstd; an
 * lxc-style export, `tar -C root -c .`) read as a one-layer image, for bases
 * only (it cannot be written to). Rules:
 * - The compression is decided by the file's magic bytes, never its name;
 *   anything else is ROOTFS_INVALID naming the file. FILE is relative to the
 *   context's cwd (the build file's folder for a base).
 * - Opening reads the file once, whole: its sha256 (the digest recorded as
 *   the base's name), the uncompressed tar's sha256 (the layer's diffID), and
 *   every tar header, so a truncated or corrupt file fails before a build
 *   starts, with the file named. Decompression is bounded by the default
 *   layer limits (a bomb is LIMIT_EXCEEDED, docs/security.md).
 * - The manifest and config are synthesized and depend on the content only:
 *   the config has no platform (`unknown/unknown`) and no runtime fields;
 *   `platformless` tells a base to take it for any platform. The layer is the
 *   file as it is for plain, gzip and zstd tars (media type by compression);
 *   an xz file, which has no OCI media type, is served decompressed as a
 *   plain tar layer (its digest is then the diffID).
 * - Every blob read is the file read again; a file changed since opening
 *   fails the reader's digest check.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { HashingTap, sha256 } from '../cas/blob-store.js';
import { bounded, type Compression, decompress, sniffCompression } from '../codec/decompress.js';
import { decodeTar } from '../codec/tar/decode.js';
import { isOciasmError, OciasmError } from '../errors.js';
import { type Descriptor, type Digest, type ImageConfig, type ImageManifest, MediaType } from '../oci/types.js';
import type { Transport } from './index.js';
import { readHead } from './tar-file.js';
import type { BlobRange, ImageSource, Manifest, Opts } from './types.js';

const LAYER_TYPES: Record<Compression, string> = {
  none: MediaType.Layer,
  gzip: MediaType.LayerGzip,
  zstd: MediaType.LayerZstd,
  xz: MediaType.Layer, // served decompressed
};

/** What one pass over the file found. */
interface Scan {
  compression: Compression;
  fileDigest: Digest;
  fileSize: number;
  diffId: Digest;
  tarSize: number;
}

function invalid(shown: string, reason: string, cause?: unknown): OciasmError {
  return new OciasmError('ROOTFS_INVALID', `rootfs:${shown}: ${reason}`, cause === undefined ? undefined : { cause });
}

async function* fileBytes(file: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  yield* createReadStream(file, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
}

/** A stream without its first `n` bytes. */
async function* skipBytes(input: AsyncIterable<Uint8Array>, n: number): AsyncIterable<Uint8Array> {
  let left = n;
  for await (const chunk of input) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

async function scan(file: string, shown: string, opts: Opts): Promise<Scan> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw invalid(shown, code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${code ?? String(e)}`, e);
  }
  if (!st.isFile()) throw invalid(shown, `${file} is not a regular file`);
  const compression = sniffCompression(await readHead(file, 512));
  if (compression === undefined) throw invalid(shown, `${file} is not a tar archive (plain, gzip, xz or zstd compressed; no tar or compression magic in its first bytes)`);
  const fileTap = new HashingTap();
  const tarTap = new HashingTap();
  const what = `rootfs:${shown}`;
  const inflated = decompress(compression, fileTap.tap(fileBytes(file, opts.signal)), what);
  const tar = tarTap.tap(compression === 'none' ? inflated : bounded(inflated, st.size, {}, what));
  // The decoder stops at end-of-archive; read the rest too, so both digests cover every byte.
  const unclosable: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => tar.next() }) };
  let entries = 0;
  try {
    for await (const entry of decodeTar(unclosable, { label: file })) {
      entries++;
      for await (const _ of entry.body);
    }
    while (!(await tar.next()).done);
  } catch (e) {
    const reason = isOciasmError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
    throw invalid(shown, `${file} is not a readable tar archive: ${reason}`, e);
  } finally {
    await tar.return(undefined);
  }
  if (entries === 0) throw invalid(shown, `${file} holds no files (an empty tar archive)`);
  return { compression, fileDigest: fileTap.digest(), fileSize: fileTap.size, diffId: tarTap.digest(), tarSize: tarTap.size };
}

export class RootfsImageSource implements ImageSource {
  readonly name: string;
  readonly platformless: { baseName: string };
  /** A local file, read in place (no pull cache). */
  readonly local = true;
  readonly layer: Descriptor;
  private readonly config: Buffer;
  private readonly configDesc: Descriptor;
  private readonly manifest: Manifest;

  private constructor(private readonly file: string, shown: string, private readonly found: Scan) {
    this.name = `rootfs:${shown}`;
    this.platformless = { baseName: `rootfs:${shown}@${found.fileDigest}` };
    this.layer = found.compression === 'xz'
      ? { mediaType: LAYER_TYPES.xz, digest: found.diffId, size: found.tarSize }
      : { mediaType: LAYER_TYPES[found.compression], digest: found.fileDigest, size: found.fileSize };
    const config: ImageConfig = { architecture: 'unknown', os: 'unknown', rootfs: { type: 'layers', diff_ids: [found.diffId] } };
    this.config = Buffer.from(JSON.stringify(config));
    this.configDesc = { mediaType: MediaType.ImageConfig, digest: sha256(this.config), size: this.config.length };
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.ImageManifest, config: this.configDesc, layers: [this.layer] };
    const bytes = Buffer.from(JSON.stringify(manifest));
    this.manifest = { descriptor: { mediaType: MediaType.ImageManifest, digest: sha256(bytes), size: bytes.length }, bytes };
  }

  /** Opens FILE (shown as written in messages and in the base's name), reading it once whole. */
  static async open(file: string, shown: string, opts: Opts = {}): Promise<RootfsImageSource> {
    return new RootfsImageSource(file, shown, await scan(file, shown, opts));
  }

  async getManifest(ref?: string): Promise<Manifest> {
    if (ref === undefined || ref === this.manifest.descriptor.digest) return this.manifest;
    throw new OciasmError('REF_NOT_FOUND', `${this.name}: a rootfs tarball holds one image and no tags; "${ref}" names none`);
  }

  async statBlob(digest: Digest): Promise<number | undefined> {
    if (digest === this.configDesc.digest) return this.config.length;
    if (digest === this.layer.digest) return this.layer.size;
    return undefined;
  }

  async *openBlob(desc: Descriptor, range?: BlobRange, opts?: Opts): AsyncIterable<Uint8Array> {
    const offset = range?.offset ?? 0;
    const end = Math.min(range?.end ?? desc.size, desc.size);
    if (desc.digest === this.configDesc.digest) {
      yield this.config.subarray(offset, end);
      return;
    }
    if (desc.digest !== this.layer.digest) throw new OciasmError('REF_NOT_FOUND', `${this.name}: no blob ${desc.digest}`);
    const whole = this.found.compression === 'xz'
      ? decompress('xz', fileBytes(this.file, opts?.signal), this.name)
      : fileBytes(this.file, opts?.signal);
    let left = end - offset;
    for await (const chunk of skipBytes(whole, offset)) {
      if (left <= 0) return;
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      yield part;
    }
  }

  async close(): Promise<void> {}
}

export const transport: Transport = {
  name: 'rootfs',
  syntax: 'rootfs:FILE',
  async openSource(rest, ctx, opts) {
    if (rest === '') throw new OciasmError('REFERENCE_INVALID', '"rootfs:" names no file (rootfs:FILE, a tar of a root filesystem)');
    return RootfsImageSource.open(path.resolve(ctx.cwd, rest), rest, opts);
  },
};
