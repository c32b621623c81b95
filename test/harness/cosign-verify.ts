/**
 * An independent cosign signature verifier for the tests, written from
 * cosign's published "Signature Specification" and sharing no code with
 * ociasm: it talks HTTP to the registry itself (fetch), resolves the tag to
 * a manifest digest, reads `<repo>:sha256-<hex>.sig`, and accepts the image
 * only if one layer's payload (a) has the blob digest its descriptor names,
 * (b) carries a `dev.cosignproject.cosign/signature` that verifies with the
 * public key (ECDSA P-256, SHA-256, DER), and (c) is a simple-signing payload
 * whose docker-manifest-digest is the digest the tag resolves to. Also a
 * cosign-format encrypted key writer, written from the same specification.
 */
import { createHash, createPublicKey, createVerify, randomBytes, scryptSync } from 'node:crypto';
import nacl from 'tweetnacl';

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export type Verdict = { ok: true; digest: string; signatures: number } | { ok: false; digest?: string; reason: string };

async function getManifest(host: string, repo: string, ref: string): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** Verifies `host/repo:tagOrDigest` (a plain-HTTP loopback registry) with a PEM public key. */
export async function cosignVerify(host: string, repo: string, ref: string, publicKeyPem: string): Promise<Verdict> {
  const key = createPublicKey(publicKeyPem);
  const m = await getManifest(host, repo, ref);
  if (m.status !== 200) return { ok: false, reason: `image ${ref}: HTTP ${m.status}` };
  const digest = `sha256:${createHash('sha256').update(m.bytes).digest('hex')}`;
  const sigTag = `${digest.replace(':', '-')}.sig`;
  const sig = await getManifest(host, repo, sigTag);
  if (sig.status === 404) return { ok: false, digest, reason: 'no signatures found' };
  if (sig.status !== 200) return { ok: false, digest, reason: `${sigTag}: HTTP ${sig.status}` };
  const manifest = JSON.parse(sig.bytes.toString('utf8')) as { layers: { mediaType: string; digest: string; annotations?: Record<string, string> }[] };
  let good = 0;
  const reasons: string[] = [];
  for (const layer of manifest.layers) {
    if (layer.mediaType !== 'application/vnd.dev.cosign.simplesigning.v1+json') continue;
    const res = await fetch(`http://${host}/v2/${repo}/blobs/${layer.digest}`);
    const payload = Buffer.from(await res.arrayBuffer());
    if (`sha256:${createHash('sha256').update(payload).digest('hex')}` !== layer.digest) { reasons.push('payload digest mismatch'); continue; }
    const b64 = layer.annotations?.['dev.cosignproject.cosign/signature'];
    if (!b64) { reasons.push('no signature annotation'); continue; }
    const v = createVerify('SHA256');
    v.update(payload);
    if (!v.verify(key, Buffer.from(b64, 'base64'))) { reasons.push('invalid signature'); continue; }
    const doc = JSON.parse(payload.toString('utf8'));
    if (doc?.critical?.type !== 'cosign container image signature') { reasons.push('wrong payload type'); continue; }
    if (doc.critical.image?.['docker-manifest-digest'] !== digest) { reasons.push(`payload signs ${doc.critical.image?.['docker-manifest-digest']}`); continue; }
    good++;
  }
  return good > 0 ? { ok: true, digest, signatures: good } : { ok: false, digest, reason: reasons.join('; ') || 'no simple-signing layers' };
}

/** A private key (PKCS#8 DER) in cosign's encrypted PEM, N=32768 as older cosign writes it. */
export function cosignEncryptedPem(pkcs8Der: Buffer, password: string, label = 'ENCRYPTED COSIGN PRIVATE KEY'): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const boxKey = scryptSync(password, salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 << 20 });
  const ct = Buffer.from(nacl.secretbox(new Uint8Array(pkcs8Der), new Uint8Array(nonce), new Uint8Array(boxKey)));
  const json = JSON.stringify({
    kdf: { name: 'scrypt', params: { N: 32768, r: 8, p: 1 }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: ct.toString('base64'),
  });
  const body = Buffer.from(json).toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
