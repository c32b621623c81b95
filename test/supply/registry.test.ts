/**
 * SBOM, provenance and signatures pushed with the image, read back with
 * tools that are not ours: Debian's docker-registry (no referrers API, so
 * the fallback tag `sha256-<hex>` is what skopeo reads), a small registry
 * with the referrers API (test/harness/referrers-registry.ts) for the
 * OCI-Subject path, and an independent cosign verifier
 * (test/harness/cosign-verify.ts) that refuses another key, an unsigned
 * image and a signature moved onto another manifest.
 */
import { createHash, createPublicKey, createVerify, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignEncryptedPem, cosignVerify } from '../harness/cosign-verify.js';
import { startReferrersRegistry, type ReferrersRegistry } from '../harness/referrers-registry.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { must, ociasm, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-supply-reg-');
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const PASSWORD = 'pw-Key-0815';
const env = { ...process.env, OCIASM_CACHE_DIR: j('cache'), COSIGN_PASSWORD: PASSWORD };
let reg: TestRegistry;
let refReg: ReferrersRegistry;
let out: any;
let pub: string;

const skopeo = (...args: string[]) => must('skopeo', [args[0]!, '--tls-verify=false', ...args.slice(1)]);
const rawJson = async (ref: string) => JSON.parse(await skopeo('inspect', '--raw', `docker://${ref}`));
const blob = async (host: string, repo: string, digest: string) => Buffer.from(await (await fetch(`http://${host}/v2/${repo}/blobs/${digest}`)).arrayBuffer());
const tagOf = (d: string) => d.replace(':', '-');

function buildFile(name: string, content: string): string {
  const file = j(`${name}.yaml`);
  writeFileSync(file, `
sourceDateEpoch: 1700000000
images:
  - name: ${name}
    tag: "1.0"
    platforms: [linux/amd64, linux/arm64]
    paths: [{ path: /etc/app, type: file, content: "${content} {{platform}}\\n" }]
    push: ["${reg.host}/supply/${name}:{{tag}}", "${refReg.host}/supply/${name}:{{tag}}"]
`);
  return file;
}

