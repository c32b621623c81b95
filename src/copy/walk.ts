/**
 * The one image-graph walker: from a root manifest or index, every manifest
 * under it (children before parents, each once) and every blob (configs and
 * layers, each once). Rules:
 * - Each child manifest read is checked against the digest and size its
 *   parent gives; a mismatch is DIGEST_MISMATCH naming the source.
 * - A manifest that lists itself, directly or through others, is
 *   GRAPH_INVALID, and so is nesting deeper than MAX_GRAPH_DEPTH or more
 *   than MAX_GRAPH_NODES manifests (docs/security.md).
 */
import { sha256 } from '../cas/blob-store.js';
import { OciasmError } from '../errors.js';
import { type Descriptor, type ImageIndex, type ImageManifest, isIndexMediaType, isManifestMediaType, sniffManifestMediaType } from '../oci/types.js';
import type { ImageSource, Manifest, Opts } from '../transports/types.js';

export const MAX_GRAPH_DEPTH = 8;
export const MAX_GRAPH_NODES = 10_000;

export interface ImageGraph {
  root: Manifest;
  /** Every manifest below the root, children before parents, each once. */
  children: Manifest[];
  /** Configs and layers, each once. */
  blobs: Descriptor[];
}

function parse<T>(m: Manifest, label: string): T {
  try {
    return JSON.parse(m.bytes.toString('utf8')) as T;
  } catch {
    throw new OciasmError('GRAPH_INVALID', `${label}: manifest ${m.descriptor.digest} is not valid JSON`);
  }
}

/** A manifest's config and layers, or an index's manifests: the descriptors it points at. */
export function manifestChildren(m: Manifest, label: string): { manifests: Descriptor[]; blobs: Descriptor[] } {
  const mt = m.descriptor.mediaType || sniffManifestMediaType(m.bytes);
  if (isIndexMediaType(mt)) {
    const idx = parse<ImageIndex>(m, label);
    if (!Array.isArray(idx.manifests)) throw new OciasmError('GRAPH_INVALID', `${label}: index ${m.descriptor.digest} has no manifests list`);
    return { manifests: idx.manifests, blobs: [] };
  }
  if (isManifestMediaType(mt)) {
    const man = parse<ImageManifest>(m, label);
    if (!man.config || !Array.isArray(man.layers)) throw new OciasmError('GRAPH_INVALID', `${label}: manifest ${m.descriptor.digest} has no config or layers`);
    return { manifests: [], blobs: [man.config, ...man.layers] };
  }
  throw new OciasmError('GRAPH_INVALID', `${label}: ${m.descriptor.digest} has unsupported media type ${mt}`);
}

export async function walkImage(source: ImageSource, root: Manifest, opts: Opts = {}): Promise<ImageGraph> {
  const blobs = new Map<string, Descriptor>();
  const done = new Map<string, Manifest>();
  const children: Manifest[] = [];
  const visit = async (m: Manifest, path: string[]): Promise<void> => {
    opts.signal?.throwIfAborted();
    const { manifests, blobs: own } = manifestChildren(m, source.name);
    for (const b of own) if (!blobs.has(b.digest)) blobs.set(b.digest, b);
    for (const d of manifests) {
      if (path.includes(d.digest)) {
        throw new OciasmError('GRAPH_INVALID', `${source.name}: index ${m.descriptor.digest} lists ${d.digest}, which contains it (a cycle)`);
      }
      if (path.length >= MAX_GRAPH_DEPTH) {
        throw new OciasmError('GRAPH_INVALID', `${source.name}: indexes nest deeper than ${MAX_GRAPH_DEPTH} levels at ${d.digest}`);
      }
      if (done.has(d.digest)) continue;
      if (done.size >= MAX_GRAPH_NODES) throw new OciasmError('GRAPH_INVALID', `${source.name}: more than ${MAX_GRAPH_NODES} manifests`);
      const got = await source.getManifest(d.digest, opts);
      if (sha256(got.bytes) !== d.digest || got.bytes.length !== d.size) {
        throw new OciasmError('DIGEST_MISMATCH', `${source.name}: manifest ${d.digest} does not match its digest or its size (${d.size}) in ${m.descriptor.digest}`);
      }
      const child: Manifest = { descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(d.platform ? { platform: d.platform } : {}) }, bytes: got.bytes };
      done.set(d.digest, child);
      await visit(child, [...path, d.digest]);
      children.push(child);
    }
  };
  await visit(root, [root.descriptor.digest]);
  return { root, children, blobs: [...blobs.values()] };
}
