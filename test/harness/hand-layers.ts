/**
 * Hand-made base layers for the cases umoci cannot make: tar bytes written
 * entry by entry with our encoder (or by GNU tar for GNU-format records),
 * wrapped into a small OCI image layout with a correct config and manifest.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../../src/codec/tar/encode.js';
import type { TarHeader } from '../../src/codec/tar/types.js';
import { must } from './util.js';

export interface HandEntry extends Partial<TarHeader> {
  path: string;
  body?: string | Buffer;
}

/** A tar archive of the entries, in order; files by default, mode 0644 (dirs 0755), owner 0:0. */
export function tarOf(entries: HandEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const { body, ...e } of entries) {
    const data = typeof body === 'string' ? Buffer.from(body) : body ?? Buffer.alloc(0);
    const type = e.type ?? 'file';
    const h: TarHeader = {
      type, mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, mtime: 1600000000, ...e, size: data.length,
    };
    parts.push(encodeHeader(h), data, padding(data.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** GNU tar `--format=gnu` of a staged directory (GNU long names 'L'/'K', base-256 ids). */
export async function gnuTarOf(dir: string): Promise<Buffer> {
  const out = `${dir}.tar`;
  await must('tar', ['--format=gnu', '--numeric-owner', '-cf', out, '-C', dir, '.']);
  return readFileSync(out);
}

export type Compression = 'gzip' | 'zstd' | 'plain';
const LAYER_TYPES: Record<Compression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  plain: 'application/vnd.oci.image.layer.v1.tar',
};

function sha(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function putBlob(layout: string, data: Buffer, tamper = (b: Buffer) => b): { digest: string; size: number } {
  const digest = sha(data);
  writeFileSync(path.join(layout, 'blobs', 'sha256', digest.slice(7)), tamper(data));
  return { digest, size: data.length };
}

async function compress(tar: Buffer, how: Compression): Promise<Buffer> {
  if (how === 'gzip') return gzipSync(tar);
  if (how === 'plain') return tar;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ociasm-zstd-'));
  try {
    writeFileSync(path.join(dir, 'layer.tar'), tar);
    await must('zstd', ['-q', '-3', path.join(dir, 'layer.tar')]);
    return readFileSync(path.join(dir, 'layer.tar.zst'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface HandLayer {
  tar: Buffer;
  compression?: Compression;
  /** The blob bytes as given, not made from `tar` (e.g. garbage). */
  blob?: Buffer;
  /** Alters the bytes written after the descriptor was made from the real ones (to test verification). */
  tamper?: (blob: Buffer) => Buffer;
  /** The config's diff_id for this layer, instead of the tar's real sha256. */
  diffId?: string;
}

/** Adds `tag` to the OCI layout at `layout` (created when missing): one manifest, the given layers. */
export async function handLayout(layout: string, tag: string, layers: HandLayer[], architecture = 'amd64'): Promise<string> {
  mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  if (!existsSync(path.join(layout, 'oci-layout'))) {
    writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }
  const descriptors = [];
  for (const l of layers) {
    const how = l.compression ?? 'gzip';
    const desc = { mediaType: LAYER_TYPES[how], ...putBlob(layout, l.blob ?? (await compress(l.tar, how)), l.tamper) };
    descriptors.push(desc);
  }
  const config = {
    architecture, os: 'linux', config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId ?? sha(l.tar)) },
  };
  const configDesc = { mediaType: 'application/vnd.oci.image.config.v1+json', ...putBlob(layout, Buffer.from(JSON.stringify(config))) };
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers: descriptors };
  const manifestDesc = {
    mediaType: manifest.mediaType, ...putBlob(layout, Buffer.from(JSON.stringify(manifest))),
    annotations: { 'org.opencontainers.image.ref.name': tag },
  };
  const indexFile = path.join(layout, 'index.json');
  const index = existsSync(indexFile) ? JSON.parse(readFileSync(indexFile, 'utf8')) : { schemaVersion: 2, manifests: [] };
  index.manifests = index.manifests.filter((m: any) => m.annotations?.['org.opencontainers.image.ref.name'] !== tag);
  index.manifests.push(manifestDesc);
  writeFileSync(indexFile, JSON.stringify(index));
  return `oci:${layout}:${tag}`;
}
