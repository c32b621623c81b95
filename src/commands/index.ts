/**
 * `ociasm index create DEST SRC…` and `ociasm index append DEST SRC…`: one
 * image index from per-platform images (crane `index append`, buildx
 * `imagetools create`). Rules:
 * - Every SRC and DEST is a transport name (`oci:DIR:REF`, `docker://…`, or a
 *   bare registry reference). A SRC that is an image manifest becomes one
 *   entry, its platform read from its config; a SRC that is an index gives
 *   all of its entries as they are.
 * - `append` starts from what DEST names now (an index, or one manifest) and
 *   adds the SRCs, each replacing the entry of its platform; a DEST that
 *   names nothing is an error (a mistyped DEST never starts a new index).
 *   `create` refuses two entries of one platform.
 * - The index bytes are deterministic (src/image/compose-index.ts).
 * - Everything moves through the one copy: a composite source serves the new
 *   index and, from each SRC, the manifests and blobs under it, so copy()
 *   puts blobs (skipping what DEST has, mounting within a registry), then
 *   manifests, then the index, then DEST's tag, and reads them back.
 */
import { sha256 } from '../cas/blob-store.js';
import { type ImageGraph, walkImage } from '../copy/walk.js';
import { copyImages, type CopyStats } from '../copy/copy.js';
import { formatPlatform } from '../codec/platform.js';
import { isOciasmError, OciasmError } from '../errors.js';
import { composeIndex, entryFromConfig, mergeEntries } from '../image/compose-index.js';
import { Annotation, type Descriptor, type Digest, type ImageConfig, type ImageIndex, type ImageManifest, isIndexMediaType, isManifestMediaType, MediaType } from '../oci/types.js';
import { parseReference } from '../codec/reference.js';
import { type RegistryCliOptions, registryOptionsFromCli } from '../pipeline/registry-session.js';
import { openDestination, openSource, splitImageName, type TransportContext } from '../transports/index.js';
import { type CommandContext, commandContext } from '../transports/context.js';
import type { BlobRange, ImageSource, Manifest, Opts } from '../transports/types.js';

export interface IndexOptions extends Opts {
  append?: boolean;
  jobs?: number;
  progress?: (message: string) => void;
}

export interface IndexResult {
  destination: string;
  digest: Digest;
  mediaType: string;
  size: number;
  tags: string[];
  platforms: { platform: string; digest: Digest; from: string }[];
  stats: CopyStats;
}

interface Opened {
  source: ImageSource;
  label: string;
  graph: ImageGraph;
  entries: Descriptor[];
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

function json<T>(bytes: Buffer, label: string, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw new OciasmError('GRAPH_INVALID', `${label}: ${what} is not valid JSON`, { cause: e });
  }
}

