/**
 * OCI 1.1 artifact manifests (image-spec manifest.md "Guidelines for
 * artifact usage"): `artifactType` set, the config the empty descriptor
 * (`application/vnd.oci.empty.v1+json`, the two bytes `{}`), one layer with
 * the payload, and `subject` the manifest or index it is about. Also the
 * fallback tag of distribution-spec 1.1 (`sha256-<hex>`) and cosign's
 * signature tag (`sha256-<hex>.sig`).
 *
 * Rules: pure; the bytes are canonical JSON (jsonBytes), so the same payload
 * and subject always give the same artifact digest.
 */
import { sha256 } from '../cas/blob-store.js';
import { isoTime, jsonBytes } from '../image/assemble.js';
import { Annotation, type Descriptor, type Digest, type ImageIndex, type ImageManifest, MediaType } from '../oci/types.js';

export const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
export const EMPTY_BYTES = Buffer.from('{}');
export const EMPTY_DESCRIPTOR: Descriptor = { mediaType: EMPTY_MEDIA_TYPE, digest: sha256(EMPTY_BYTES), size: 2 };

/** Our annotation on artifact entries of a layout's index.json: which manifest they refer to. */
export const SUBJECT_ANNOTATION = Annotation.ReferrerSubject;

export interface Artifact {
  descriptor: Descriptor;
  manifest: ImageManifest;
  bytes: Buffer;
  /** Blobs besides the manifest: the empty config and the payload (and any other layers). */
  blobs: { descriptor: Descriptor; bytes: Buffer }[];
}

export function subjectDescriptor(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

export function artifactManifest(
  artifactType: string, subject: Descriptor, payloads: { mediaType: string; bytes: Buffer; annotations?: Record<string, string> }[],
  epoch: number, annotations: Record<string, string> = {},
): Artifact {
  const layers = payloads.map((p) => ({
    mediaType: p.mediaType, digest: sha256(p.bytes), size: p.bytes.length, ...(p.annotations ? { annotations: p.annotations } : {}),
  }));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    artifactType,
    config: EMPTY_DESCRIPTOR,
    layers,
    subject: subjectDescriptor(subject),
    annotations: { [Annotation.Created]: isoTime(epoch), ...annotations },
  };
  const bytes = jsonBytes(manifest);
  return {
    descriptor: { mediaType: MediaType.ImageManifest, digest: sha256(bytes), size: bytes.length, artifactType },
    manifest,
    bytes,
    blobs: [{ descriptor: EMPTY_DESCRIPTOR, bytes: EMPTY_BYTES }, ...payloads.map((p, i) => ({ descriptor: layers[i]!, bytes: p.bytes }))],
  };
}

/** distribution-spec 1.1 "referrers tag schema": `<alg>-<ref>`, truncated to 128 characters. */
export function fallbackTag(digest: Digest): string {
  return digest.replace(':', '-').slice(0, 128);
}

/** cosign's signature tag. */
export function cosignSignatureTag(digest: Digest): string {
  return `${digest.replace(':', '-')}.sig`;
}

/** The descriptor a referrers index lists for an artifact: its artifactType and annotations (distribution-spec 1.1). */
export function referrerDescriptor(a: { descriptor: Descriptor; manifest: ImageManifest }): Descriptor {
  return {
    mediaType: a.descriptor.mediaType, digest: a.descriptor.digest, size: a.descriptor.size,
    ...(a.manifest.artifactType ? { artifactType: a.manifest.artifactType } : {}),
    ...(a.manifest.annotations ? { annotations: a.manifest.annotations } : {}),
  };
}

/** Adds (or keeps) `entry` in a referrers index; the order of existing entries is kept. */
export function withReferrer(index: ImageIndex | undefined, entry: Descriptor): ImageIndex {
  const manifests = (index?.manifests ?? []).filter((m) => m.digest !== entry.digest);
  return { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [...manifests, entry] };
}