beforeAll(async () => {
  reg = await startRegistry();
  refReg = await startReferrersRegistry();
  const kg = await ociasm(['keygen', '--output-key-prefix', j('cosign')], { env });
  expect(kg.code, kg.stderr).toBe(0);
  pub = readFileSync(j('cosign.pub'), 'utf8');
  const r = await ociasm(['build', '-f', buildFile('app', 'signed'), '-o', j('oci'), '--sbom', '--provenance', '--sign', j('cosign.key'), '--push', '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  out = JSON.parse(r.stdout);
});
afterAll(async () => {
  await reg?.stop();
  await refReg?.stop();
  tmp.cleanup();
});

describe('supply chain in a registry without the referrers API (fallback tag)', () => {
  it('makes the SBOM of each platform readable through its sha256-<hex> tag', async () => {
    for (const p of out.images[0].platforms) {
      const index = await rawJson(`${reg.host}/supply/app:${tagOf(p.manifest.digest)}`);
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      const sbom = index.manifests.find((m: any) => m.artifactType === 'application/spdx+json');
      expect(sbom, JSON.stringify(index)).toBeDefined();
      const manifest = await rawJson(`${reg.host}/supply/app@${sbom.digest}`);
      expect(manifest.subject.digest).toBe(p.manifest.digest);
      expect(manifest.config.mediaType).toBe('application/vnd.oci.empty.v1+json');
      const doc = JSON.parse((await blob(reg.host, 'supply/app', manifest.layers[0].digest)).toString('utf8'));
      expect(doc.spdxVersion).toBe('SPDX-2.3');
      expect(doc.files.map((f: any) => f.fileName)).toEqual(['./etc/app']);
      expect(doc.files[0].checksums[1].checksumValue).toBe(createHash('sha256').update(`signed ${p.platform}\n`).digest('hex'));
    }
  });

  it('makes the DSSE-signed SLSA provenance readable through the index fallback tag, and the envelope verifies', async () => {
    const img = out.images[0];
    const index = await rawJson(`${reg.host}/supply/app:${tagOf(img.index.digest)}`);
    const prov = index.manifests.find((m: any) => m.artifactType === 'application/vnd.in-toto+json');
    expect(prov.annotations['in-toto.io/predicate-type']).toBe('https://slsa.dev/provenance/v1');
    const manifest = await rawJson(`${reg.host}/supply/app@${prov.digest}`);
    expect(manifest.layers[0].mediaType).toBe('application/vnd.dsse.envelope.v1+json');
    const envl = JSON.parse((await blob(reg.host, 'supply/app', manifest.layers[0].digest)).toString('utf8'));
    const body = Buffer.from(envl.payload, 'base64');
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${envl.payloadType.length} ${envl.payloadType} ${body.length} `), body]);
    const v = createVerify('SHA256');
    v.update(pae);
    expect(v.verify(createPublicKey(pub), Buffer.from(envl.signatures[0].sig, 'base64'))).toBe(true);
    const st = JSON.parse(body.toString('utf8'));
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.subject[0].digest.sha256).toBe(img.index.digest.slice(7));
    expect(st.subject.slice(1).map((s: any) => `sha256:${s.digest.sha256}`)).toEqual(img.platforms.map((p: any) => p.manifest.digest));
    const bp = st.predicate.buildDefinition;
    expect(bp.externalParameters.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(bp.externalParameters.buildFile.digest.sha256).toBe(createHash('sha256').update(readFileSync(j('app.yaml'))).digest('hex'));
    expect(bp.internalParameters.sourceDateEpoch).toBe(1700000000);
    expect(JSON.stringify(st)).not.toContain(PASSWORD);
  });

  it('signs the index and every platform manifest so an independent cosign verifier accepts them', async () => {
    const img = out.images[0];
    expect(await cosignVerify(reg.host, 'supply/app', '1.0', pub)).toEqual({ ok: true, digest: img.index.digest, signatures: 1 });
    for (const p of img.platforms) expect((await cosignVerify(reg.host, 'supply/app', p.manifest.digest, pub)).ok).toBe(true);
    const ours = await ociasm(['verify-signature', j('cosign.pub'), `${reg.host}/supply/app:1.0`], { env });
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout.split('\n').filter((l) => l.startsWith('verified'))).toHaveLength(3);
  });

  it('is refused with another key, unsigned, and when a signature is moved onto another manifest', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const otherPub = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(j('other.pub'), otherPub);
    expect(await cosignVerify(reg.host, 'supply/app', '1.0', otherPub)).toMatchObject({ ok: false, reason: expect.stringContaining('invalid signature') });
    const wrong = await ociasm(['verify-signature', j('other.pub'), `${reg.host}/supply/app:1.0`], { env });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('SIGNATURE_INVALID');

    const r = await ociasm(['build', '-f', buildFile('plain', 'unsigned'), '-o', j('oci-plain'), '--push', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const plainDigest = JSON.parse(r.stdout).images[0].index.digest;
    expect(await cosignVerify(reg.host, 'supply/plain', '1.0', pub)).toMatchObject({ ok: false, reason: 'no signatures found' });
    const unsigned = await ociasm(['verify-signature', j('cosign.pub'), `${reg.host}/supply/plain:1.0`], { env });
    expect(unsigned.stderr).toContain('SIGNATURE_MISSING');

    // The manifest changed after signing: the signed image's signature copied onto the other image's .sig tag.
    const signedIndex = out.images[0].index.digest;
    await skopeo('copy', '--dest-tls-verify=false', `docker://${reg.host}/supply/app:${tagOf(signedIndex)}.sig`, `docker://${reg.host}/supply/plain:${tagOf(plainDigest)}.sig`);
    expect(await cosignVerify(reg.host, 'supply/plain', '1.0', pub)).toMatchObject({ ok: false, reason: expect.stringContaining(`payload signs ${signedIndex}`) });
    const moved = await ociasm(['verify-signature', j('cosign.pub'), `${reg.host}/supply/plain:1.0`], { env });
    expect(moved.code).not.toBe(0);
    expect(moved.stderr).toContain(`a signature is for ${signedIndex}, not this manifest`);
  });

  it('`ociasm sign` signs a pushed image with an openssl PKCS#8 key, once however often it runs', async () => {
    await must('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', j('openssl.key')]);
    const osslPub = await must('openssl', ['pkey', '-in', j('openssl.key'), '-pubout']);
    const ref = `${reg.host}/supply/plain:1.0`;
    for (let i = 0; i < 2; i++) {
      const s = await ociasm(['sign', j('openssl.key'), ref], { env });
      expect(s.code, s.stderr).toBe(0);
    }
    const v = await cosignVerify(reg.host, 'supply/plain', '1.0', osslPub);
    expect(v.ok).toBe(true);
    // the moved signature of the other image is still there; ours was appended once
    const digest = (v as any).digest;
    const sig = await rawJson(`${reg.host}/supply/plain:${tagOf(digest)}.sig`);
    expect(sig.layers).toHaveLength(2);
  });

  it('reads keys in cosign\'s encrypted format and refuses a wrong or missing password without printing it', async () => {
    const k = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(j('legacy.key'), cosignEncryptedPem(k.privateKey.export({ type: 'pkcs8', format: 'der' }), 'legacy-pw'));
    const ref = `${reg.host}/supply/plain:1.0`;
    const ok = await ociasm(['sign', j('legacy.key'), ref], { env: { ...env, COSIGN_PASSWORD: 'legacy-pw' } });
    expect(ok.code, ok.stderr).toBe(0);
    expect((await cosignVerify(reg.host, 'supply/plain', '1.0', k.publicKey.export({ type: 'spki', format: 'pem' }).toString())).ok).toBe(true);
    const bad = await ociasm(['sign', j('legacy.key'), ref], { env: { ...env, COSIGN_PASSWORD: 'not-it-123' } });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('KEY_PASSWORD');
    expect(bad.stderr).not.toContain('not-it-123');
    const { COSIGN_PASSWORD: _drop, ...noPw } = env;
    const none = await ociasm(['build', '-f', j('app.yaml'), '-o', j('oci-x'), '--sign', j('cosign.key')], { env: noPw });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('set its password in COSIGN_PASSWORD');
  });
});

describe('ociasm push', () => {
  it("carries the layout's referrers along with the image", async () => {
    const r = await ociasm(['push', `${j('oci')}:app:1.0`, `${reg.host}/supply/pushed:1.0`, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).referrers).toHaveLength(out.attached.length);
    const p = out.images[0].platforms[0];
    const index = await rawJson(`${reg.host}/supply/pushed:${tagOf(p.manifest.digest)}`);
    expect(index.manifests.map((m: any) => m.artifactType).sort()).toEqual(['application/spdx+json', 'application/vnd.dev.cosign.artifact.sig.v1+json']);
    expect(await cosignVerify(reg.host, 'supply/pushed', '1.0', pub)).toMatchObject({ ok: true });
  });

  it('copy --referrers carries them registry → layout (from the fallback tag) and registry → registry (into the referrers API)', async () => {
    const toLayout = await ociasm(['copy', '--referrers', `docker://${reg.host}/supply/app:1.0`, `oci:${j('copied')}:app:1.0`, '--json'], { env });
    expect(toLayout.code, toLayout.stderr).toBe(0);
    expect(JSON.parse(toLayout.stdout).referrers).toHaveLength(out.attached.length);
    const v = await ociasm(['verify-signature', j('cosign.pub'), `oci:${j('copied')}:app:1.0`], { env });
    expect(v.code, v.stderr).toBe(0);
    const sbom = await ociasm(['sbom', `oci:${j('copied')}:app:1.0`, '--platform', 'linux/arm64']);
    expect(JSON.parse(sbom.stdout).files.map((f: any) => f.fileName)).toEqual(['./etc/app']);
    const toApi = await ociasm(['copy', '--referrers', `${reg.host}/supply/app:1.0`, `${refReg.host}/supply/copied:1.0`, '--json'], { env });
    expect(toApi.code, toApi.stderr).toBe(0);
    expect(await cosignVerify(refReg.host, 'supply/copied', '1.0', pub)).toMatchObject({ ok: true });
    expect(refReg.tags('supply/copied').filter((t) => /^sha256-[a-f0-9]{64}$/.test(t))).toEqual([]);
    const plainCopy = await ociasm(['copy', `${reg.host}/supply/app:1.0`, `oci:${j('copied-plain')}:app:1.0`, '--json'], { env });
    expect(JSON.parse(plainCopy.stdout).referrers).toBeUndefined();
  });
});

describe('signatures in a layout', () => {
  it('are referrers of the layout that verify-signature accepts with the right key only', async () => {
    const ok = await ociasm(['verify-signature', j('cosign.pub'), `oci:${j('oci')}:app:1.0`, '--json'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).verified.map((v: any) => v.digest)).toEqual([out.images[0].index.digest, ...out.images[0].platforms.map((p: any) => p.manifest.digest)]);
    const wrong = await ociasm(['verify-signature', j('other.pub'), `oci:${j('oci')}:app:1.0`], { env });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('SIGNATURE_INVALID');
    const unsigned = await ociasm(['verify-signature', j('cosign.pub'), `oci:${j('oci-plain')}:plain:1.0`], { env });
    expect(unsigned.stderr).toContain('SIGNATURE_MISSING');
  });
});

describe('supply chain in a registry with the referrers API', () => {
  it('answers OCI-Subject, so no fallback tag is written, and lists the referrers through the API', async () => {
    const img = out.images[0];
    const tags = refReg.tags('supply/app');
    expect(tags.filter((t) => /^sha256-[a-f0-9]{64}$/.test(t))).toEqual([]);
    expect(tags.filter((t) => t.endsWith('.sig'))).toHaveLength(3);
    for (const p of img.platforms) {
      const res = await fetch(`http://${refReg.host}/v2/supply/app/referrers/${p.manifest.digest}?artifactType=application/spdx%2Bjson`);
      const index = await res.json() as any;
      expect(index.manifests).toHaveLength(1);
    }
    const viaApi = out.pushedArtifacts.filter((a: any) => a.via === 'referrers-api');
    const viaTag = out.pushedArtifacts.filter((a: any) => a.via === 'fallback-tag');
    expect(viaApi.length).toBe(viaTag.length);
    expect(await cosignVerify(refReg.host, 'supply/app', '1.0', pub)).toMatchObject({ ok: true });
  });
});
