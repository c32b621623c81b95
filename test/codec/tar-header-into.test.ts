/**
 * The in-place header writer (codec/tar/header-into.ts) against the reference
 * encoder: the same bytes for every plain header, and a refusal (so the
 * caller falls back to encodeHeader) for everything else.
 */
import { describe, expect, it } from 'vitest';
import { encodeHeader, type TarHeader } from '../../src/codec/tar/index.js';
import { headerTemplate, type SimpleEntryType, writeSimpleHeader } from '../../src/codec/tar/header-into.js';

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
}

const PIECES = ['a', 'node_modules', 'é', '日本', '😀', 'x'.repeat(40), 'lib', '-', '.js', ' ', 'Z'];
const TYPES: SimpleEntryType[] = ['file', 'directory', 'symlink', 'hardlink'];

function randomHeader(rnd: () => number): TarHeader {
  const type = TYPES[rnd() % TYPES.length]!;
  const name = (n: number) => Array.from({ length: n }, () => PIECES[rnd() % PIECES.length]).join(rnd() % 2 ? '/' : '');
  const ids = [0, 1, 1000, 65534, 2097151, 2097152, 2 ** 31];
  const sizes = [0, 1, 511, 512, 1 << 20, 8 ** 11 - 1, 8 ** 11];
  const h: TarHeader = {
    path: name(1 + (rnd() % 8)), type, mode: [0o644, 0o755, 0o4755, 0o40755, 0o1777][rnd() % 5]!,
    uid: ids[rnd() % ids.length]!, gid: ids[rnd() % ids.length]!,
    size: type === 'file' ? sizes[rnd() % sizes.length]! : 0, mtime: 1_700_000_000,
  };
  if (type === 'symlink' || type === 'hardlink') h.linkname = name(1 + (rnd() % 8));
  return h;
}

describe('writeSimpleHeader', () => {
  it('writes the bytes encodeHeader writes, for every header it accepts, and accepts every plain one', () => {
    const rnd = lcg(7);
    const t = headerTemplate(1_700_000_000)!;
    const buf = Buffer.alloc(2048, 0xaa); // dirty, and at an offset: nothing may leak in
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const h = randomHeader(rnd);
      const reference = encodeHeader(h);
      const ok = writeSimpleHeader(buf, 512, t, h.path, h.type as SimpleEntryType, h.mode, h.uid, h.gid, h.size, h.linkname);
      if (reference.length === 512) {
        expect(ok, JSON.stringify(h)).toBe(true);
        expect(buf.subarray(512, 1024).equals(reference), JSON.stringify(h)).toBe(true);
        accepted++;
      } else {
        expect(ok, JSON.stringify(h)).toBe(false);
      }
    }
    expect(accepted).toBeGreaterThan(1000);
    expect(accepted).toBeLessThan(5000);
  });

  it('refuses what encodeHeader would reject, so the caller gets its TAR_INVALID error', () => {
    const t = headerTemplate(0)!;
    const buf = Buffer.alloc(512);
    for (const [path, linkname, size, uid] of [
      ['', undefined, 0, 0], ['/abs', undefined, 0, 0], ['./rel', undefined, 0, 0], ['dir/', undefined, 0, 0],
      ['nul\0', undefined, 0, 0], ['f', undefined, -1, 0], ['f', undefined, 1.5, 0], ['f', undefined, 0, -1],
      ['f', 'not-for-files', 0, 0],
    ] as const) {
      expect(writeSimpleHeader(buf, 0, t, path, 'file', 0o644, uid, 0, size, linkname)).toBe(false);
      expect(() => encodeHeader({ path, type: 'file', mode: 0o644, uid, gid: 0, size, mtime: 0, ...(linkname ? { linkname } : {}) })).toThrow();
    }
    expect(writeSimpleHeader(buf, 0, t, 'l', 'symlink', 0o777, 0, 0, 0, undefined)).toBe(false);
    expect(writeSimpleHeader(buf, 0, t, 'd', 'directory', 0o755, 0, 0, 5, undefined)).toBe(false);
  });

  it('has no template for an mtime that needs a PAX record', () => {
    expect(headerTemplate(-1)).toBeUndefined();
    expect(headerTemplate(8 ** 11)).toBeUndefined();
    expect(headerTemplate(1.5)).toBeUndefined();
  });
});
