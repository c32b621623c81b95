/** Walks an image or index in a BlobStore: the manifests and blobs a copy must move, children before parents. */
import type { BlobStore } from '../cas/blob-store.js';
import { LayoutStore } from '../cas/layout-store.js';
import { OciasmError, parseJsonText } from '../errors.js';
import { descend, readVerifiedBlob } from '../image/read.js';
import { type Descriptor, type ImageIndex, type ImageManifest, isIndexMediaType, isManifestMediaType } from '../oci/types.js';
import type { BlobSource } from '../registry/upload.js';

export interface ManifestNode {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface ImageGraph {
  root: ManifestNode;
  /** Per-platform manifests (and nested indexes), before the root. */
  children: ManifestNode[];
  /** Configs and layers, each once. */
  blobs: Descriptor[];
}

/**
 * Every manifest and index is checked against its descriptor when read
 * (size, then digest), and the walk is bounded: a cycle or nesting deeper
 * than MAX_GRAPH_DEPTH is GRAPH_INVALID (image/read.ts, descend).
 */
export async function walkImage(store: BlobStore, root: Descriptor): Promise<ImageGraph> {
  const blobs = new Map<string, Descriptor>();
  const children: ManifestNode[] = [];
  const visit = async (desc: Descriptor, trail: readonly string[]): Promise<ManifestNode> => {
    const here = descend(trail, desc, store.label);
    const what = isIndexMediaType(desc.mediaType) ? 'index' : 'manifest';
    if (!isIndexMediaType(desc.mediaType) && !isManifestMediaType(desc.mediaType)) {
      throw new OciasmError('LAYOUT_INVALID', `${store.label}: ${desc.digest} has unsupported media type ${desc.mediaType}`);
    }
    const bytes = await readVerifiedBlob(store, desc, what);
    const node = { descriptor: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, bytes };
    const doc = parseJsonText(bytes.toString('utf8'), `${store.label}: ${what} ${desc.digest}`, 'LAYOUT_INVALID') as Partial<ImageIndex & ImageManifest> | null;
    if (isIndexMediaType(desc.mediaType)) {
      if (!Array.isArray(doc?.manifests)) throw new OciasmError('LAYOUT_INVALID', `${store.label}: index ${desc.digest} has no manifests list`);
      for (const m of doc.manifests) children.push(await visit(m, here));
    } else {
      if (!doc?.config || !Array.isArray(doc.layers)) throw new OciasmError('LAYOUT_INVALID', `${store.label}: manifest ${desc.digest} has no config or no layers list`);
      for (const b of [doc.config, ...doc.layers]) blobs.set(b.digest, b);
    }
    return node;
  };
  const top = await visit(root, []);
  return { root: top, children, blobs: [...blobs.values()] };
}

/** Reads a blob from any offset: by file position in a layout, by skipping elsewhere. */
export function blobSource(store: BlobStore, desc: Descriptor): BlobSource {
  return {
    size: desc.size,
    openAt: (offset, end) => {
      // A layout reads by position, never through a symlink (LayoutStore.open).
      if (store instanceof LayoutStore) return store.open(desc.digest, offset, end);
      return (async function* () {
        let pos = 0;
        for await (const chunk of store.open(desc.digest)) {
          const from = Math.max(0, offset - pos);
          const to = Math.min(chunk.length, end - pos);
          if (to > from) yield chunk.subarray(from, to);
          pos += chunk.length;
          if (pos >= end) return;
        }
      })();
    },
  };
}
