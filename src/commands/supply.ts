/**
 * `ociasm sbom`, `ociasm sign`, `ociasm verify-signature` and `ociasm keygen`
 * (docs/supply-chain.md). Images are `oci:DIR[:REF]` (or a `DIR[:REF]` that
 * is a layout) or registry references (`docker://` optional). Signatures go
 * where the image is: referrers in the layout's index.json, or the
 * registry's `sha256-<hex>.sig` tag plus its referrers (API or fallback tag).
 */
import { constants, existsSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import path from 'node:path';
import { parsePlatform, formatPlatform } from '../codec/platform.js';
import { OciasmError, ioError } from '../errors.js';
import { platformMatches, readJsonBlob } from '../image/read.js';
import { type Descriptor, type Digest, type ImageConfig, type ImageIndex, type ImageManifest, isIndexMediaType, type Platform } from '../oci/types.js';
import { Registries } from '../registry/registries.js';
import type { RegistryCliOptions } from '../pipeline/registry-session.js';
import type { Artifact } from '../supply/artifact.js';
import { COSIGN_SIG_ARTIFACT_TYPE, SIGNATURE_ANNOTATION, SIMPLESIGNING_MEDIA_TYPE, signatureManifest, signBytes, simpleSigningPayload, verifyBytes } from '../supply/cosign.js';
import { type ImageLocation, openImage } from '../supply/image-ref.js';
import { generateKeyPair, keygenPassword, loadSigningKey, loadVerifyKey } from '../supply/keys.js';
import { attachToLayout, layoutReferrers } from '../supply/layout-referrers.js';
import { fetchCosignSignatures, pushArtifact, type PushedArtifact } from '../supply/registry-referrers.js';
import { readImageFiles } from '../supply/image-files.js';
import { renderCycloneDx, renderSpdx, sbomModel } from '../supply/sbom.js';
import type { KeyObject } from 'node:crypto';

export interface SupplyCommandOptions extends RegistryCliOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

function registriesFor(opts: SupplyCommandOptions, push: string[] = []): { get: () => Registries; close: () => Promise<void> } {
  let r: Registries | undefined;
  return {
    get: () => (r ??= new Registries({
      env: opts.env, pushRegistries: push,
      ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
      ...(opts.caFiles ? { caFiles: opts.caFiles } : {}),
      ...(opts.creds ? { creds: opts.creds } : {}),
      ...(opts.debug ? { debug: opts.debug } : {}),
    })),
    close: async () => { await r?.close(); },
  };
}

function pushRegistryOf(text: string): string[] {
  const m = /^(?:docker:\/\/)?([^/]+)\//.exec(text);
  return m && (m[1]!.includes('.') || m[1]!.includes(':') || m[1] === 'localhost') ? [m[1]!] : [];
}

/** The root and, for an index, every manifest it lists. */
async function subjectsOf(loc: ImageLocation): Promise<{ descriptor: Descriptor; platform?: Platform }[]> {
  const out: { descriptor: Descriptor; platform?: Platform }[] = [{ descriptor: loc.root }];
  if (isIndexMediaType(loc.root.mediaType)) {
    const index = await readManifestJson<ImageIndex>(loc, loc.root);
    for (const m of index.manifests) out.push({ descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.size }, ...(m.platform ? { platform: m.platform } : {}) });
  }
  return out;
}

async function readManifestJson<T>(loc: ImageLocation, d: Descriptor): Promise<T> {
  if (loc.kind === 'registry') return JSON.parse((await loc.store.getManifest(d.digest)).bytes.toString('utf8')) as T;
  return readJsonBlob<T>(loc.store, d, 'manifest');
}

