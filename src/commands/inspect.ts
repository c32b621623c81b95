/**
 * `ociasm inspect SOURCE`: any source transport (docs/transports.md). Rules:
 * - A bare value is a layout directory when it holds an `oci-layout` file
 *   (`DIR[:REF]`, as before transports), else a registry reference.
 * - Default output: the index, each manifest, config fields, and for local
 *   sources the layer contents counted (a registry's layers are not
 *   downloaded to be counted).
 * - `--raw`: the manifest or index bytes exactly as stored; `--config`: the
 *   config blob's bytes of the platform named (or the host's, or the only one).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openLayerTar } from '../base/layer-stream.js';
import { decodeTar } from '../codec/tar/decode.js';
import { SourceBlobStore } from '../base/source-store.js';
import { type BlobStore, HashingTap } from '../cas/blob-store.js';
import { formatPlatform } from '../codec/platform.js';
import { selectPlatforms } from '../copy/copy.js';
import { readJsonBlob } from '../image/read.js';
import {
  Annotation, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, isIndexMediaType, type Platform,
} from '../oci/types.js';
import { openSource, splitImageName, type TransportContext } from '../transports/index.js';
import { parseLayoutArg } from '../transports/layout-ref.js';
import type { ImageSource } from '../transports/types.js';

export interface LayerSummary {
  digest: string;
  mediaType: string;
  size: number;
  /** The counts are there for local sources only. Bytes of the uncompressed tar stream (what `ociasm build --json` calls uncompressedSize too). */
  uncompressedSize?: number;
  /** The sha256 of the uncompressed tar: the config's diff_id for this layer. */
  diffId?: string;
  /** The sum of the regular files' sizes. */
  contentBytes?: number;
  entries?: number;
  files?: number;
  directories?: number;
  symlinks?: number;
  hardlinks?: number;
  other?: number;
}

export interface ManifestSummary {
  digest: string;
  platform?: string;
  annotations: Record<string, string>;
  config: { digest: string; created?: string; architecture: string; os: string; variant?: string; config: ImageConfig['config'] };
  layers: LayerSummary[];
}

export interface InspectResult {
  /** The source, transport-qualified. */
  source: string;
  ref?: string;
  index?: { digest: string; mediaType?: string; annotations: Record<string, string> };
  manifests: ManifestSummary[];
}

async function summarizeLayer(store: BlobStore, desc: Descriptor, count: boolean): Promise<LayerSummary> {
  if (!count) return { digest: desc.digest, mediaType: desc.mediaType, size: desc.size };
  const s = {
    digest: desc.digest, mediaType: desc.mediaType, size: desc.size, uncompressedSize: 0, diffId: '', contentBytes: 0,
    entries: 0, files: 0, directories: 0, symlinks: 0, hardlinks: 0, other: 0,
  };
  const tap = new HashingTap();
  const bytes = tap.tap(openLayerTar(store, desc));
  // The decoder closes its source at end-of-archive; keep ours open to count the padding after it too.
  const unclosable: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => bytes.next() }) };
  for await (const { header } of decodeTar(unclosable, { label: desc.digest })) {
    s.entries++;
    if (header.type === 'file') s.contentBytes += header.size;
    if (header.type === 'file') s.files++;
    else if (header.type === 'directory') s.directories++;
    else if (header.type === 'symlink') s.symlinks++;
    else if (header.type === 'hardlink') s.hardlinks++;
    else s.other++;
  }
  while (!(await bytes.next()).done);
  s.uncompressedSize = tap.size;
  s.diffId = tap.digest();
  return s;
}

async function summarizeManifest(store: BlobStore, desc: Descriptor, count: boolean): Promise<ManifestSummary> {
  const manifest = await readJsonBlob<ImageManifest>(store, desc, 'manifest');
  const config = await readJsonBlob<ImageConfig>(store, manifest.config, 'config');
  const layers: LayerSummary[] = [];
  for (const l of manifest.layers) layers.push(await summarizeLayer(store, l, count));
  const out: ManifestSummary = {
    digest: desc.digest,
    annotations: manifest.annotations ?? {},
    config: {
      digest: manifest.config.digest, created: config.created, architecture: config.architecture, os: config.os,
      ...(config.variant ? { variant: config.variant } : {}), config: config.config,
    },
    layers,
  };
  if (desc.platform) out.platform = formatPlatform(desc.platform);
  return out;
}

