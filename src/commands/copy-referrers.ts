/**
 * `--referrers` for copy (and always for push): after the image, its OCI 1.1
 * referrers (SBOMs, provenance, signatures) go to the destination, as
 * regctl's `image copy --referrers` does. Sources: an `oci:` layout (its
 * referrer entries in index.json) or a registry (the referrers API, else the
 * fallback tag). Destinations: a layout (attached to index.json) or a
 * registry (referrers API, else the fallback tag, plus cosign's `.sig` tag).
 * Other transports cannot hold referrers: asking is an error, not a silent drop.
 * The subjects are the copied root and, when the whole source image was
 * copied, every manifest of its index.
 */
import { OciasmError } from '../errors.js';
import { sha256 } from '../cas/blob-store.js';
import { type Digest, type ImageIndex, isIndexMediaType } from '../oci/types.js';
import type { Artifact } from '../supply/artifact.js';
import { attachToLayout, layoutReferrers, loadArtifact } from '../supply/layout-referrers.js';
import { fetchReferrer, listReferrers, pushArtifact } from '../supply/registry-referrers.js';
import { RegistryImageDestination, RegistryImageSource } from '../transports/docker.js';
import { LayoutImageDestination, LayoutImageSource } from '../transports/oci.js';
import type { ImageDestination, ImageSource } from '../transports/types.js';

async function subjects(source: ImageSource, copied: Digest): Promise<Digest[]> {
  const root = await source.getManifest();
  if (root.descriptor.digest !== copied || !isIndexMediaType(root.descriptor.mediaType)) return [copied];
  const index = JSON.parse(root.bytes.toString('utf8')) as ImageIndex;
  return [copied, ...index.manifests.map((m) => m.digest)];
}

async function sourceReferrers(source: ImageSource, subject: Digest): Promise<Artifact[]> {
  if (source instanceof LayoutImageSource) {
    const out: Artifact[] = [];
    for (const f of await layoutReferrers(source.store, subject)) out.push(await loadArtifact(source.store, f));
    return out;
  }
  if (source instanceof RegistryImageSource) {
    const out: Artifact[] = [];
    for (const d of await listReferrers(source.repo, subject)) {
      const { manifest, bytes } = await fetchReferrer(source.repo, d);
      if (manifest.subject?.digest !== subject) continue; // a stale or foreign entry of the fallback index
      const blobs = [];
      for (const b of [manifest.config, ...manifest.layers]) {
        const data = await source.repo.readBytes(b.digest);
        if (sha256(data) !== b.digest) throw new OciasmError('DIGEST_MISMATCH', `${source.name}: referrer blob ${b.digest} has other content`);
        blobs.push({ descriptor: b, bytes: data });
      }
      out.push({ descriptor: { mediaType: d.mediaType, digest: d.digest, size: bytes.length, ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}) }, manifest, bytes, blobs });
    }
    return out;
  }
  throw new OciasmError('REFERENCE_INVALID', `--referrers: ${source.name} cannot list referrers (oci: and docker:// can)`);
}

async function putReferrer(destination: ImageDestination, a: Artifact): Promise<void> {
  if (destination instanceof RegistryImageDestination) await pushArtifact(destination.repo, a);
  else if (destination instanceof LayoutImageDestination) await attachToLayout(destination.store, [a]);
  else throw new OciasmError('REFERENCE_INVALID', `--referrers: ${destination.name} cannot hold referrers (oci: and docker:// can)`);
}

/** Copies the referrers of what was copied; answers how many. */
export async function carryReferrers(source: ImageSource, destination: ImageDestination, copied: Digest): Promise<Digest[]> {
  const done: Digest[] = [];
  for (const s of await subjects(source, copied)) {
    for (const a of await sourceReferrers(source, s)) {
      await putReferrer(destination, a);
      done.push(a.descriptor.digest);
    }
  }
  return done;
}
