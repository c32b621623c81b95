/**
 * A tar file read in place: one streaming pass with our decoder records every
 * entry's type, size and body offset; bodies are then read by byte range from
 * the file, never loaded whole. Rules:
 * - A gzip- or zstd-compressed archive (`docker save | gzip`) is first
 *   decompressed into a temp file (the context's tmpDir, else beside the
 *   archive), removed by close(); it is bounded as base layers are
 *   (codec/decompress.ts: LIMIT_EXCEEDED past 64 GiB or a 1000:1 ratio).
 * - Paths are normalized as the decoder does; a later entry of the same path
 *   replaces an earlier one (tar semantics). Symlinks and hardlinks are
 *   followed inside the archive (at most MAX_LINK_HOPS), never out of it.
 * - More than MAX_ARCHIVE_ENTRIES entries, or a metadata file (JSON) larger
 *   than MAX_METADATA_BYTES, is ARCHIVE_INVALID (docs/transports.md).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { bounded, decompress, sniffCompression } from '../codec/decompress.js';
import { decodeTar } from '../codec/tar/decode.js';
import type { TarEntryType } from '../codec/tar/types.js';
import { ioError, isOciasmError, OciasmError } from '../errors.js';
import type { Opts } from './types.js';

export const MAX_ARCHIVE_ENTRIES = 100_000;
export const MAX_METADATA_BYTES = 8 << 20;
const MAX_LINK_HOPS = 16;

export interface ArchiveEntry {
  path: string;
  type: TarEntryType;
  size: number;
  /** Offset of the body in the (uncompressed) file. */
  offset: number;
  linkname?: string;
}

export interface TarFileOptions extends Opts {
  /** Folder for the decompressed copy of a compressed archive; default: beside the archive. */
  tmpDir?: string;
}

/** The first `n` bytes of a file (fewer when it is shorter). */
export async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export class TarFile {
  private constructor(
    /** The archive as named (for messages). */
    readonly file: string,
    /** The uncompressed tar read by range: `file`, or a temp copy. */
    private readonly plain: string,
    private readonly temp: boolean,
    readonly entries: ReadonlyMap<string, ArchiveEntry>,
  ) {}

  static async open(file: string, opts: TarFileOptions = {}): Promise<TarFile> {
    let head: Buffer;
    try {
      head = await readHead(file, 512);
    } catch (e) {
      throw ioError('cannot read the archive', file, e);
    }
    const compression = sniffCompression(head) ?? 'none'; // a plain tar shows its ustar magic only at byte 257
    let plain = file;
    let temp = false;
    if (compression !== 'none') {
      plain = path.join(opts.tmpDir ?? path.dirname(file), `.${path.basename(file)}.ociasm-${randomBytes(6).toString('hex')}.tar`);
      temp = true;
      try {
        const packed = (await stat(file)).size;
        await pipeline(bounded(decompress(compression, createReadStream(file), file), packed, {}, file), createWriteStream(plain, { flags: 'wx', mode: 0o600 }), { signal: opts.signal });
      } catch (e) {
        await rm(plain, { force: true });
        if (isOciasmError(e)) throw e;
        throw ioError('cannot decompress the archive', file, e);
      }
    }
    try {
      return new TarFile(file, plain, temp, await TarFile.index(file, plain, opts));
    } catch (e) {
      if (temp) await rm(plain, { force: true });
      throw e;
    }
  }

  private static async index(file: string, plain: string, opts: Opts): Promise<Map<string, ArchiveEntry>> {
    const entries = new Map<string, ArchiveEntry>();
    try {
      for await (const e of decodeTar(createReadStream(plain, { highWaterMark: 1 << 20 }), { label: file })) {
        opts.signal?.throwIfAborted();
        const h = e.header;
        entries.delete(h.path);
        entries.set(h.path, { path: h.path, type: h.type, size: h.size, offset: e.offset!, ...(h.linkname !== undefined ? { linkname: h.linkname } : {}) });
        if (entries.size > MAX_ARCHIVE_ENTRIES) throw new OciasmError('ARCHIVE_INVALID', `${file}: more than ${MAX_ARCHIVE_ENTRIES} entries; not an image archive`);
      }
    } catch (e) {
      if (isOciasmError(e) && e.code === 'TAR_INVALID') throw new OciasmError('ARCHIVE_INVALID', `${file} is not a readable tar archive: ${e.message}`, { cause: e });
      if (isOciasmError(e)) throw e;
      throw ioError('cannot read the archive', file, e);
    }
    return entries;
  }

  /** The regular file a path names, links followed; undefined when there is none. */
  find(name: string): ArchiveEntry | undefined {
    let p = path.posix.normalize(name).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const e = this.entries.get(p);
      if (!e) return undefined;
      if (e.type === 'file') return e;
      if (e.type === 'symlink') p = path.posix.normalize(path.posix.join(path.posix.dirname(p), e.linkname!));
      else if (e.type === 'hardlink') p = e.linkname!;
      else return undefined;
      if (p.startsWith('/') || p === '..' || p.startsWith('../')) return undefined;
    }
    throw new OciasmError('ARCHIVE_INVALID', `${this.file}: "${name}" is a chain of more than ${MAX_LINK_HOPS} links`);
  }

  /** Like find(), but a missing file is ARCHIVE_INVALID naming what it was for. */
  get(name: string, what: string): ArchiveEntry {
    const e = this.find(name);
    if (!e) throw new OciasmError('ARCHIVE_INVALID', `${this.file}: ${what} "${name}" is not a file in the archive`);
    return e;
  }

  /** A metadata file's bytes (JSON), at most MAX_METADATA_BYTES. */
  async readBytes(entry: ArchiveEntry, opts: Opts = {}): Promise<Buffer> {
    if (entry.size > MAX_METADATA_BYTES) {
      throw new OciasmError('ARCHIVE_INVALID', `${this.file}: "${entry.path}" is ${entry.size} bytes, more than the ${MAX_METADATA_BYTES} a manifest or config may have`);
    }
    const parts: Buffer[] = [];
    for await (const c of this.openRange(entry, 0, entry.size, opts)) parts.push(c);
    return Buffer.concat(parts);
  }

  /** Bytes [offset, end) of an entry's body. */
  async *openRange(entry: ArchiveEntry, offset: number, end: number, opts: Opts = {}): AsyncGenerator<Buffer> {
    const stop = Math.min(end, entry.size);
    if (offset >= stop) return;
    try {
      for await (const c of createReadStream(this.plain, { start: entry.offset + offset, end: entry.offset + stop - 1, highWaterMark: 1 << 20, ...(opts.signal ? { signal: opts.signal } : {}) })) {
        yield c as Buffer;
      }
    } catch (e) {
      throw ioError(`cannot read "${entry.path}" in the archive`, this.file, e);
    }
  }

  async close(): Promise<void> {
    if (this.temp) await rm(this.plain, { force: true });
  }
}
