/**
 * The in-place header writer (codec/tar/header-into.ts) against the reference
 * encoder: the same bytes for every common header (PAX path and linkpath
 * records included), and a refusal (so the caller falls back to
 * encodeHeader) for everything else.
 */
import { describe, expect, it } from 'vitest';
import { encodeHeader, type TarHeader } from '../../src/codec/tar/index.js';
import { headerTemplate, type SimpleEntryType, writeHeader } from '../../src/codec/tar/header-into.js';

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

/** Names around and over the 100-byte fields, mostly ASCII (nested node_modules), sometimes not. */
function randomLongHeader(rnd: () => number): TarHeader {
  const h = randomHeader(rnd);
  const part = () => (rnd() % 10 === 0 ? PIECES[rnd() % PIECES.length]! : ['node_modules', '@scope', 'lib', 'index.js', 'a', 'bb', 'x'.repeat(1 + (rnd() % 120))][rnd() % 7]!);
  const name = () => {
    const target = 60 + (rnd() % 200);
    let s = part();
    while (s.length < target) s += `/${part()}`;
    // Cut at every length near the field edges (99, 100, 101 with a directory's '/').
    return rnd() % 3 === 0 ? s.slice(0, 95 + (rnd() % 10)).replace(/\/+$/, '') || 'a' : s;
  };
  h.path = name();
  if (h.linkname !== undefined) h.linkname = rnd() % 2 ? name() : h.linkname;
  return h;
}

/** What writeHeader must accept: no xattrs or devices (none generated), ids/size in range, and names that are ASCII when they need PAX. */
function mustAccept(h: TarHeader): boolean {
  const bytes = (x: string) => Buffer.byteLength(x, 'utf8');
  const ascii = (x: string) => /^[\x01-\x7f]*$/.test(x);
  const longPath = bytes(h.path) + (h.type === 'directory' ? 1 : 0) > 100;
  const longLink = h.linkname !== undefined && bytes(h.linkname) > 100;
  if (h.uid > 2097151 || h.gid > 2097151 || h.size > 8 ** 11 - 1) return false;
  return (!longPath && !longLink) || (ascii(h.path) && ascii(h.linkname ?? ''));
}

describe('writeHeader', () => {
  it('writes the bytes encodeHeader writes, PAX names included, for every header it accepts, and accepts every common one', () => {
    const rnd = lcg(7);
    const t = headerTemplate(1_700_000_000)!;
    const buf = Buffer.alloc(8192, 0xaa); // dirty, and at an offset: nothing may leak in
    let accepted = 0;
    let pax = 0;
    for (let i = 0; i < 20000; i++) {
      const h = i % 2 ? randomHeader(rnd) : randomLongHeader(rnd);
      const reference = encodeHeader(h);
      buf.fill(0xaa);
      const n = writeHeader(buf, 512, buf.length, t, h.path, h.type as SimpleEntryType, h.mode, h.uid, h.gid, h.size, h.linkname);
      const what = JSON.stringify(h);
      if (mustAccept(h)) {
        expect(n, what).toBe(reference.length);
        expect(buf.subarray(512, 512 + n).equals(reference), what).toBe(true);
        // Nothing outside the header is touched.
        expect(buf[511], what).toBe(0xaa);
        expect(buf[512 + n], what).toBe(0xaa);
        accepted++;
        if (n > 512) pax++;
      } else {
        expect(n, what).toBe(0);
      }
    }
    expect(accepted).toBeGreaterThan(5000);
    expect(pax).toBeGreaterThan(2000);
    expect(accepted).toBeLessThan(20000);
  });

  it('asks for the room it needs instead of writing past `end`, then writes the same bytes there', () => {
    const t = headerTemplate(0)!;
    const long = `${'node_modules/'.repeat(12)}index.js`;
    for (const [path, type, linkname] of [
      ['short', 'file', undefined], [long, 'file', undefined], [long, 'directory', undefined], ['l', 'symlink', 'x'.repeat(300)],
    ] as const) {
      const reference = encodeHeader({ path, type, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, ...(linkname ? { linkname } : {}) });
      const buf = Buffer.alloc(4096, 0xaa);
      expect(writeHeader(buf, 0, reference.length - 512, t, path, type, 0o644, 0, 0, 0, linkname)).toBe(-reference.length);
      expect(buf.subarray(reference.length - 512).every((b) => b === 0xaa)).toBe(true);
      expect(writeHeader(buf, 0, reference.length, t, path, type, 0o644, 0, 0, 0, linkname)).toBe(reference.length);
      expect(buf.subarray(0, reference.length).equals(reference)).toBe(true);
    }
  });

  it('refuses what encodeHeader would reject, so the caller gets its TAR_INVALID error', () => {
    const t = headerTemplate(0)!;
    const buf = Buffer.alloc(4096);
    const long = 'p/'.repeat(80) + 'f';
    for (const [path, linkname, size, uid] of [
      ['', undefined, 0, 0], ['/abs', undefined, 0, 0], ['./rel', undefined, 0, 0], ['dir/', undefined, 0, 0], ['.', undefined, 0, 0],
      ['nul\0', undefined, 0, 0], ['f', undefined, -1, 0], ['f', undefined, 1.5, 0], ['f', undefined, 0, -1],
      ['f', 'not-for-files', 0, 0], [`${long}\0`, undefined, 0, 0], [`/${long}`, undefined, 0, 0], [long, undefined, 1.5, 0],
    ] as const) {
      expect(writeHeader(buf, 0, buf.length, t, path, 'file', 0o644, uid, 0, size, linkname)).toBe(0);
      expect(() => encodeHeader({ path, type: 'file', mode: 0o644, uid, gid: 0, size, mtime: 0, ...(linkname ? { linkname } : {}) })).toThrow();
    }
    expect(writeHeader(buf, 0, buf.length, t, 'l', 'symlink', 0o777, 0, 0, 0, undefined)).toBe(0);
    expect(writeHeader(buf, 0, buf.length, t, 'l', 'symlink', 0o777, 0, 0, 0, `${'x'.repeat(200)}\0`)).toBe(0);
    expect(writeHeader(buf, 0, buf.length, t, 'd', 'directory', 0o755, 0, 0, 5, undefined)).toBe(0);
  });

  it('has no template for an mtime that needs a PAX record', () => {
    expect(headerTemplate(-1)).toBeUndefined();
    expect(headerTemplate(8 ** 11)).toBeUndefined();
    expect(headerTemplate(1.5)).toBeUndefined();
  });
});