export async function sbomCommand(src: string, opts: SupplyCommandOptions & { format?: string; platform?: string; tool: string }): Promise<Buffer> {
  const format = opts.format ?? 'spdx';
  if (format !== 'spdx' && format !== 'cyclonedx') throw new OciasmError('REFERENCE_INVALID', `--format ${format}: choose spdx or cyclonedx`);
  const regs = registriesFor(opts);
  try {
    const loc = await openImage(src, regs.get);
    let manifest = loc.root;
    if (isIndexMediaType(loc.root.mediaType)) {
      const index = await readManifestJson<ImageIndex>(loc, loc.root);
      const images = index.manifests.filter((m) => m.platform && m.platform.architecture !== 'unknown');
      const want = opts.platform ? parsePlatform(opts.platform) : undefined;
      const hit = want ? images.find((m) => platformMatches(want, m.platform)) : images.length === 1 ? images[0] : undefined;
      if (!hit) {
        const have = images.map((m) => formatPlatform(m.platform!)).join(', ');
        throw new OciasmError('SBOM_PLATFORM', want
          ? `${src} has no ${formatPlatform(want)} image; it has: ${have}`
          : `${src} is an index of ${images.length} platforms; name one with --platform (${have})`);
      }
      manifest = { mediaType: hit.mediaType, digest: hit.digest, size: hit.size };
    }
    const m = await readManifestJson<ImageManifest>(loc, manifest);
    const config = await readJsonBlob<ImageConfig>(loc.store, m.config, 'config');
    const files = await readImageFiles(loc.store, m, opts.signal);
    const model = sbomModel({ name: loc.name, manifestDigest: manifest.digest, manifest: m, config, tool: opts.tool }, files);
    return format === 'spdx' ? renderSpdx(model) : renderCycloneDx(model);
  } finally {
    await regs.close();
  }
}

export interface SignResult {
  image: string;
  signed: { digest: string; signature: string }[];
  pushed?: PushedArtifact[];
}

export async function signCommand(keyFile: string, ref: string, opts: SupplyCommandOptions): Promise<SignResult> {
  const key = await loadSigningKey(keyFile, opts.env);
  const regs = registriesFor(opts, pushRegistryOf(ref));
  try {
    const loc = await openImage(ref, regs.get);
    const dockerReference = loc.name;
    const subjects = await subjectsOf(loc);
    const artifacts: Artifact[] = [];
    for (const s of subjects) {
      const payload = simpleSigningPayload(dockerReference, s.descriptor.digest);
      let existing: Descriptor[] = [];
      if (loc.kind === 'registry') {
        const current = await fetchCosignSignatures(loc.store, s.descriptor.digest);
        existing = current?.layers ?? [];
        // As cosign does: a signature of the same payload by the same key is not added twice.
        if (await alreadySigned(loc, existing, payload, key.publicKey)) continue;
      }
      artifacts.push(signatureManifest(s.descriptor, [{ payload, signature: signBytes(key.privateKey, payload) }], existing));
    }
    const result: SignResult = { image: ref, signed: artifacts.map((a) => ({ digest: a.manifest.subject!.digest, signature: a.descriptor.digest })) };
    if (loc.kind === 'layout') await attachToLayout(loc.store, artifacts);
    else {
      result.pushed = [];
      for (const a of artifacts) result.pushed.push(await pushArtifact(loc.store, a));
    }
    return result;
  } finally {
    await regs.close();
  }
}

async function alreadySigned(loc: ImageLocation, layers: Descriptor[], payload: Buffer, pub: KeyObject): Promise<boolean> {
  for (const l of layers) {
    const sig = l.annotations?.[SIGNATURE_ANNOTATION];
    if (!sig || l.mediaType !== SIMPLESIGNING_MEDIA_TYPE) continue;
    const bytes = await loc.store.readBytes(l.digest);
    if (bytes.equals(payload) && verifyBytes(pub, bytes, sig)) return true;
  }
  return false;
}

export interface VerifySignatureResult {
  image: string;
  verified: { digest: string; platform?: string; dockerReference: string }[];
}

