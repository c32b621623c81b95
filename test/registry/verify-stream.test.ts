/**
 * A push checks a layout's blobs while they stream (src/copy/verify-stream.ts),
 * not in a read before: a layer whose bytes do not match its digest (same
 * size, so the up-front check passes) fails with DIGEST_MISMATCH, and Debian's
 * docker-registry (behind the counting proxy) never commits it: no blob under
 * either digest, no tag, no completed PUT of that upload. Chunked (several
 * PATCHes, damage at the end) and monolithic (one PUT, damage at the start).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { blobPath, must, ociasm, tempDir } from '../harness/util.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let reg: TestRegistry;
const tmp = tempDir('ociasm-verify-stream-');

beforeAll(async () => { reg = await startRegistry({ proxy: true }); });
afterAll(async () => { await reg?.stop(); tmp.cleanup(); });

/** A one-layer OCI layout by hand (the layer is random bytes: the registry does not look inside). */
function layout(name: string, layerSize: number) {
  const dir = path.join(tmp.dir, name);
  mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => { writeFileSync(blobPath(dir, sha(b)), b); return { digest: sha(b), size: b.length }; };
  const layer = randomBytes(layerSize);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] }, config: {} }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(config) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(layer) }],
  }));
  const m = put(manifest);
  writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  }));
  return { dir, layer: sha(layer), manifest: m.digest };
}

/** Flips one byte of a blob in place: same size, other content. */
function damage(dir: string, digest: string, at: 'start' | 'end'): string {
  const file = blobPath(dir, digest);
  const bytes = readFileSync(file);
  bytes[at === 'start' ? 3 : bytes.length - 3]! ^= 0xff;
  writeFileSync(file, bytes);
  return sha(bytes);
}

async function status(method: 'HEAD', url: string): Promise<number> {
  return (await fetch(`http://${reg.registryHost}${url}`, { method })).status;
}

describe('push checks blobs while streaming', () => {
  it('a sound layout pushes in chunks and skopeo reads it back', async () => {
    const l = layout('good', 300_000);
    const r = await ociasm(['push', '--max-chunk-size', '65536', `${l.dir}:v1`, `${reg.host}/vs/good:1`]);
    expect(r.code, r.stderr).toBe(0);
    const raw = await must('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/vs/good:1`]);
    expect(sha(raw)).toBe(l.manifest);
  });

  for (const [mode, chunk, at] of [['chunked', '65536', 'end'], ['monolithic', '1048576', 'start']] as const) {
    it(`a ${mode} upload of a layer that does not match its digest is refused and never committed`, async () => {
      const l = layout(`bad-${mode}`, 300_000);
      const actual = damage(l.dir, l.layer, at);
      const repo = `vs/bad-${mode}`;
      const before = reg.proxy!.requests.length;
      const r = await ociasm(['push', '--max-chunk-size', chunk, `${l.dir}:v1`, `${reg.host}/${repo}:1`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error[DIGEST_MISMATCH]: oci:${l.dir}:v1: blob ${l.layer} does not match its digest (its 300000 bytes are ${actual}); nothing of it was committed`);
      for (const d of [l.layer, actual]) expect(await status('HEAD', `/v2/${repo}/blobs/${d}`)).toBe(404);
      expect(await status('HEAD', `/v2/${repo}/manifests/1`)).toBe(404);
      expect(await status('HEAD', `/v2/${repo}/manifests/${l.manifest}`)).toBe(404);
      // No upload request for this repository completed with 201 except the config's; its PATCHes (if any) stopped short.
      const uploads = reg.proxy!.requests.slice(before).filter((q) => q.path.startsWith(`/v2/${repo}/blobs/uploads/`) && q.method !== 'POST');
      const committed = uploads.filter((q) => q.method === 'PUT' && q.status === 201);
      expect(committed.length).toBe(1); // the config blob
      expect(committed[0]!.bytes).toBeLessThan(1000);
      const layerBytes = uploads.filter((q) => q.method === 'PATCH' || (q.method === 'PUT' && q.status !== 201)).reduce((n, q) => n + q.bytes, 0);
      expect(layerBytes).toBeLessThan(300_000);
      if (mode === 'chunked') expect(uploads.filter((q) => q.method === 'PATCH' && q.status === 202).length).toBe(4);
    });
  }
});
