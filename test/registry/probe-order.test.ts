/**
 * Which scheme a loopback or --insecure-registry registry gets
 * (docs/security.md, "Which scheme"): HTTPS is asked first, with a TLS check
 * that builds no CA store; a registry answering in plain HTTP gets plain HTTP,
 * one speaking TLS stays on HTTPS, verified unless named insecure. Against
 * Debian's docker-registry on 127.0.0.1, plain and with a self-signed CA.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { blobPath, ociasm, tempDir } from '../harness/util.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let plain: TestRegistry;
let secure: TestRegistry;
const tmp = tempDir('ociasm-probe-');
let dir: string;

beforeAll(async () => {
  [plain, secure] = await Promise.all([startRegistry(), startRegistry({ tls: true })]);
  dir = path.join(tmp.dir, 'oci');
  mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => { writeFileSync(blobPath(dir, sha(b)), b); return { digest: sha(b), size: b.length }; };
  const layer = randomBytes(2000);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(config) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(layer) }],
  }));
  writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...put(manifest), annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  }));
});
afterAll(async () => { await Promise.all([plain?.stop(), secure?.stop()]); tmp.cleanup(); });

/** The schemes of the registry requests a push made (--debug lines). */
async function push(host: string, repo: string, args: string[] = []) {
  const r = await ociasm(['push', '--debug', `${dir}:v1`, `${host}/${repo}:1`, ...args], { env: { ...process.env, SSL_CERT_FILE: '' } });
  const schemes = new Set([...r.stderr.matchAll(/^debug: [A-Z]+ (https?):\/\//gm)].map((m) => m[1]));
  return { ...r, schemes: [...schemes] };
}

describe('the probe of a loopback registry', () => {
  it('a plain-HTTP registry on loopback gets plain HTTP, with and without --insecure-registry', async () => {
    const a = await push(plain.host, 'probe/plain');
    expect(a.code, a.stderr).toBe(0);
    expect(a.schemes).toEqual(['http']);
    const b = await push(plain.host, 'probe/plain-insecure', ['--insecure-registry', plain.host]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.schemes).toEqual(['http']);
  });

  it('a TLS registry on loopback stays on HTTPS: verified (refused without its CA), unverified only when named insecure', async () => {
    const refused = await push(secure.host, 'probe/tls');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error[REGISTRY_TLS]: ${secure.host}: TLS verification failed`);
    expect(refused.schemes).toEqual([]);
    const trusted = await push(secure.host, 'probe/tls', ['--ca-file', secure.certs!.caFile]);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.schemes).toEqual(['https']);
    const insecure = await push(secure.host, 'probe/tls-insecure', ['--insecure-registry', secure.host]);
    expect(insecure.code, insecure.stderr).toBe(0);
    expect(insecure.schemes).toEqual(['https']);
  });
});
