/**
 * Referrers in a registry (distribution-spec 1.1):
 * - an artifact is pushed like any image: its blobs, then its manifest by
 *   digest. A registry with the referrers API answers the PUT with
 *   `OCI-Subject`; then nothing else is needed.
 * - Otherwise the client maintains the fallback tag `sha256-<hex>` of the
 *   subject: an image index listing the referrers' descriptors (with
 *   artifactType and annotations), read, extended and written back.
 * - Listing asks `GET /v2/<name>/referrers/<digest>` first and falls back to
 *   the tag when the registry answers 404 (or anything but an index).
 * - Signatures are also written under cosign's `sha256-<hex>.sig` tag.
 *
 * Rules: the fallback index is read-modify-written, so two clients updating
 * one subject's tag at once can lose an entry (the spec's own caveat); an
 * entry already present is not written again.
 */
import { sha256 } from '../cas/blob-store.js';
import { OciasmError } from '../errors.js';
import { jsonBytes } from '../image/assemble.js';
import { type Descriptor, type Digest, type ImageIndex, type ImageManifest, MediaType } from '../oci/types.js';
import { header } from '../registry/client.js';
import type { RegistryRepository } from '../registry/repository.js';
import { type Artifact, cosignSignatureTag, fallbackTag, referrerDescriptor, withReferrer } from './artifact.js';
import { COSIGN_SIG_ARTIFACT_TYPE } from './cosign.js';

export interface PushedArtifact {
  digest: Digest;
  artifactType?: string;
  /** How the registry learnt about it. */
  via: 'referrers-api' | 'fallback-tag';
  tags: string[];
}

async function putBlobBytes(repo: RegistryRepository, desc: Descriptor, bytes: Buffer): Promise<void> {
  await repo.putBlob({ digest: desc.digest, size: desc.size }, { size: bytes.length, openAt: async function* (offset, end) { yield bytes.subarray(offset, end); } });
}

async function readFallback(repo: RegistryRepository, subject: Digest): Promise<ImageIndex | undefined> {
  try {
    const got = await repo.getManifest(fallbackTag(subject));
    const doc = JSON.parse(got.bytes.toString('utf8')) as ImageIndex;
    return Array.isArray(doc.manifests) ? doc : undefined;
  } catch (e) {
    if (e instanceof OciasmError && e.code === 'MANIFEST_UNKNOWN') return undefined;
    throw e;
  }
}

export async function pushArtifact(repo: RegistryRepository, a: Artifact): Promise<PushedArtifact> {
  const subject = a.manifest.subject;
  if (!subject) throw new OciasmError('INTERNAL', `artifact ${a.descriptor.digest} has no subject`);
  for (const b of a.blobs) await putBlobBytes(repo, b.descriptor, b.bytes);
  const put = await repo.putManifest(a.descriptor.digest, a.bytes, a.descriptor.mediaType);
  const tags: string[] = [];
  let via: PushedArtifact['via'] = 'referrers-api';
  if (!put.ociSubject) {
    via = 'fallback-tag';
    const current = await readFallback(repo, subject.digest);
    const entry = referrerDescriptor(a);
    if (!current?.manifests.some((m) => m.digest === entry.digest)) {
      const next = jsonBytes(withReferrer(current, entry));
      await repo.putManifest(fallbackTag(subject.digest), next, MediaType.ImageIndex);
    }
    tags.push(fallbackTag(subject.digest));
  }
  if (a.manifest.artifactType === COSIGN_SIG_ARTIFACT_TYPE) {
    await repo.putManifest(cosignSignatureTag(subject.digest), a.bytes, a.descriptor.mediaType);
    tags.push(cosignSignatureTag(subject.digest));
  }
  return { digest: a.descriptor.digest, ...(a.manifest.artifactType ? { artifactType: a.manifest.artifactType } : {}), via, tags };
}

/** The referrers of `subject`: the API's answer, else the fallback tag's index. */
export async function listReferrers(repo: RegistryRepository, subject: Digest, signal?: AbortSignal): Promise<Descriptor[]> {
  signal?.throwIfAborted();
  const what = `referrers of ${subject} in ${repo.label}`;
  const res = await repo.client.request({
    method: 'GET', path: `/v2/${repo.repository}/referrers/${subject}`, scopes: repo.pull, what, headers: { accept: MediaType.ImageIndex },
    limit: { bytes: repo.client.limits.maxManifestBytes, what: 'referrers index' },
  });
  if (res.status === 200 && (header(res, 'content-type') ?? '').startsWith(MediaType.ImageIndex)) {
    const doc = JSON.parse((await res.body.bytes()).toString('utf8')) as ImageIndex;
    return doc.manifests ?? [];
  }
  await res.body.dump();
  if (res.status !== 404 && res.status !== 200) throw await repo.client.unexpected(res, { method: 'GET', what });
  return (await readFallback(repo, subject))?.manifests ?? [];
}

/** A referrer's manifest, fetched by digest (the fetch checks the digest). */
export async function fetchReferrer(repo: RegistryRepository, d: Descriptor): Promise<{ manifest: ImageManifest; bytes: Buffer }> {
  const got = await repo.getManifest(d.digest);
  return { manifest: JSON.parse(got.bytes.toString('utf8')) as ImageManifest, bytes: got.bytes };
}

/** cosign's signature image of `subject`, when the `.sig` tag exists. */
export async function fetchCosignSignatures(repo: RegistryRepository, subject: Digest): Promise<ImageManifest | undefined> {
  try {
    const got = await repo.getManifest(cosignSignatureTag(subject));
    return JSON.parse(got.bytes.toString('utf8')) as ImageManifest;
  } catch (e) {
    if (e instanceof OciasmError && e.code === 'MANIFEST_UNKNOWN') return undefined;
    throw e;
  }
}

