/**
 * Signatures in cosign's format (sigstore/cosign "Signature Specification"):
 * - the payload is cosign's simple-signing JSON naming the docker reference
 *   and the signed manifest digest, key order as cosign writes it;
 * - the signature is ECDSA P-256 over SHA-256 of the payload bytes, DER,
 *   base64, in the layer annotation `dev.cosignproject.cosign/signature`;
 * - the signature manifest holds one layer per signature
 *   (`application/vnd.dev.cosign.simplesigning.v1+json`) and is stored under
 *   the tag `sha256-<hex>.sig`, where cosign, Kyverno and policy-controller
 *   look. It also names the signed manifest as its OCI 1.1 `subject` (cosign
 *   ignores the field), so it is found through referrers too.
 *
 * Rules: signing is deterministic for the payload (ECDSA itself is not:
 * each signature differs, every one of them verifies).
 */
import { type KeyObject, sign, verify } from 'node:crypto';
import { sha256 } from '../cas/blob-store.js';
import { jsonBytes } from '../image/assemble.js';
import { type Descriptor, type Digest, type ImageManifest, MediaType } from '../oci/types.js';
import { type Artifact, subjectDescriptor } from './artifact.js';

export const SIMPLESIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIG_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

export function simpleSigningPayload(dockerReference: string, digest: Digest): Buffer {
  return Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional: null,
  }));
}

export function signBytes(key: KeyObject, data: Buffer): string {
  return sign('sha256', data, key).toString('base64');
}

export function verifyBytes(key: KeyObject, data: Buffer, sigB64: string): boolean {
  try {
    return verify('sha256', data, key, Buffer.from(sigB64, 'base64'));
  } catch {
    return false;
  }
}

export interface SignatureLayer {
  payload: Buffer;
  signature: string;
}

/**
 * cosign's signature image: a config listing the payloads' digests as
 * diff_ids (as go-containerregistry's empty image with layers appended
 * does), and one layer per signature.
 */
export function signatureManifest(subject: Descriptor, sigs: SignatureLayer[], existing: Descriptor[] = []): Artifact {
  const added: Descriptor[] = sigs.map((s) => ({
    mediaType: SIMPLESIGNING_MEDIA_TYPE, digest: sha256(s.payload), size: s.payload.length, annotations: { [SIGNATURE_ANNOTATION]: s.signature },
  }));
  const layers = [...existing, ...added];
  const config = jsonBytes({
    architecture: '', created: '0001-01-01T00:00:00Z', history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
    os: '', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: {},
  });
  const configDesc: Descriptor = { mediaType: MediaType.ImageConfig, digest: sha256(config), size: config.length };
  const manifest: ImageManifest = {
    schemaVersion: 2, mediaType: MediaType.ImageManifest, artifactType: COSIGN_SIG_ARTIFACT_TYPE,
    config: configDesc, layers, subject: subjectDescriptor(subject),
  };
  const bytes = jsonBytes(manifest);
  return {
    descriptor: { mediaType: MediaType.ImageManifest, digest: sha256(bytes), size: bytes.length, artifactType: COSIGN_SIG_ARTIFACT_TYPE },
    manifest, bytes,
    blobs: [{ descriptor: configDesc, bytes: config }, ...sigs.map((s, i) => ({ descriptor: added[i]!, bytes: s.payload }))],
  };
}
