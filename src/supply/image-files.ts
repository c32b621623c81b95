/**
 * The files of an image as a consumer sees them: every layer of a manifest
 * read in order (gzip or plain tar), whiteouts and opaque directories
 * applied, each path's final entry kept with its metadata and, for regular
 * files, its SHA-256 and SHA-1. Hardlinks take the checksums of their target.
 * Package databases are kept as text and ELF files are scanned for Go build
 * info while they stream by, so every blob is read exactly once.
 *
 * Rules: layer digests are checked as they are read; an ELF file larger than
 * MAX_ELF_BYTES is listed but not scanned (stated in docs/supply-chain.md);
 * layers are opened as base layers are (base/layer-stream.ts: plain, gzip,
 * zstd, with the inflate bounds).
 */
import { openLayerTar } from '../base/layer-stream.js';
import { createHash } from 'node:crypto';
import type { BlobStore } from '../cas/blob-store.js';
import { decodeTar } from '../codec/tar/decode.js';
import type { TarHeader } from '../codec/tar/types.js';
import type { ImageManifest } from '../oci/types.js';
import { type GoBuildInfo, isElf, readGoBuildInfo } from './go-buildinfo.js';

export const MAX_ELF_BYTES = 512 << 20;

/** Paths whose contents the SBOM reads (package databases and the OS identity). */
export const TEXT_FILES = ['var/lib/dpkg/status', 'lib/apk/db/installed', 'etc/os-release', 'usr/lib/os-release'];

export interface ImageFile {
  header: TarHeader;
  sha256?: string;
  sha1?: string;
  go?: GoBuildInfo;
}

export interface ImageFiles {
  /** Final entries by path (no leading '/'), in path order. */
  files: Map<string, ImageFile>;
  texts: Map<string, string>;
}

/** Removes `dir` (unless keepSelf) and everything under it that a lower layer (index < `layer`) put there. */
function removeTree(files: Map<string, ImageFile>, from: Map<string, number>, dir: string, keepSelf: boolean, layer: number): void {
  const prefix = dir === '' ? '' : `${dir}/`;
  for (const p of [...files.keys()]) {
    if ((from.get(p) ?? 0) >= layer) continue;
    if ((!keepSelf && p === dir) || (prefix === '' ? p !== '' : p.startsWith(prefix))) files.delete(p);
  }
}

export async function readImageFiles(store: BlobStore, manifest: ImageManifest, signal?: AbortSignal): Promise<ImageFiles> {
  const files = new Map<string, ImageFile>();
  const texts = new Map<string, string>();
  const from = new Map<string, number>();
  for (const [li, layer] of manifest.layers.entries()) {
    signal?.throwIfAborted();
    const tar = openLayerTar(store, layer); // the digest is checked as it is read; gzip, zstd and plain layers
    const opaqueSeen = new Set<string>();
    for await (const entry of decodeTar(tar, { label: layer.digest })) {
      const h = entry.header;
      const slash = h.path.lastIndexOf('/');
      const dir = slash < 0 ? '' : h.path.slice(0, slash);
      const base = h.path.slice(slash + 1);
      if (base === '.wh..wh..opq') {
        if (!opaqueSeen.has(dir)) removeTree(files, from, dir, true, li);
        opaqueSeen.add(dir);
        continue;
      }
      if (base.startsWith('.wh.')) {
        removeTree(files, from, (dir ? `${dir}/` : '') + base.slice(4), false, li);
        continue;
      }
      const prev = files.get(h.path);
      if (prev && (prev.header.type === 'directory') !== (h.type === 'directory')) removeTree(files, from, h.path, false, li + 1);
      const rec: ImageFile = { header: h };
      if (h.type === 'file') {
        const s256 = createHash('sha256');
        const s1 = createHash('sha1');
        const keep = TEXT_FILES.includes(h.path);
        let elf: boolean | undefined;
        const chunks: Buffer[] = [];
        for await (const c of entry.body) {
          s256.update(c);
          s1.update(c);
          if (elf === undefined) elf = isElf(c) && h.size <= MAX_ELF_BYTES;
          if (keep || elf) chunks.push(c);
        }
        rec.sha256 = s256.digest('hex');
        rec.sha1 = s1.digest('hex');
        if (keep) texts.set(h.path, Buffer.concat(chunks).toString('utf8'));
        if (elf) {
          const go = readGoBuildInfo(Buffer.concat(chunks));
          if (go) rec.go = go;
        }
      } else if (h.type === 'hardlink' && h.linkname !== undefined) {
        const target = files.get(h.linkname);
        if (target?.sha256) {
          rec.sha256 = target.sha256;
          rec.sha1 = target.sha1!;
          if (target.go) rec.go = target.go;
        }
      }
      files.set(h.path, rec);
      from.set(h.path, li);
    }
  }
  return { files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), texts };
}
