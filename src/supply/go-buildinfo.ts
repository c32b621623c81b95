/**
 * Go build information read from an ELF binary, as `go version -m` reads it
 * (Go's debug/buildinfo), written from the format, with no Go code run:
 *
 * - the `.go.buildinfo` section (or, without section headers, the first
 *   16-byte-aligned `\xff Go buildinf:` in the file) starts with the 14-byte
 *   magic, a pointer size byte and a flags byte (bit 0 big-endian, bit 1
 *   inline strings);
 * - Go 1.18+ (inline): at offset 32, two uvarint-length-prefixed strings,
 *   the Go version and the module info;
 * - older (pointer): at offset 16, two pointers to Go string headers
 *   (pointer, length), resolved through the PT_LOAD program headers;
 * - the module info is framed by 16 sentinel bytes on each side.
 *
 * Rules: pure (bytes in, data out), never throws on a non-Go or malformed
 * binary: it answers undefined, so an SBOM never fails on a strange file.
 */

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: GoModule;
}

export interface GoBuildInfo {
  goVersion: string;
  /** The `path` line: the main package's import path. */
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  /** `build` lines in order, e.g. ["-compiler", "gc"], ["GOARCH", "arm"]. */
  settings: [string, string][];
  /** The module info text as embedded (without sentinels). */
  raw: string;
}

interface Elf {
  little: boolean;
  is64: boolean;
  buf: Buffer;
}

function u16(e: Elf, off: number): number {
  return e.little ? e.buf.readUInt16LE(off) : e.buf.readUInt16BE(off);
}
function u32(e: Elf, off: number): number {
  return e.little ? e.buf.readUInt32LE(off) : e.buf.readUInt32BE(off);
}
function word(e: Elf, off: number): number {
  if (!e.is64) return u32(e, off);
  const v = e.little ? e.buf.readBigUInt64LE(off) : e.buf.readBigUInt64BE(off);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
}

function parseElf(buf: Buffer): Elf | undefined {
  if (buf.length < 52 || buf.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const cls = buf[4];
  const data = buf[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  if (cls === 2 && buf.length < 64) return undefined;
  return { little: data === 1, is64: cls === 2, buf };
}

/** File offset and size of the section named `want`, if section headers are present. */
function findSection(e: Elf, want: string): { off: number; size: number } | undefined {
  const shoff = word(e, e.is64 ? 0x28 : 0x20);
  const shentsize = u16(e, e.is64 ? 0x3a : 0x2e);
  const shnum = u16(e, e.is64 ? 0x3c : 0x30);
  const shstrndx = u16(e, e.is64 ? 0x3e : 0x32);
  if (shoff <= 0 || shnum === 0 || shstrndx >= shnum || shoff + shnum * shentsize > e.buf.length) return undefined;
  const sh = (i: number) => {
    const b = shoff + i * shentsize;
    return {
      name: u32(e, b),
      type: u32(e, b + 4),
      off: word(e, b + (e.is64 ? 0x18 : 0x10)),
      size: word(e, b + (e.is64 ? 0x20 : 0x14)),
    };
  };
  const strtab = sh(shstrndx);
  if (strtab.off < 0 || strtab.off + strtab.size > e.buf.length) return undefined;
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    const nameStart = strtab.off + s.name;
    const nameEnd = e.buf.indexOf(0, nameStart);
    if (nameEnd < 0 || nameEnd > strtab.off + strtab.size) continue;
    if (e.buf.toString('latin1', nameStart, nameEnd) !== want) continue;
    if (s.type === 8 /* SHT_NOBITS */ || s.off < 0 || s.off + s.size > e.buf.length) return undefined;
    return { off: s.off, size: s.size };
  }
  return undefined;
}

/** Translates a virtual address to a file offset through the PT_LOAD segments. */
function vaddrToOffset(e: Elf, addr: number): number | undefined {
  const phoff = word(e, e.is64 ? 0x20 : 0x1c);
  const phentsize = u16(e, e.is64 ? 0x36 : 0x2a);
  const phnum = u16(e, e.is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const b = phoff + i * phentsize;
    if (b + phentsize > e.buf.length) return undefined;
    if (u32(e, b) !== 1 /* PT_LOAD */) continue;
    const off = word(e, b + (e.is64 ? 0x08 : 0x04));
    const vaddr = word(e, b + (e.is64 ? 0x10 : 0x08));
    const filesz = word(e, b + (e.is64 ? 0x20 : 0x10));
    if (addr >= vaddr && addr < vaddr + filesz) return off + (addr - vaddr);
  }
  return undefined;
}

function readUvarint(buf: Buffer, pos: number): [number, number] | undefined {
  let x = 0;
  let shift = 0;
  for (let i = 0; i < 10 && pos + i < buf.length; i++) {
    const b = buf[pos + i]!;
    x += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [x, pos + i + 1];
    shift += 7;
  }
  return undefined;
}

function findMagic(buf: Buffer): number {
  for (let at = buf.indexOf(MAGIC); at >= 0; at = buf.indexOf(MAGIC, at + 1)) {
    if (at % 16 === 0) return at;
  }
  return -1;
}

/** The version string and the modinfo bytes, or undefined. */
function rawStrings(e: Elf): [string, Buffer] | undefined {
  const sec = findSection(e, '.go.buildinfo');
  const start = sec ? sec.off : findMagic(e.buf);
  if (start < 0 || start + 32 > e.buf.length || !e.buf.subarray(start, start + 14).equals(MAGIC)) return undefined;
  const ptrSize = e.buf[start + 14]!;
  const flags = e.buf[start + 15]!;
  if (flags & 2) {
    const v = readUvarint(e.buf, start + 32);
    if (!v || v[1] + v[0] > e.buf.length) return undefined;
    const version = e.buf.toString('utf8', v[1], v[1] + v[0]);
    const m = readUvarint(e.buf, v[1] + v[0]);
    if (!m || m[1] + m[0] > e.buf.length) return undefined;
    return [version, e.buf.subarray(m[1], m[1] + m[0])];
  }
  if (ptrSize !== 4 && ptrSize !== 8) return undefined;
  const pe: Elf = { ...e, little: (flags & 1) === 0, is64: ptrSize === 8 };
  const readGoString = (ptrAt: number): Buffer | undefined => {
    if (ptrAt + ptrSize > e.buf.length) return undefined;
    const hdr = vaddrToOffset(e, word(pe, ptrAt));
    if (hdr === undefined || hdr + 2 * ptrSize > e.buf.length) return undefined;
    const data = vaddrToOffset(e, word(pe, hdr));
    const len = word(pe, hdr + ptrSize);
    if (len === 0) return Buffer.alloc(0);
    if (data === undefined || len < 0 || data + len > e.buf.length) return undefined;
    return e.buf.subarray(data, data + len);
  };
  const version = readGoString(start + 16);
  const mod = readGoString(start + 16 + ptrSize);
  return version === undefined || mod === undefined ? undefined : [version.toString('utf8'), mod];
}

/** Go's strconv.Unquote for the double-quoted strings `go version -m` may print. */
function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      return s.slice(1, -1);
    }
  }
  return s;
}

