/**
 * Blob uploads against the real registry through the fault-injecting proxy:
 * monolithic and chunked, a connection dropped mid-PATCH (resumed from the
 * registry's offset), 503/429 with Retry-After, HEAD-skip, mounts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/types.js';
import { Registries } from '../../src/registry/registries.js';
import type { BlobSource } from '../../src/registry/upload.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';

let reg: TestRegistry;
const debug: string[] = [];
const fast = { attempts: 4, baseDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 5000 };

function blob(size: number) {
  const bytes = randomBytes(size);
  const info = { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest, size };
  const source: BlobSource = { size, openAt: async function* (o, e) { for (let i = o; i < e; i += 1000) yield bytes.subarray(i, Math.min(e, i + 1000)); } };
  return { bytes, info, source };
}

function registries(maxChunkSize?: number) {
  return new Registries({ env: {}, retry: fast, debug: (m) => debug.push(m), ...(maxChunkSize ? { maxChunkSize } : {}) });
}

beforeAll(async () => { reg = await startRegistry({ proxy: true }); });
afterAll(async () => { await reg?.stop(); });

describe('blob upload', () => {
  it('uploads monolithically, reads back verified, and skips a blob the registry has', async () => {
    const r = registries();
    const repo = r.repository(reg.host, 'up/mono');
    const b = blob(5000);
    expect(await repo.putBlob(b.info, b.source)).toBe('uploaded');
    expect(Buffer.compare(await repo.readBytes(b.info.digest), b.bytes)).toBe(0);
    const before = reg.proxy!.requests.length;
    expect(await repo.putBlob(b.info, b.source)).toBe('present');
    expect(reg.proxy!.requests.slice(before).map((q) => q.method)).toEqual(['HEAD']);
    await r.close();
  });

  it('uploads in chunks and resumes after a connection dropped mid-PATCH', async () => {
    const r = registries(4096);
    const repo = r.repository(reg.host, 'up/chunked');
    const b = blob(20_000);
    reg.proxy!.faults.push(
      { method: 'PATCH', skip: 2, fault: { kind: 'drop-mid-body', afterBytes: 1000 } },
      { method: 'PATCH', fault: { kind: 'drop-before' } },
    );
    const before = reg.proxy!.requests.length;
    debug.length = 0;
    expect(await repo.putBlob(b.info, b.source)).toBe('uploaded');
    const reqs = reg.proxy!.requests.slice(before);
    // one upload session, never restarted: every byte of the blob reached the registry once in an accepted PATCH
    expect(reqs.filter((q) => q.method === 'POST')).toHaveLength(1);
    const accepted = reqs.filter((q) => q.method === 'PATCH' && q.status === 202);
    expect(accepted.reduce((n, q) => n + q.bytes, 0)).toBe(b.info.size);
    expect(accepted.every((q) => q.bytes <= 4096)).toBe(true);
    expect(debug.filter((m) => m.startsWith('resuming upload'))).toEqual([
      `resuming upload of ${b.info.digest} at byte 8192`, `resuming upload of ${b.info.digest} at byte 8192`,
    ]);
    expect(Buffer.compare(await repo.readBytes(b.info.digest), b.bytes)).toBe(0);
    await r.close();
  });

  it('honours OCI-Chunk-Min-Length over a smaller maximum chunk', async () => {
    const r = registries(1000);
    const repo = r.repository(reg.host, 'up/minchunk');
    const b = blob(9000);
    reg.proxy!.faults.push({ method: 'POST', fault: { kind: 'add-headers', headers: { 'oci-chunk-min-length': '4000' } } });
    const before = reg.proxy!.requests.length;
    expect(await repo.putBlob(b.info, b.source)).toBe('uploaded');
    const patches = reg.proxy!.requests.slice(before).filter((q) => q.method === 'PATCH');
    expect(patches.map((q) => q.bytes)).toEqual([4000, 4000, 1000]);
    await r.close();
  });

  it('retries 503 and 429, honouring Retry-After', async () => {
    const r = registries();
    const repo = r.repository(reg.host, 'up/retry');
    const b = blob(3000);
    reg.proxy!.faults.push(
      { method: 'HEAD', fault: { kind: 'status', status: 503 } },
      { method: 'POST', fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } },
      { method: 'PUT', fault: { kind: 'status', status: 502 } },
    );
    debug.length = 0;
    expect(await repo.putBlob(b.info, b.source)).toBe('uploaded');
    expect(reg.proxy!.faults.every((f) => f.times === 0)).toBe(true);
    expect(debug.some((m) => /POST .*: 429; retrying in 1000 ms/.test(m))).toBe(true);
    expect(await repo.has(b.info.digest)).toBe(true);
    await r.close();
  });

  it('honours Retry-After on a failed upload PUT too (uploads retry outside the client)', async () => {
    const r = registries();
    const repo = r.repository(reg.host, 'up/retry-put');
    const b = blob(2000);
    reg.proxy!.faults.push({ method: 'PUT', fault: { kind: 'status', status: 503, headers: { 'retry-after': '2' } } });
    debug.length = 0;
    expect(await repo.putBlob(b.info, b.source)).toBe('uploaded');
    expect(debug.some((m) => /upload of .*: PUT answered 503; retrying in 2000 ms/.test(m))).toBe(true);
    expect(await repo.has(b.info.digest)).toBe(true);
    await r.close();
  });

  it('gives up after bounded attempts with an error naming registry, repository and blob', async () => {
    const r = registries();
    const repo = r.repository(reg.host, 'up/giveup');
    const b = blob(100);
    reg.proxy!.faults.push({ method: 'HEAD', times: 10, fault: { kind: 'status', status: 500 } });
    await expect(repo.putBlob(b.info, b.source)).rejects.toThrow(`${reg.host}: HEAD blob ${b.info.digest} of ${reg.host}/up/giveup answered 500`);
    reg.proxy!.faults.length = 0;
    await r.close();
  });

  it('mounts a blob from another repository, and uploads when the mount is refused', async () => {
    const r = registries();
    const a = r.repository(reg.host, 'up/mount-a');
    const c = r.repository(reg.host, 'up/mount-c');
    const b = blob(2000);
    await a.putBlob(b.info, b.source);
    const before = reg.proxy!.requests.length;
    expect(await c.putBlob(b.info, b.source, 'up/mount-a')).toBe('mounted');
    expect(reg.proxy!.requests.slice(before).map((q) => q.method)).toEqual(['HEAD', 'POST']);
    const d = blob(2000);
    expect(await r.repository(reg.host, 'up/mount-d').putBlob(d.info, d.source, 'up/mount-a')).toBe('uploaded');
    expect(await r.repository(reg.host, 'up/mount-d').has(d.info.digest)).toBe(true);
    await r.close();
  });
});
