import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGzip, type GzipCompressor } from '../../src/codec/gzip/index.js';

// Pretend native zlib does not reproduce level 6: corrupt that golden digest.
vi.mock('../../src/codec/gzip/golden.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/codec/gzip/golden.js')>();
  return { ...real, GOLDEN_GZIP_SHA256: { ...real.GOLDEN_GZIP_SHA256, 6: '0'.repeat(64) } };
});

describe('gzip engine self-test', () => {
  const open: GzipCompressor[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  it('falls back to pako when native zlib does not match the golden digest', async () => {
    const c = await createGzip({ workers: 2, level: 6 });
    open.push(c);
    expect(c.engine).toBe('pako');
  });

  it('refuses engine "native" when it would not reproduce the format', async () => {
    await expect(createGzip({ workers: 1, engine: 'native', level: 6 })).rejects.toMatchObject({ code: 'GZIP_INVALID' });
  });

  it('still uses native zlib for levels whose self-test passes (if this zlib reproduces pako)', async () => {
    const c = await createGzip({ workers: 1, level: 1, engine: 'auto' });
    open.push(c);
    expect(['native', 'pako']).toContain(c.engine);
  });
});
