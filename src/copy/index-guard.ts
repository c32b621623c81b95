/**
 * A narrowed copy never shrinks a published index silently
 * (docs/transports.md, "Narrowed pushes"). Before anything is written, each
 * tag's current manifest is read from the destination; when it is an index
 * with platforms the copied image lacks:
 * - `refuse` (the CLI's default for registries) fails with INDEX_NARROWED,
 *   naming the platforms that would be dropped;
 * - `merge` writes a new index: the published one with the copied
 *   platforms replaced in place and new ones appended, its other entries and
 *   annotations kept (attestations of a replaced manifest are dropped);
 * - `replace` writes the tag as asked (a layout's refs, `--replace-index`).
 * A tag that names nothing, a single manifest, or an index whose platforms
 * the copy all has, is written as asked under every policy.
 */
import { sha256 } from '../cas/blob-store.js';
import { formatPlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import { platformMatches } from '../image/read.js';
import { type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, isIndexMediaType, type Platform } from '../oci/types.js';
import type { ImageSource, Manifest, Opts } from '../transports/types.js';

export type ExistingIndexPolicy = 'replace' | 'refuse' | 'merge';

const REFERENCE_DIGEST = 'vnd.docker.reference.digest';

function json<T>(m: Manifest, label: string): T {
  try {
    return JSON.parse(m.bytes.toString('utf8')) as T;
  } catch (e) {
    throw new OciasmError('GRAPH_INVALID', `${label}: manifest ${m.descriptor.digest} is not valid JSON`, { cause: e });
  }
}

function isImageEntry(d: Descriptor): boolean {
  return !!d.platform && d.platform.architecture !== 'unknown';
}

/** The index entries a copied root stands for: an index's own, or one entry for a manifest (its platform from the descriptor or the config). */
export async function rootEntries(source: ImageSource, root: Manifest, opts: Opts = {}): Promise<Descriptor[]> {
  if (isIndexMediaType(root.descriptor.mediaType)) return json<ImageIndex>(root, source.name).manifests;
  let platform = root.descriptor.platform;
  if (!platform) {
    const manifest = json<ImageManifest>(root, source.name);
    const chunks: Uint8Array[] = [];
    for await (const c of source.openBlob(manifest.config, undefined, opts)) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    if (sha256(bytes) !== manifest.config.digest) throw new OciasmError('DIGEST_MISMATCH', `${source.name}: config ${manifest.config.digest} does not match its digest`);
    const config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
    platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  }
  const { mediaType, digest, size } = root.descriptor;
  return [{ mediaType, digest, size, platform }];
}

export interface GuardInput {
  destination: string;
  tag: string;
  existing: Manifest | undefined;
  root: Manifest;
  entries: Descriptor[];
  policy: ExistingIndexPolicy;
}

/** What the tag should name: the root, or a merged index (to be stored before the tag). */
export function guardTag(g: GuardInput): { node: Manifest; merged: boolean } {
  const asked = { node: g.root, merged: false };
  if (g.policy === 'replace' || !g.existing || g.existing.descriptor.digest === g.root.descriptor.digest) return asked;
  if (!isIndexMediaType(g.existing.descriptor.mediaType)) return asked;
  const published = json<ImageIndex>(g.existing, g.destination);
  const incoming = g.entries.filter(isImageEntry);
  const has = (p: Platform) => incoming.some((d) => platformMatches(p, d.platform));
  const dropped = published.manifests.filter(isImageEntry).filter((d) => !has(d.platform!));
  if (dropped.length === 0) return asked;
  if (g.policy === 'refuse') {
    const list = (ds: Descriptor[]) => ds.map((d) => formatPlatform(d.platform!)).join(', ') || 'none';
    throw new OciasmError(
      'INDEX_NARROWED',
      `${g.destination}: tag ${g.tag} names an index of ${list(published.manifests.filter(isImageEntry))}; this image has ${list(incoming)} ` +
        `and would drop ${list(dropped)}. Pass --merge-index to put it into the published index, or --replace-index to replace the index`,
    );
  }
  const replaced = new Set<string>();
  const manifests: Descriptor[] = [];
  for (const d of published.manifests) {
    if (!isImageEntry(d)) {
      manifests.push(d);
      continue;
    }
    const mine = incoming.find((n) => platformMatches(d.platform!, n.platform));
    if (mine) {
      replaced.add(d.digest);
      if (!manifests.includes(mine)) manifests.push(mine);
    } else {
      manifests.push(d);
    }
  }
  for (const n of incoming) if (!manifests.includes(n)) manifests.push(n);
  const kept = manifests.filter((d) => isImageEntry(d) || !replaced.has(d.annotations?.[REFERENCE_DIGEST] ?? ''));
  const bytes = Buffer.from(JSON.stringify({ ...published, manifests: kept }));
  return { node: { descriptor: { mediaType: g.existing.descriptor.mediaType, digest: sha256(bytes), size: bytes.length }, bytes }, merged: true };
}
