/**
 * Referrers kept in an OCI layout: each artifact's blobs and manifest are
 * blobs of the layout, and its descriptor is an entry of index.json with no
 * ref name, its `artifactType`, and the annotation
 * `dev.ociasm.referrer.subject` naming the subject's digest — so
 * `oci-archive:` and layout copies carry them, and tools that list
 * index.json see artifacts for what they are. The subject field of the
 * artifact manifest itself stays the authority: lookups check it.
 */
import type { LockOptions } from '../cas/layout-lock.js';
import type { LayoutStore } from '../cas/layout-store.js';
import { readJsonBlob } from '../image/read.js';
import type { Descriptor, Digest, ImageManifest } from '../oci/types.js';
import { type Artifact, SUBJECT_ANNOTATION } from './artifact.js';

export async function attachToLayout(store: LayoutStore, artifacts: Artifact[], lock: LockOptions = {}): Promise<void> {
  if (artifacts.length === 0) return;
  for (const a of artifacts) {
    for (const b of a.blobs) await store.put((async function* () { yield b.bytes; })(), b.descriptor);
    await store.put((async function* () { yield a.bytes; })(), a.descriptor);
  }
  // Under the layout's index.json lock, as refs are written (read, add the missing entries, replace atomically).
  await store.updateIndex((index) => {
    const have = new Set(index.manifests.map((d) => d.digest));
    const added: Descriptor[] = artifacts.filter((a) => !have.has(a.descriptor.digest)).map((a) => ({
      ...a.descriptor, annotations: { [SUBJECT_ANNOTATION]: a.manifest.subject!.digest },
    }));
    return { ...index, manifests: [...index.manifests, ...added] };
  }, lock);
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

/** A referrer of the layout as an Artifact (its manifest and blobs read back), ready to push. */
export async function loadArtifact(store: LayoutStore, found: FoundReferrer): Promise<Artifact> {
  const bytes = await store.readBytes(found.descriptor.digest);
  const blobs = [];
  for (const d of [found.manifest.config, ...found.manifest.layers]) blobs.push({ descriptor: d, bytes: await store.readBytes(d.digest) });
  return { descriptor: found.descriptor, manifest: found.manifest, bytes, blobs };
}

/** Every referrer of `root` and, for an index, of the manifests it lists. */
export async function referrersOfImage(store: LayoutStore, root: Descriptor): Promise<Artifact[]> {
  const subjects: Digest[] = [root.digest];
  if (root.mediaType === 'application/vnd.oci.image.index.v1+json' || root.mediaType === 'application/vnd.docker.distribution.manifest.list.v2+json') {
    const index = await readJsonBlob<{ manifests: Descriptor[] }>(store, root, 'index');
    subjects.push(...index.manifests.map((m) => m.digest));
  }
  const out: Artifact[] = [];
  for (const s of subjects) for (const f of await layoutReferrers(store, s)) out.push(await loadArtifact(store, f));
  return out;
}