function parseModuleLine(fields: string[]): GoModule | undefined {
  if (fields.length < 2 || !fields[0]) return undefined;
  const m: GoModule = { path: fields[0], version: fields[1] ?? '' };
  if (fields[2]) m.sum = fields[2];
  return m;
}

/** Parses the module info text (Go's debug.ParseBuildInfo line format). */
export function parseModInfo(goVersion: string, raw: string): GoBuildInfo {
  const info: GoBuildInfo = { goVersion, deps: [], settings: [], raw };
  let last: GoModule | undefined;
  for (const line of raw.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const kind = line.slice(0, tab);
    const rest = line.slice(tab + 1);
    if (kind === 'path') info.path = rest;
    else if (kind === 'mod') last = info.main = parseModuleLine(rest.split('\t'));
    else if (kind === 'dep') {
      last = parseModuleLine(rest.split('\t'));
      if (last) info.deps.push(last);
    } else if (kind === '=>') {
      const r = parseModuleLine(rest.split('\t'));
      if (last && r) last.replace = r;
    } else if (kind === 'build') {
      // key=value; either side may be Go-quoted (a key holding '=' or a value holding spaces).
      let key: string;
      let value: string;
      if (rest.startsWith('"')) {
        const end = rest.indexOf('"=', 1);
        key = unquote(rest.slice(0, end + 1));
        value = unquote(rest.slice(end + 2));
      } else {
        const eq = rest.indexOf('=');
        key = eq < 0 ? rest : rest.slice(0, eq);
        value = eq < 0 ? '' : unquote(rest.slice(eq + 1));
      }
      info.settings.push([key, value]);
    }
  }
  return info;
}

/** The build info of a Go ELF binary, or undefined for anything else. */
export function readGoBuildInfo(binary: Buffer): GoBuildInfo | undefined {
  const elf = parseElf(binary);
  if (!elf) return undefined;
  let strings: [string, Buffer] | undefined;
  try {
    strings = rawStrings(elf);
  } catch {
    return undefined; // a truncated header read past the end: not a Go binary we can read
  }
  if (!strings) return undefined;
  const [version, mod] = strings;
  if (!version.startsWith('go')) return undefined;
  // Module info is framed by 16 sentinel bytes on each side (runtime/debug's modinfo).
  const inner = mod.length >= 33 && mod[mod.length - 17] === 0x0a ? mod.toString('utf8', 16, mod.length - 16) : '';
  return parseModInfo(version, inner);
}

export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}