/** An index entry as written: the descriptor fields in one order, the layout's ref name dropped. */
function cleanEntry(d: Descriptor): Descriptor {
  const { [Annotation.RefName]: _ref, ...annotations } = d.annotations ?? {};
  const p = d.platform;
  return {
    mediaType: d.mediaType, digest: d.digest, size: d.size,
    ...(p ? {
      platform: {
        os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}),
        ...(p['os.version'] ? { 'os.version': p['os.version'] } : {}), ...(p['os.features'] ? { 'os.features': p['os.features'] } : {}),
        ...(p.features ? { features: p.features } : {}),
      },
    } : {}),
    ...(d.artifactType ? { artifactType: d.artifactType } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

/** A source's root, walked, and the index entries it gives. */
async function openOne(source: ImageSource, root: Manifest, opts: Opts): Promise<Opened> {
  const label = source.name;
  const graph = await walkImage(source, root, opts);
  const mt = root.descriptor.mediaType;
  if (isIndexMediaType(mt)) {
    const idx = json<ImageIndex>(root.bytes, label, 'the index');
    return { source, label, graph, entries: idx.manifests.map(cleanEntry) };
  }
  if (!isManifestMediaType(mt)) throw new OciasmError('GRAPH_INVALID', `${label}: ${root.descriptor.digest} is a ${mt}, not an image or an index`);
  const man = json<ImageManifest>(root.bytes, label, 'the manifest');
  const config = json<ImageConfig>(await readAll(source.openBlob(man.config, undefined, opts)), label, `config ${man.config.digest}`);
  const { digest, size } = root.descriptor;
  return { source, label, graph, entries: [entryFromConfig({ mediaType: mt, digest, size }, config, label)] };
}

/** The new index, and under it whatever each opened source holds. */
class IndexSource implements ImageSource {
  readonly name: string;
  private readonly manifests = new Map<string, Manifest>();
  private readonly blobs = new Map<string, ImageSource>();

  constructor(private readonly index: Manifest, opened: Opened[], dest: string) {
    this.name = `the new index for ${dest}`;
    for (const o of opened) {
      for (const m of [o.graph.root, ...o.graph.children]) if (!this.manifests.has(m.descriptor.digest)) this.manifests.set(m.descriptor.digest, m);
      for (const b of o.graph.blobs) if (!this.blobs.has(b.digest)) this.blobs.set(b.digest, o.source);
    }
  }

  async getManifest(ref?: string): Promise<Manifest> {
    if (ref === undefined || ref === this.index.descriptor.digest) return this.index;
    const m = this.manifests.get(ref);
    if (!m) throw new OciasmError('INTERNAL', `${this.name}: ${ref} is in none of the sources`);
    return m;
  }

  async statBlob(digest: Digest, opts?: Opts): Promise<number | undefined> {
    return this.blobs.get(digest)?.statBlob(digest, opts);
  }

  openBlob(desc: Descriptor, range?: BlobRange, opts?: Opts): AsyncIterable<Uint8Array> {
    const owner = this.blobs.get(desc.digest);
    if (!owner) throw new OciasmError('INTERNAL', `${this.name}: blob ${desc.digest} is in none of the sources`);
    return owner.openBlob(desc, range, opts);
  }

  async close(): Promise<void> {}
}

/** What DEST names now, for `append`. */
async function existing(dest: string, ctx: TransportContext, opts: Opts): Promise<{ source: ImageSource; root: Manifest }> {
  const source = await openSource(dest, ctx, { ...opts, fallback: 'docker' });
  try {
    return { source, root: await source.getManifest(undefined, opts) };
  } catch (e) {
    await source.close();
    if (isOciasmError(e) && (e.code === 'MANIFEST_UNKNOWN' || e.code === 'REF_NOT_FOUND')) {
      throw new OciasmError('REF_NOT_FOUND', `index append: ${dest} names no image to append to (use index create to start one): ${e.message}`, { cause: e });
    }
    throw e;
  }
}

export async function indexImages(dest: string, srcs: string[], ctx: TransportContext, opts: IndexOptions = {}): Promise<IndexResult> {
  const verb = opts.append ? 'append' : 'create';
  if (srcs.length === 0) throw new OciasmError('REFERENCE_INVALID', `index ${verb}: name at least one source image`);
  const sources: ImageSource[] = [];
  try {
    const opened: Opened[] = [];
    if (opts.append) {
      const { source, root } = await existing(dest, ctx, opts);
      sources.push(source);
      opened.push(await openOne(source, root, opts));
    }
    for (const src of srcs) {
      const source = await openSource(src, ctx, { ...opts, fallback: 'docker' });
      sources.push(source);
      opened.push(await openOne(source, await source.getManifest(undefined, opts), opts));
    }
    const entries = mergeEntries(opened.map((o) => ({ label: o.label, entries: o.entries })), !!opts.append);
    const { bytes } = composeIndex(entries);
    const index: Manifest = { descriptor: { mediaType: MediaType.ImageIndex, digest: sha256(bytes), size: bytes.length }, bytes };
    const destination = await openDestination(dest, ctx, { ...opts, fallback: 'docker' });
    try {
      if (destination.tag === undefined) {
        throw new OciasmError('REFERENCE_INVALID', `index ${verb}: ${destination.name} names no tag to write the index under (oci:DIR:REF, HOST/REPO:TAG)`);
      }
      if (!destination.capabilities.multiPlatform) {
        throw new OciasmError('REFERENCE_INVALID', `index ${verb}: ${destination.name} holds one platform's image only, not an index`);
      }
      const composite = new IndexSource(index, opened, destination.name);
      const copied = await copyImages([{ source: composite, destination }], {
        ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.jobs ? { jobs: opts.jobs } : {}), ...(opts.progress ? { progress: opts.progress } : {}),
      });
      const from = (d: Descriptor) => opened.slice().reverse().find((o) => o.entries.some((e) => e.digest === d.digest))?.label ?? '';
      return {
        destination: destination.name, digest: index.descriptor.digest, mediaType: index.descriptor.mediaType, size: bytes.length,
        tags: copied.images[0]?.tags ?? [],
        platforms: entries.map((e) => ({ platform: e.platform ? formatPlatform(e.platform) : '(none)', digest: e.digest, from: from(e) })),
        stats: copied.stats,
      };
    } finally {
      await destination.close();
    }
  } finally {
    await Promise.all(sources.map((s) => s.close()));
  }
}

/**
 * The command's transport context: registry clients made on first use (so
 * layouts alone never load the registry stack), with DEST's registry as the
 * one pushed to (plain --creds apply to it), closed by `close()`.
 */
export function indexContext(dest: string, cwd: string, env: NodeJS.ProcessEnv, cli: RegistryCliOptions): CommandContext {
  const name = splitImageName(dest, 'docker');
  const pushRegistries = name.transport === 'docker' ? [parseReference(name.rest).registry] : [];
  return commandContext(cwd, env, registryOptionsFromCli(cli, pushRegistries));
}
