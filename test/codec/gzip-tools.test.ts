import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGzip, goldenInput, type GzipCompressor } from '../../src/codec/gzip/index.js';

const MiB = 1 << 20;

async function gz(c: GzipCompressor, data: Uint8Array): Promise<Buffer> {
  async function* one(): AsyncGenerator<Uint8Array> {
    yield data;
  }
  const out: Buffer[] = [];
  for await (const part of c.compress(one())) out.push(part);
  return Buffer.concat(out);
}

const INPUTS: Record<string, Uint8Array> = {
  empty: new Uint8Array(0),
  'one byte': Uint8Array.of(7),
  'exactly 1 MiB': goldenInput(MiB),
  '3.3 MiB random-ish': goldenInput(Math.floor(3.3 * MiB)),
  'highly compressible': new Uint8Array(5 * MiB + 123).fill(0x61),
};

describe('gzip output accepted by standard tools', () => {
  let dir: string;
  const compressors: GzipCompressor[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ociasm-gzip-'));
    compressors.push(await createGzip({ workers: 2 }), await createGzip({ workers: 2, level: 1, engine: 'pako' }));
  });
  afterAll(async () => {
    await Promise.all(compressors.map((c) => c.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, data] of Object.entries(INPUTS)) {
    it(`gzip -t, pigz -t and gunzip -c: ${name}`, async () => {
      for (const c of compressors) {
        const file = join(dir, `${name.replace(/\W+/g, '_')}-${c.engine}-${c.level}.gz`);
        writeFileSync(file, await gz(c, data));
        execFileSync('gzip', ['-t', file]);
        execFileSync('pigz', ['-t', file]);
        const back = execFileSync('gunzip', ['-c', file], { maxBuffer: 64 * MiB });
        expect(back.length).toBe(data.length);
        expect(back.equals(Buffer.from(data))).toBe(true);
        const back2 = execFileSync('pigz', ['-dc', file], { maxBuffer: 64 * MiB });
        expect(back2.equals(Buffer.from(data))).toBe(true);
      }
    });
  }
});
