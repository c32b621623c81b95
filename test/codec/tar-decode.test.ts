/** Decoder behaviour on archives from our encoder and hand-crafted headers. */
import { describe, expect, it } from 'vitest';
import { OciasmError } from '../../src/errors.js';
import { decodeTar, encodeHeader, encodeTar, padding, type TarEntry, type TarHeader } from '../../src/codec/tar/index.js';
import { writeChecksum } from '../../src/codec/tar/fields.js';
import { goldenEntries, LONG_PATH, MTIME, type FixtureEntry } from '../../fixtures/tar/entries.js';

async function archive(entries: FixtureEntry[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of encodeTar(entries)) out.push(chunk);
  return Buffer.concat(out);
}

function* chunks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

async function decodeAll(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, label?: string) {
  const out: { header: TarHeader; body: Buffer }[] = [];
  for await (const entry of decodeTar(source, { label })) out.push({ header: entry.header, body: await readAll(entry.body) });
  return out;
}

async function decodeError(bytes: Buffer, label = 'sha256:feed'): Promise<OciasmError> {
  try {
    await decodeAll([bytes], label);
  } catch (e) {
    expect(e).toBeInstanceOf(OciasmError);
    expect((e as OciasmError).code).toBe('TAR_INVALID');
    return e as OciasmError;
  }
  throw new Error('decoding did not fail');
}

/** Decoded form of an encoder input: owner names default to '', body as bytes. */
function expected(entries: FixtureEntry[]) {
  return entries.map(({ header, body }) => ({
    header: { uname: '', gname: '', ...header },
    body: body ?? Buffer.alloc(0),
  }));
}

/** Rewrites a 512-byte header block in place and fixes its checksum. */
function patch(bytes: Buffer, blockOffset: number, edit: (block: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes);
  const block = copy.subarray(blockOffset, blockOffset + 512);
  edit(block);
  writeChecksum(block);
  return copy;
}

const fileHeader = (path: string, size: number): TarHeader =>
  ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime: MTIME });