/** Signature layers found for `digest`: the `.sig` tag and referrers (registry), referrers (layout). */
async function signatureLayers(loc: ImageLocation, digest: Digest): Promise<Descriptor[]> {
  const manifests: ImageManifest[] = [];
  if (loc.kind === 'registry') {
    const tagged = await fetchCosignSignatures(loc.store, digest);
    if (tagged) manifests.push(tagged);
  } else {
    for (const r of await layoutReferrers(loc.store, digest, COSIGN_SIG_ARTIFACT_TYPE)) manifests.push(r.manifest);
  }
  return manifests.flatMap((m) => m.layers.filter((l) => l.mediaType === SIMPLESIGNING_MEDIA_TYPE));
}

export async function verifySignatureCommand(keyFile: string, ref: string, opts: SupplyCommandOptions): Promise<VerifySignatureResult> {
  const pub = await loadVerifyKey(keyFile, opts.env);
  const regs = registriesFor(opts);
  try {
    const loc = await openImage(ref, regs.get);
    const verified: VerifySignatureResult['verified'] = [];
    for (const s of await subjectsOf(loc)) {
      const what = `${ref}${s.platform ? ` (${formatPlatform(s.platform)})` : ''} ${s.descriptor.digest}`;
      const layers = await signatureLayers(loc, s.descriptor.digest);
      if (layers.length === 0) throw new OciasmError('SIGNATURE_MISSING', `${what}: no signature`);
      let ok: string | undefined;
      const reasons: string[] = [];
      for (const l of layers) {
        const sig = l.annotations?.[SIGNATURE_ANNOTATION];
        if (!sig) { reasons.push(`layer ${l.digest.slice(7, 19)} has no ${SIGNATURE_ANNOTATION}`); continue; }
        const payload = await loc.store.readBytes(l.digest);
        if (!verifyBytes(pub, payload, sig)) { reasons.push(`a signature does not verify with ${keyFile}`); continue; }
        let doc: { critical?: { image?: { 'docker-manifest-digest'?: string }; identity?: { 'docker-reference'?: string }; type?: string } };
        try {
          doc = JSON.parse(payload.toString('utf8'));
        } catch {
          reasons.push('a signed payload is not JSON');
          continue;
        }
        if (doc.critical?.type !== 'cosign container image signature') { reasons.push(`a signed payload has type "${doc.critical?.type}"`); continue; }
        const signedDigest = doc.critical?.image?.['docker-manifest-digest'];
        if (signedDigest !== s.descriptor.digest) { reasons.push(`a signature is for ${signedDigest}, not this manifest`); continue; }
        ok = doc.critical?.identity?.['docker-reference'] ?? '';
        break;
      }
      if (ok === undefined) throw new OciasmError('SIGNATURE_INVALID', `${what}: no valid signature: ${[...new Set(reasons)].join('; ')}`);
      verified.push({ digest: s.descriptor.digest, ...(s.platform ? { platform: formatPlatform(s.platform) } : {}), dockerReference: ok });
    }
    return { image: ref, verified };
  } finally {
    await regs.close();
  }
}

/** `ociasm keygen [--output-key-prefix P]`: P.key (cosign's encrypted format, mode 0600) and P.pub; never overwrites. */
export async function keygenCommand(prefix: string, env: NodeJS.ProcessEnv): Promise<{ privateKey: string; publicKey: string }> {
  const files = { privateKey: path.resolve(`${prefix}.key`), publicKey: path.resolve(`${prefix}.pub`) };
  for (const f of Object.values(files)) if (existsSync(f)) throw new OciasmError('KEY_EXISTS', `${f} exists already; not overwritten`);
  const { privatePem, publicPem } = generateKeyPair(keygenPassword(env));
  const write = async (file: string, text: string, mode: number) => {
    let fh;
    try {
      fh = await openFile(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new OciasmError('KEY_EXISTS', `${file} exists already; not overwritten`);
      throw ioError('cannot create', file, e);
    }
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
  };
  await write(files.privateKey, privatePem, 0o600);
  await write(files.publicKey, publicPem, 0o644);
  return files;
}
