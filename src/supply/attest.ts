/**
 * The artifacts attached to one built image, made from what is already in
 * the store: an SPDX SBOM per platform manifest (subject: that manifest), a
 * SLSA provenance statement for the image (subject: the index; DSSE-signed
 * when a key is given), and, with a key, cosign signatures of the index and
 * of every platform manifest. None of it changes an image digest: artifacts
 * only point at their subject.
 *
 * Rules: deterministic except for the ECDSA signatures themselves (an SBOM
 * or an unsigned provenance is byte-identical across builds).
 */
import type { BlobStore } from '../cas/blob-store.js';
import type { Descriptor, Digest } from '../oci/types.js';
import { type Artifact, artifactManifest } from './artifact.js';
import { signatureManifest, signBytes, simpleSigningPayload } from './cosign.js';
import { DSSE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, signEnvelope } from './dsse.js';
import type { SigningKey } from './keys.js';
import { type ProvenanceInput, provenanceStatement } from './provenance.js';
import { imageSbomModel, renderSpdx, SPDX_MEDIA_TYPE } from './sbom.js';

export const IN_TOTO_ARTIFACT_TYPE = IN_TOTO_PAYLOAD_TYPE;

export interface AttestRequest {
  store: BlobStore;
  /** The image's name for humans (its ref) and the docker reference its signatures name. */
  name: string;
  dockerReference: string;
  index: Descriptor;
  platforms: { platform: string; manifest: Descriptor }[];
  epoch: number;
  tool: string;
  sbom: boolean;
  provenance?: ProvenanceInput;
  key?: SigningKey;
  signal?: AbortSignal;
}

export async function sbomArtifact(store: BlobStore, manifest: Descriptor, name: string, tool: string, epoch: number, signal?: AbortSignal): Promise<Artifact> {
  const model = await imageSbomModel(store, manifest, name, tool, epoch, signal);
  return artifactManifest(SPDX_MEDIA_TYPE, manifest, [{ mediaType: SPDX_MEDIA_TYPE, bytes: renderSpdx(model) }], epoch);
}

export function provenanceArtifact(index: Descriptor, input: ProvenanceInput, key?: SigningKey): Artifact {
  const statement = provenanceStatement(input);
  const payload = key
    ? { mediaType: DSSE_MEDIA_TYPE, bytes: Buffer.from(JSON.stringify(signEnvelope(key.privateKey, IN_TOTO_PAYLOAD_TYPE, statement))) }
    : { mediaType: IN_TOTO_PAYLOAD_TYPE, bytes: statement };
  return artifactManifest(IN_TOTO_ARTIFACT_TYPE, index, [{
    ...payload, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v1' },
  }], input.epoch, { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v1' });
}

/** cosign signatures: one signature manifest per signed digest. */
export function signatureArtifacts(key: SigningKey, dockerReference: string, subjects: Descriptor[]): Artifact[] {
  return subjects.map((s) => {
    const payload = simpleSigningPayload(dockerReference, s.digest as Digest);
    return signatureManifest(s, [{ payload, signature: signBytes(key.privateKey, payload) }]);
  });
}

export async function attestImage(req: AttestRequest): Promise<Artifact[]> {
  const out: Artifact[] = [];
  if (req.sbom) {
    for (const p of req.platforms) out.push(await sbomArtifact(req.store, p.manifest, req.name, req.tool, req.epoch, req.signal));
  }
  if (req.provenance) out.push(provenanceArtifact(req.index, req.provenance, req.key));
  if (req.key) out.push(...signatureArtifacts(req.key, req.dockerReference, [req.index, ...req.platforms.map((p) => p.manifest)]));
  return out;
}
