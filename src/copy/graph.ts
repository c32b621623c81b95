/** Walks an image or index in a BlobStore: the manifests and blobs a copy must move, children before parents. */
import { createReadStream } from 'node:fs';
import type { BlobStore } from '../cas/blob-store.js';
import { LayoutStore } from '../cas/layout-store.js';
import { OciasmError } from '../errors.js';
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

export async function walkImage(store: BlobStore, root: Descriptor): Promise<ImageGraph> {
  const blobs = new Map<string, Descriptor>();
  const children: ManifestNode[] = [];
  const visit = async (desc: Descriptor): Promise<ManifestNode> => {
    const bytes = await store.readBytes(desc.digest);
    const node = { descriptor: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, bytes };
    if (isIndexMediaType(desc.mediaType)) {
      for (const m of (JSON.parse(bytes.toString('utf8')) as ImageIndex).manifests) children.push(await visit(m));
    } else if (isManifestMediaType(desc.mediaType)) {
      const m = JSON.parse(bytes.toString('utf8')) as ImageManifest;
      for (const b of [m.config, ...m.layers]) blobs.set(b.digest, b);
    } else {
      throw new OciasmError('LAYOUT_INVALID', `${store.label}: ${desc.digest} has unsupported media type ${desc.mediaType}`);
    }
    return node;
  };
  const top = await visit(root);
  return { root: top, children, blobs: [...blobs.values()] };
}

/** Reads a blob from any offset: by file position in a layout, by skipping elsewhere. */
export function blobSource(store: BlobStore, desc: Descriptor): BlobSource {
  return {
    size: desc.size,
    openAt: (offset, end) => {
      if (store instanceof LayoutStore) {
        if (end <= offset) return (async function* () {})();
        return createReadStream(store.blobPath(desc.digest), { start: offset, end: end - 1, highWaterMark: 1 << 20 });
      }
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
