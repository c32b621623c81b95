/**
 * The streaming blob check (src/copy/verify-stream.ts): ranges read in order,
 * ranges re-read from any offset (a resumed upload), and a blob whose bytes do
 * not match: the chunk that would complete it is never handed out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyingReader } from '../../src/copy/verify-stream.js';
import type { Digest } from '../../src/oci/types.js';
import type { BlobReader } from '../../src/transports/types.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

function source(bytes: Buffer, chunk = 700): BlobReader & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    size: bytes.length, reads,
    openAt: async function* (o, e) {
      reads.push([o, e]);
      for (let i = o; i < e; i += chunk) yield bytes.subarray(i, Math.min(e, i + chunk));
    },
  };
}

async function read(r: BlobReader, o: number, e: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r.openAt(o, e)) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

/** What a consumer received before the reader threw (or all of it). */
async function readUntilError(r: BlobReader, o: number, e: number): Promise<{ got: number; error?: Error }> {
  let got = 0;
  try {
    for await (const c of r.openAt(o, e)) got += c.length;
    return { got };
  } catch (error) {
    return { got, error: error as Error };
  }
}

describe('verifyingReader', () => {
  const bytes = randomBytes(10_000);
  const desc = { digest: sha(bytes), size: bytes.length };

  it('passes a matching blob through, in ranges, and from re-read offsets', async () => {
    const src = source(bytes);
    const r = verifyingReader(src, desc, 'test');
    expect(Buffer.compare(await read(r, 0, 4000), bytes.subarray(0, 4000))).toBe(0);
    // a resume from an offset inside the last range: hashed from the checkpoint at 0, then streamed
    expect(Buffer.compare(await read(r, 2500, 8000), bytes.subarray(2500, 8000))).toBe(0);
    expect(Buffer.compare(await read(r, 8000, 10_000), bytes.subarray(8000))).toBe(0);
    // the last range started at a checkpoint: only it was read again
    expect(src.reads.at(-1)).toEqual([8000, 10_000]);
    expect(src.reads).toContainEqual([0, 2500]);
  });

  it('a damaged blob: every chunk but the completing one is handed out, then DIGEST_MISMATCH', async () => {
    const bad = Buffer.from(bytes);
    bad[10]! ^= 1;
    const r = verifyingReader(source(bad), desc, 'oci:/x:v1');
    const whole = await readUntilError(r, 0, 10_000);
    expect(whole.got).toBe(10_000 - (10_000 % 700));
    expect(whole.error?.message).toBe(`oci:/x:v1: blob ${desc.digest} does not match its digest (its 10000 bytes are ${sha(bad)}); nothing of it was committed`);
    // read in two ranges and resumed from the middle: the same refusal at the end
    const again = verifyingReader(source(bad), desc, 'oci:/x:v1');
    expect((await readUntilError(again, 0, 6000)).error).toBeUndefined();
    expect((await readUntilError(again, 3000, 10_000)).error?.message).toContain('does not match its digest');
  });

  it('a source shorter than its descriptor is DIGEST_MISMATCH', async () => {
    const r = verifyingReader(source(bytes.subarray(0, 9000)), desc, 'src');
    expect((await readUntilError(r, 0, 10_000)).error?.message).toContain('has only 9000 bytes, its descriptor says 10000');
  });
});
