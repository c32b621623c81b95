/** Encoder rules: when PAX records appear, how fields are laid out, what is refused. */
import { describe, expect, it } from 'vitest';
import { OciasmError } from '../../src/errors.js';
import { encodeHeader, encodeTar, END_OF_ARCHIVE, padding, type TarHeader } from '../../src/codec/tar/index.js';
import { computeChecksums, readNumber } from '../../src/codec/tar/fields.js';
import { encodePaxRecord } from '../../src/codec/tar/pax.js';

const base: TarHeader = { path: 'a/b', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000 };
const field = (block: Buffer, offset: number, width: number) => block.toString('latin1', offset, offset + width);

/** The PAX record data of an encoded header, or '' when there is no PAX header. */
function paxData(encoded: Buffer): string {
  if (encoded.length === 512) return '';
  const size = readNumber(encoded, 'size')!;
  return encoded.toString('latin1', 512, 512 + size);
}

describe('encodeHeader', () => {
  it('writes a plain ustar header when nothing needs PAX', () => {
    const block = encodeHeader({ ...base, type: 'directory', mode: 0o40755 });
    expect(block).toHaveLength(512);
    expect(field(block, 0, 5)).toBe('a/b/\0');
    expect(field(block, 100, 8)).toBe('0000755\0'); // file-type bits are masked off
    expect(field(block, 124, 12)).toBe('00000000000\0');
    expect(field(block, 136, 12)).toBe(`${(1_700_000_000).toString(8)}\0`);
    expect(field(block, 156, 1)).toBe('5');
    expect(field(block, 257, 8)).toBe('ustar\x0000');
    expect(field(block, 329, 16)).toBe('\0'.repeat(16)); // device numbers only for char/block
    const checksum = field(block, 148, 8);
    expect(checksum).toMatch(/^[0-7]{6}\0 $/);
    expect(parseInt(checksum, 8)).toBe(computeChecksums(block).unsigned);
  });

  it.each([
    ['file', '0'], ['hardlink', '1'], ['symlink', '2'], ['char', '3'], ['block', '4'], ['directory', '5'], ['fifo', '6'],
  ] as const)('uses typeflag %s -> %s', (type, flag) => {
    const linkname = type === 'symlink' || type === 'hardlink' ? 'x' : undefined;
    expect(field(encodeHeader({ ...base, type, linkname }), 156, 1)).toBe(flag);
  });

  it('writes device numbers for char and block devices', () => {
    const block = encodeHeader({ ...base, type: 'block', devmajor: 8, devminor: 17 });
    expect(field(block, 329, 16)).toBe('0000010\x000000021\0');
  });

  it('puts long paths and link targets in PAX and truncates the ustar fields', () => {
    const path = `${'é'.repeat(60)}/x`; // 122 bytes; truncation must not split a character
    const linkname = 'l'.repeat(101);
    const encoded = encodeHeader({ ...base, path, type: 'symlink', linkname });
    expect(paxData(encoded)).toBe(
      Buffer.concat([encodePaxRecord('linkpath', Buffer.from(linkname)), encodePaxRecord('path', Buffer.from(path))]).toString('latin1'),
    );
    const ustar = encoded.subarray(encoded.length - 512);
    expect(field(ustar, 0, 100)).toBe(Buffer.from('é'.repeat(50)).toString('latin1'));
    expect(field(ustar, 157, 100)).toBe('l'.repeat(100));
    expect(field(encoded, 0, 100).replace(/\0+$/, '')).toBe('PaxHeaders/x');
  });

  it('counts the trailing slash of directories against the 100-byte limit', () => {
    expect(encodeHeader({ ...base, type: 'directory', path: 'd'.repeat(100) })).toHaveLength(512 * 3);
    expect(encodeHeader({ ...base, type: 'directory', path: 'd'.repeat(99) })).toHaveLength(512);
    expect(encodeHeader({ ...base, path: 'f'.repeat(100) })).toHaveLength(512);
  });

  it('moves large ids, sizes, out-of-range times and long owner names to PAX', () => {
    const encoded = encodeHeader({
      ...base, uid: 0o7777777, gid: 0o7777777 + 1, size: 0o77777777777 + 1, mtime: -1, uname: 'u'.repeat(32), gname: 'g'.repeat(33),
    });
    expect(paxData(encoded)).toBe(`15 gid=2097152\n43 gname=${'g'.repeat(33)}\n12 mtime=-1\n19 size=8589934592\n`);
    const ustar = encoded.subarray(encoded.length - 512);
    expect([readNumber(ustar, 'uid'), readNumber(ustar, 'gid'), readNumber(ustar, 'size'), readNumber(ustar, 'mtime')])
      .toEqual([0o7777777, 0, 0, 0]);
    expect(field(ustar, 265, 32)).toBe('u'.repeat(32));
    expect(field(ustar, 297, 32)).toBe('\0'.repeat(32));
    expect(readNumber(encoded, 'mtime')).toBe(0); // PAX block mtime is clamped too
  });

  it('writes xattrs as raw SCHILY.xattr records sorted by key bytes', () => {
    const value = Buffer.from([0x00, 0xff, 0x0a, 0x3d]);
    const encoded = encodeHeader({ ...base, xattrs: new Map([['user.b', value], ['security.a', Buffer.alloc(0)], ['user.B', value]]) });
    const data = encoded.subarray(512, 512 + readNumber(encoded, 'size')!);
    expect(data).toEqual(Buffer.concat([
      Buffer.from('28 SCHILY.xattr.security.a=\n'),
      Buffer.from('28 SCHILY.xattr.user.B='), value, Buffer.from('\n'),
      Buffer.from('28 SCHILY.xattr.user.b='), value, Buffer.from('\n'),
    ]));
    expect(field(encoded, 156, 1)).toBe('x');
    expect(encoded).toHaveLength(512 * 3);
  });

  it('computes PAX record lengths that count their own digits', () => {
    for (const n of [0, 1, 88, 89, 90, 91, 95, 96, 990, 991, 995, 996]) {
      const record = encodePaxRecord('k', Buffer.alloc(n, 0x41));
      expect(Number(record.toString('latin1').split(' ')[0])).toBe(record.length);
    }
  });

  it.each<[string, Partial<TarHeader>, RegExp]>([
    ['absolute path', { path: '/etc' }, /path must be relative/],
    ['dot path', { path: './etc' }, /path must be relative/],
    ['trailing slash', { path: 'etc/' }, /path must be relative/],
    ['NUL in path', { path: 'a\0b' }, /NUL/],
    ['negative uid', { uid: -1 }, /uid must be/],
    ['fractional mtime', { mtime: 1.5 }, /mtime must be/],
    ['size on a symlink', { type: 'symlink', linkname: 'x', size: 3 }, /size must be 0/],
    ['symlink without target', { type: 'symlink' }, /needs a linkname/],
    ['linkname on a file', { linkname: 'x' }, /only valid for links/],
    ['xattr name with =', { xattrs: new Map([['user.a=b', Buffer.alloc(1)]]) }, /invalid xattr name/],
    ['huge devmajor', { type: 'char', devmajor: 0o10000000 }, /devmajor/],
  ])('refuses %s', (_name, change, message) => {
    expect(() => encodeHeader({ ...base, ...change })).toThrow(message);
  });
});

describe('encodeTar', () => {
  const collect = async (entries: Parameters<typeof encodeTar>[0]) => {
    const out: Buffer[] = [];
    for await (const chunk of encodeTar(entries)) out.push(chunk);
    return Buffer.concat(out);
  };

  it('writes header, body, padding and the end-of-archive marker', async () => {
    async function* body() { yield new Uint8Array([104, 105]); yield Buffer.from('!'); }
    const bytes = await collect([{ header: { ...base, size: 3 }, body: body() }]);
    expect(bytes).toEqual(Buffer.concat([encodeHeader({ ...base, size: 3 }), Buffer.from('hi!'), padding(3), END_OF_ARCHIVE]));
    expect(padding(512)).toHaveLength(0);
    expect(END_OF_ARCHIVE.equals(Buffer.alloc(1024))).toBe(true);
  });

  it.each([[2, /body is 2 bytes but header.size is 3/], [4, /body is more than 3 bytes/]])(
    'throws when the body has %i bytes instead of header.size',
    async (n, message) => {
      const error = await collect([{ header: { ...base, size: 3 }, body: Buffer.alloc(n) }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OciasmError);
      expect((error as Error).message).toMatch(message);
    },
  );
});
