/**
 * Referrers kept in an OCI layout: each artifact's blobs and manifest are
 * blobs of the layout, and its descriptor is an entry of index.json with no
 * ref name, its `artifactType`, and the annotation
 * `dev.ociasm.referrer.subject` naming the subject's digest — so
 * `oci-archive:` and layout copies carry them, and tools that list
 * index.json see artifacts for what they are. The subject field of the
 * artifact manifest itself stays the authority: lookups check it.
 */
import type { LayoutStore } from '../cas/layout-store.js';
import { readJsonBlob } from '../image/read.js';
import type { Descriptor, Digest, ImageManifest } from '../oci/types.js';
import { type Artifact, SUBJECT_ANNOTATION } from './artifact.js';

export async function attachToLayout(store: LayoutStore, artifacts: Artifact[]): Promise<void> {
  if (artifacts.length === 0) return;
  for (const a of artifacts) {
    for (const b of a.blobs) await store.put((async function* () { yield b.bytes; })(), b.descriptor);
    await store.put((async function* () { yield a.bytes; })(), a.descriptor);
  }
  const index = await store.readIndex();
  const have = new Set(index.manifests.map((d) => d.digest));
  const added: Descriptor[] = artifacts.filter((a) => !have.has(a.descriptor.digest)).map((a) => ({
    ...a.descriptor, annotations: { [SUBJECT_ANNOTATION]: a.manifest.subject!.digest },
  }));
  await store.writeIndex({ ...index, manifests: [...index.manifests, ...added] });
}

export interface FoundReferrer {
  descriptor: Descriptor;
  manifest: ImageManifest;
}

/** The referrers of `subject` in the layout, optionally of one artifactType, in index.json order. */
export async function layoutReferrers(store: LayoutStore, subject: Digest, artifactType?: string): Promise<FoundReferrer[]> {
  const index = await store.readIndex();
  const out: FoundReferrer[] = [];
  for (const d of index.manifests) {
    if (d.annotations?.[SUBJECT_ANNOTATION] !== subject) continue;
    if (artifactType && d.artifactType !== artifactType) continue;
    const manifest = await readJsonBlob<ImageManifest>(store, d, 'referrer');
    if (manifest.subject?.digest !== subject) continue;
    const { annotations: _a, ...descriptor } = d;
    out.push({ descriptor, manifest });
  }
  return out;
}