describe('decodeTar', () => {
  it('round-trips every entry kind', async () => {
    expect(await decodeAll([await archive(goldenEntries())])).toEqual(expected(goldenEntries()));
  });

  it.each([1, 7, 511, 513, 4096])('decodes input split into %i-byte chunks', async (size) => {
    const bytes = await archive(goldenEntries());
    expect(await decodeAll(chunks(bytes, size))).toEqual(expected(goldenEntries()));
  });

  it('streams a large body in pieces without buffering it whole', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 0x61);
    const bytes = await archive([{ header: fileHeader('big', big.length), body: big }]);
    const sizes: number[] = [];
    for await (const entry of decodeTar(chunks(bytes, 64 * 1024))) for await (const p of entry.body) sizes.push(p.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(big.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
  });

  it('skips bodies that are not read, or only partly read', async () => {
    const bytes = await archive(goldenEntries());
    const seen: string[] = [];
    for await (const entry of decodeTar(chunks(bytes, 3))) {
      seen.push(entry.header.path);
      if (entry.header.path === 'app/hello.txt') for await (const _ of entry.body) break;
    }
    expect(seen).toEqual(goldenEntries().map((e) => e.header.path));
  });

  it('refuses to read a body after moving to the next entry', async () => {
    const stale: TarEntry[] = [];
    for await (const entry of decodeTar([await archive(goldenEntries())])) stale.push(entry);
    await expect(readAll(stale[1]!.body)).rejects.toThrow(/body read after moving to the next entry/);
  });

  it('names the label, entry and path when input is truncated inside a body', async () => {
    const bytes = await archive(goldenEntries());
    const err = await decodeError(bytes.subarray(0, 512 * 2 + 5));
    expect(err.message).toMatch(/sha256:feed: entry 1 "app\/hello.txt".*truncated archive/);
  });

  it('reports truncation inside a header and inside a PAX header', async () => {
    const bytes = await archive(goldenEntries());
    expect((await decodeError(bytes.subarray(0, 512 + 100))).message).toMatch(/entry 1 .*truncated archive.*inside a header/);
    const single = await archive(goldenEntries().slice(-1));
    expect((await decodeError(single.subarray(0, 700))).message).toMatch(/truncated archive.*'x' extended header/);
  });

  it('rejects a bad checksum', async () => {
    const bytes = Buffer.from(await archive(goldenEntries()));
    bytes[512 + 10] ^= 1; // a byte of the second header's name
    expect((await decodeError(bytes)).message).toMatch(/sha256:feed: entry 1 \(header at byte 512\): bad header checksum/);
  });

  it('reads base-256 uid, gid and negative mtime', async () => {
    const bytes = patch(await archive([{ header: fileHeader('f', 2), body: Buffer.from('hi') }]), 0, (block) => {
      Buffer.from([0x80, 0, 0, 0, 0, 0x2d, 0xc6, 0xc0]).copy(block, 108); // uid 3000000
      Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0x2a]).copy(block, 116); // gid 42
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]).copy(block, 136); // -2
    });
    const [entry] = await decodeAll([bytes]);
    expect(entry!.header).toMatchObject({ uid: 3_000_000, gid: 42, mtime: -2, size: 2 });
  });

  it('encodes out-of-range values in PAX and reads them back', async () => {
    const header: TarHeader = {
      ...fileHeader('f', 0), uid: 0o7777777 + 1, gid: 5_000_000, mtime: -86_400,
      uname: 'u'.repeat(33), gname: 'g'.repeat(32),
    };
    const [entry] = await decodeAll([await archive([{ header }])]);
    expect(entry!.header).toEqual(header);
  });

  it('reads a size beyond 8 GiB from PAX (header only)', async () => {
    const size = 0o77777777777 + 1;
    const encoded = encodeHeader(fileHeader('huge', size));
    expect(encoded.toString('latin1')).toContain(`size=${size}\n`);
    const sizes: number[] = [];
    for await (const entry of decodeTar([encoded])) {
      sizes.push(entry.header.size);
      break; // the body is not there; stop before the decoder reads it
    }
    expect(sizes).toEqual([size]);
  });

  it('rejects a malformed PAX record', async () => {
    const data = Buffer.from('9 path=abcdef\n');
    const pax = patch(Buffer.concat([encodeHeader(fileHeader('x', data.length)), data, padding(data.length)]), 0, (b) => {
      b[156] = 'x'.charCodeAt(0);
    });
    const bytes = Buffer.concat([pax, await archive([{ header: fileHeader('f', 0) }])]);
    expect((await decodeError(bytes)).message).toMatch(/PAX record/);
  });

  it('rejects PAX GNU.sparse records and unknown typeflags', async () => {
    const data = Buffer.from('22 GNU.sparse.major=1\n');
    const pax = patch(Buffer.concat([encodeHeader(fileHeader('x', data.length)), data, padding(data.length)]), 0, (b) => {
      b[156] = 'x'.charCodeAt(0);
    });
    const bytes = Buffer.concat([pax, await archive([{ header: fileHeader('f', 0) }])]);
    expect((await decodeError(bytes)).message).toMatch(/sparse files are not supported/);
    const unknown = patch(await archive([{ header: fileHeader('f', 0) }]), 0, (b) => { b[156] = 'Z'.charCodeAt(0); });
    expect((await decodeError(unknown)).message).toMatch(/entry 0 "f".*unknown typeflag 'Z'/);
  });

  it('ignores PAX global headers and applies GNU long names', async () => {
    const global = Buffer.from('16 uid=12345678\n');
    const longName = Buffer.from(`${'n'.repeat(120)}\0`);
    const longLink = Buffer.from(`${'t'.repeat(130)}\0`);
    const meta = (flag: string, data: Buffer) =>
      patch(Buffer.concat([encodeHeader(fileHeader('meta', data.length)), data, padding(data.length)]), 0, (b) => {
        b[156] = flag.charCodeAt(0);
      });
    const link: TarHeader = { ...fileHeader('short', 0), type: 'symlink', linkname: 'short-target' };
    const bytes = Buffer.concat([meta('g', global), meta('L', longName), meta('K', longLink), encodeHeader(link), padding(1024)]);
    const [entry] = await decodeAll([bytes]);
    expect(entry!.header).toMatchObject({ path: 'n'.repeat(120), linkname: 't'.repeat(130), uid: 0 });
  });

  it('normalizes paths and reads old-style directories and typeflags', async () => {
    const bytes = Buffer.concat([
      patch(encodeHeader(fileHeader('aa', 0)), 0, (b) => { b.write('./dir//\0', 0, 'latin1'); b[156] = 0; }),
      patch(encodeHeader(fileHeader('bb', 0)), 0, (b) => { b.write('/abs/file\0', 0, 'latin1'); b[156] = '7'.charCodeAt(0); }),
      patch(encodeHeader(fileHeader('cc', 0)), 0, (b) => { b.write('./\0', 0, 'latin1'); b[156] = '5'.charCodeAt(0); }),
      patch(encodeHeader(fileHeader('name', 0)), 0, (b) => { b.write('some/prefix', 345, 'latin1'); }),
    ]);
    const headers = (await decodeAll([bytes])).map((e) => [e.header.path, e.header.type]);
    expect(headers).toEqual([['dir', 'directory'], ['abs/file', 'file'], ['', 'directory'], ['some/prefix/name', 'file']]);
  });

  it('accepts the ways real tools end an archive', async () => {
    const one = await archive([{ header: fileHeader(LONG_PATH, 0) }]);
    const withoutEnd = one.subarray(0, one.length - 1024);
    for (const bytes of [one, withoutEnd, one.subarray(0, one.length - 512), Buffer.alloc(0)]) {
      expect((await decodeAll([bytes])).map((e) => e.header.path)).toEqual(bytes.length ? [LONG_PATH] : []);
    }
    const loneZero = Buffer.concat([withoutEnd, Buffer.alloc(512), one]);
    expect((await decodeError(loneZero)).message).toMatch(/single zero block/);
  });
});
