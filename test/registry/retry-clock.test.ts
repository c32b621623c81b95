/**
 * The chain's retry handler, driven by an injected clock against the real
 * registry behind the fault proxy: backoff, Retry-After (seconds, a date,
 * the cap) and the upload budget are read from the clock's sleeps, so a
 * 30-second Retry-After costs no time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/types.js';
import { Registries } from '../../src/registry/registries.js';
import type { Clock } from '../../src/registry/retry.js';
import type { BlobSource } from '../../src/registry/upload.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';

let reg: TestRegistry;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function fakeClock(): Clock & { sleeps: number[] } {
  const c = { sleeps: [] as number[], t: T0, now: () => c.t, sleep: async (ms: number) => { c.sleeps.push(ms); c.t += ms; } };
  return c;
}

function blob(size: number) {
  const bytes = randomBytes(size);
  const info = { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest, size };
  const source: BlobSource = { size, openAt: async function* (o, e) { yield bytes.subarray(o, e); } };
  return { info, source };
}

function registries(clock: Clock, maxChunkSize?: number) {
  return new Registries({ env: {}, clock, ...(maxChunkSize ? { maxChunkSize } : {}) });
}

beforeAll(async () => { reg = await startRegistry({ proxy: true }); });
afterAll(async () => { await reg?.stop(); });

describe('retry handler with an injected clock', () => {
  it('backs off exponentially with jitter, then succeeds', async () => {
    const clock = fakeClock();
    const r = new Registries({ env: {}, clock, retry: { attempts: 5, baseDelayMs: 1000, maxDelayMs: 3000, maxRetryAfterMs: 60_000 } });
    reg.proxy!.faults.push({ method: 'HEAD', times: 3, fault: { kind: 'status', status: 503 } });
    expect(await r.repository(reg.host, 'clock/a').has(blob(10).info.digest)).toBe(false);
    expect(clock.sleeps).toHaveLength(3);
    // full jitter between half the ceiling and the ceiling: 1000, 2000, then capped at 3000
    const ceilings = [1000, 2000, 3000];
    clock.sleeps.forEach((ms, i) => { expect(ms).toBeGreaterThanOrEqual(ceilings[i]! / 2); expect(ms).toBeLessThanOrEqual(ceilings[i]!); });
    await r.close();
  });

  it('honours Retry-After in seconds and as a date (against the clock), capped at 60 s', async () => {
    const clock = fakeClock();
    const r = registries(clock);
    reg.proxy!.faults.push(
      { method: 'HEAD', fault: { kind: 'status', status: 429, headers: { 'retry-after': '30' } } },
      { method: 'HEAD', fault: { kind: 'status', status: 503, headers: { 'retry-after': new Date(T0 + 30_000 + 20_000).toUTCString() } } },
      { method: 'HEAD', fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } } },
    );
    expect(await r.repository(reg.host, 'clock/b').has(blob(10).info.digest)).toBe(false);
    expect(clock.sleeps).toEqual([30_000, 20_000, 60_000]);
    await r.close();
  });

  it('uploads use the same handler: one budget per blob, PUT and PATCH failures included', async () => {
    const clock = fakeClock();
    const r = registries(clock, 1000);
    const b = blob(3000);
    reg.proxy!.faults.push(
      { method: 'PATCH', skip: 1, fault: { kind: 'status', status: 503, headers: { 'retry-after': '7' } } },
      { method: 'PUT', fault: { kind: 'status', status: 502, headers: { 'retry-after': '9' } } },
    );
    expect(await r.repository(reg.host, 'clock/c').putBlob(b.info, b.source)).toBe('uploaded');
    expect(clock.sleeps).toEqual([7000, 9000]);
    const d = blob(3000);
    reg.proxy!.faults.push({ method: 'PATCH', times: 20, fault: { kind: 'status', status: 500, headers: { 'retry-after': '1' } } });
    clock.sleeps.length = 0;
    await expect(r.repository(reg.host, 'clock/d').putBlob(d.info, d.source)).rejects.toThrow(/uploading blob sha256:.* failed 5 times, giving up: PATCH answered 500/);
    expect(clock.sleeps).toEqual([1000, 1000, 1000, 1000]);
    reg.proxy!.faults.length = 0;
    await r.close();
  });
});