/** The CLI's spelling: a bare value is a layout when it is one, else a registry reference. */
export function inspectName(arg: string, cwd: string): string {
  const { transport } = splitImageName(arg, 'oci');
  if (transport !== 'oci' || arg.startsWith('oci:')) return arg;
  const { dir } = parseLayoutArg(arg);
  return existsSync(path.join(path.resolve(cwd, dir), 'oci-layout')) ? `oci:${arg}` : arg;
}

export interface InspectOptions {
  ctx: TransportContext;
  /** For --config: the platform to read from an index (default: the host's, passed in). */
  platform?: Platform;
  hostPlatform?: Platform;
  signal?: AbortSignal;
}

async function withSource<T>(arg: string, opts: InspectOptions, fn: (source: ImageSource) => Promise<T>): Promise<T> {
  const source = await openSource(inspectName(arg, opts.ctx.cwd), opts.ctx, opts.signal ? { signal: opts.signal } : {});
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}

export async function inspectImage(arg: string, opts: InspectOptions): Promise<InspectResult> {
  return withSource(arg, opts, async (source) => {
    const top = await source.getManifest();
    const store = new SourceBlobStore(source);
    const result: InspectResult = { source: source.name, manifests: [] };
    const name = top.descriptor.annotations?.[Annotation.RefName];
    if (name) result.ref = name;
    if (isIndexMediaType(top.descriptor.mediaType)) {
      const index = JSON.parse(top.bytes.toString('utf8')) as ImageIndex;
      result.index = { digest: top.descriptor.digest, mediaType: index.mediaType ?? top.descriptor.mediaType, annotations: index.annotations ?? {} };
      for (const m of index.manifests) {
        if (m.platform?.architecture === 'unknown') continue;
        result.manifests.push(await summarizeManifest(store, m, !source.remote));
      }
    } else {
      result.manifests.push(await summarizeManifest(store, top.descriptor, !source.remote));
    }
    return result;
  });
}

/** `--raw`: the bytes of the manifest or index the source names, exactly. */
export async function inspectRaw(arg: string, opts: InspectOptions): Promise<Buffer> {
  return withSource(arg, opts, async (source) => (await source.getManifest()).bytes);
}

/** `--config`: the config blob's bytes, exactly, of one platform. */
export async function inspectConfig(arg: string, opts: InspectOptions): Promise<Buffer> {
  return withSource(arg, opts, async (source) => {
    const top = await source.getManifest();
    const one = await selectPlatforms(source, top, opts.platform ? [opts.platform] : undefined, true, opts.hostPlatform ? { defaultPlatform: opts.hostPlatform } : {});
    const manifest = JSON.parse(one.bytes.toString('utf8')) as ImageManifest;
    return new SourceBlobStore(source).readBytes(manifest.config.digest);
  });
}

export function formatInspect(r: InspectResult): string[] {
  const lines = [`${r.source}${r.ref ? ` ref ${r.ref}` : ''}`];
  if (r.index) lines.push(`index ${r.index.digest}`);
  for (const m of r.manifests) {
    const c = m.config.config ?? {};
    lines.push(`  manifest ${m.digest} ${m.platform ?? `${m.config.os}/${m.config.architecture}`}`);
    lines.push(`    created ${m.config.created ?? '-'}`);
    if (c.Entrypoint) lines.push(`    entrypoint ${JSON.stringify(c.Entrypoint)}`);
    if (c.Cmd) lines.push(`    cmd ${JSON.stringify(c.Cmd)}`);
    if (c.User) lines.push(`    user ${c.User}`);
    if (c.WorkingDir) lines.push(`    workdir ${c.WorkingDir}`);
    if (c.Env) lines.push(`    env ${c.Env.join(' ')}`);
    for (const l of m.layers) {
      if (l.entries === undefined) {
        lines.push(`    layer ${l.digest} ${l.size} bytes`);
        continue;
      }
      lines.push(
        `    layer ${l.digest} ${l.size} bytes (${l.uncompressedSize} uncompressed, ${l.contentBytes} in files): ` +
          `${l.entries} entries, ${l.files} files, ${l.directories} dirs, ${l.symlinks} symlinks, ${l.hardlinks} hardlinks`,
      );
    }
  }
  return lines;
}
