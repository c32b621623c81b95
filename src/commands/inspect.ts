/** `ociasm inspect DIR[:REF]`: the index, each manifest, config fields and layer contents counted. */
import { findRef, parseLayoutArg } from '../base/layout-source.js';
import { openLayerTar } from '../base/layer-stream.js';
import { HashingTap } from '../cas/blob-store.js';
import { decodeTar } from '../codec/tar/decode.js';
import { LayoutStore } from '../cas/layout-store.js';
import { formatPlatform } from '../codec/platform.js';
import { readJsonBlob } from '../image/read.js';
import {
  Annotation, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, isIndexMediaType,
} from '../oci/types.js';

export interface LayerSummary {
  digest: string;
  mediaType: string;
  size: number;
  /** Bytes of the uncompressed tar stream (what `ociasm build --json` calls uncompressedSize too). */
  uncompressedSize: number;
  /** The sha256 of the uncompressed tar: the config's diff_id for this layer. */
  diffId: string;
  /** The sum of the regular files' sizes. */
  contentBytes: number;
  entries: number;
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  other: number;
}

export interface ManifestSummary {
  digest: string;
  platform?: string;
  annotations: Record<string, string>;
  config: { digest: string; created?: string; architecture: string; os: string; variant?: string; config: ImageConfig['config'] };
  layers: LayerSummary[];
}

export interface InspectResult {
  layout: string;
  ref?: string;
  index?: { digest: string; mediaType?: string; annotations: Record<string, string> };
  manifests: ManifestSummary[];
}

async function summarizeLayer(store: LayoutStore, desc: Descriptor): Promise<LayerSummary> {
  const s: LayerSummary = {
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

async function summarizeManifest(store: LayoutStore, desc: Descriptor): Promise<ManifestSummary> {
  const manifest = await readJsonBlob<ImageManifest>(store, desc, 'manifest');
  const config = await readJsonBlob<ImageConfig>(store, manifest.config, 'config');
  const layers: LayerSummary[] = [];
  for (const l of manifest.layers) layers.push(await summarizeLayer(store, l));
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

export async function inspectLayout(arg: string): Promise<InspectResult> {
  const { dir, ref } = parseLayoutArg(arg);
  const store = await LayoutStore.open(dir, false);
  const top = await findRef(store, ref, dir);
  const result: InspectResult = { layout: store.dir, manifests: [] };
  const name = top.annotations?.[Annotation.RefName];
  if (name) result.ref = name;
  if (isIndexMediaType(top.mediaType)) {
    const index = await readJsonBlob<ImageIndex>(store, top, 'index');
    result.index = { digest: top.digest, mediaType: index.mediaType, annotations: index.annotations ?? {} };
    for (const m of index.manifests) result.manifests.push(await summarizeManifest(store, m));
  } else {
    result.manifests.push(await summarizeManifest(store, top));
  }
  return result;
}

export function formatInspect(r: InspectResult): string[] {
  const lines = [`layout ${r.layout}${r.ref ? ` ref ${r.ref}` : ''}`];
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
      lines.push(
        `    layer ${l.digest} ${l.size} bytes (${l.uncompressedSize} uncompressed, ${l.contentBytes} in files): ` +
          `${l.entries} entries, ${l.files} files, ${l.directories} dirs, ${l.symlinks} symlinks, ${l.hardlinks} hardlinks`,
      );
    }
  }
  return lines;
}
