/**
 * Decompression of tar streams, by kind. Rules:
 * - gzip is decompressed in-process (zlib), zstd in-process too by the
 *   pinned libzstd (zstd-napi, the library the zstd codec writes with),
 *   accepting windows up to 2^ZSTD_MAX_WINDOW_LOG (128 MiB, the default
 *   limit of libzstd and of `zstd -d`); a larger window, a truncated or
 *   corrupt stream is ZSTD_INVALID with libzstd's words. xz by Debian's
 *   `xz -dc`, since Node has none: a missing program is TOOL_MISSING naming
 *   the package, a failing one XZ_INVALID with its words. All name `what`.
 * - `bounded` counts uncompressed bytes as they flow and stops a
 *   decompression bomb (LIMIT_EXCEEDED) past a size or a ratio to the
 *   compressed size (docs/security.md, "Local").
 * - `sniffCompression` decides by magic bytes only, never by a file name:
 *   gzip `1f 8b`, zstd `28 b5 2f fd`, xz `fd 37 7a 58 5a 00`, a tar by its
 *   `ustar` magic at offset 257 (POSIX and GNU tar both write it).
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
import { type ErrorCode, OciasmError } from '../errors.js';
import { zstdBinding } from './zstd/binding.js';

export interface InflateLimits {
  /** Most uncompressed bytes one layer may have (default DEFAULT_MAX_LAYER_BYTES; CLI --max-layer-size). */
  maxLayerBytes?: number;
  /** Most uncompressed bytes per compressed byte, once past INFLATE_RATIO_FLOOR (default DEFAULT_MAX_INFLATE_RATIO; CLI --max-inflate-ratio). */
  maxInflateRatio?: number;
}

export const DEFAULT_MAX_LAYER_BYTES = 64 * 2 ** 30;
/** gzip cannot pass ~1032:1, so this default stops zstd-style bombs; a gzip bomb meets the size limit and the spool's free-space guard (base/spool.ts). A 10,000-deep tree's PAX headers compress past 200:1, so 200 was too strict. */
export const DEFAULT_MAX_INFLATE_RATIO = 1000;
/** Below this many uncompressed bytes the ratio is not checked: small, very compressible layers (a file of zeros) are fine. */
export const INFLATE_RATIO_FLOOR = 64 * 2 ** 20;

/** Counts the uncompressed bytes and stops past the limits. */
export async function* bounded(input: AsyncIterable<Uint8Array>, compressedSize: number, limits: InflateLimits, what: string): AsyncGenerator<Uint8Array> {
  const maxBytes = limits.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
  const ratio = limits.maxInflateRatio ?? DEFAULT_MAX_INFLATE_RATIO;
  const ratioCap = Math.max(INFLATE_RATIO_FLOOR, ratio * compressedSize);
  let total = 0;
  for await (const chunk of input) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new OciasmError('LIMIT_EXCEEDED', `${what} inflates past ${maxBytes} bytes, the most one layer may have (raise --max-layer-size)`);
    }
    if (total > ratioCap) {
      throw new OciasmError(
        'LIMIT_EXCEEDED',
        `${what} inflates to more than ${ratio} times its ${compressedSize} compressed bytes (past ${total} bytes): refused as a decompression bomb (raise --max-inflate-ratio)`,
      );
    }
    yield chunk;
  }
}
export type Compression = 'gzip' | 'zstd' | 'xz' | 'none';

/** The compression a stream's first bytes show (at least 262 bytes for a plain tar), or undefined when it is no tar we know. */
export function sniffCompression(head: Uint8Array): Compression | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.length >= 262 && b.toString('latin1', 257, 262) === 'ustar') return 'none';
  return undefined;
}

/** The uncompressed bytes of `input`, compressed as `kind`. */
export function decompress(kind: Compression, input: AsyncIterable<Uint8Array>, what: string): AsyncIterable<Uint8Array> {
  switch (kind) {
    case 'none':
      return input;
    case 'gzip':
      return gunzip(input, what);
    case 'zstd':
      return unzstd(input, what);
    case 'xz':
      return external({ program: 'xz', pkg: 'xz-utils', kind: 'xz', code: 'XZ_INVALID' }, input, what);
  }
}

export async function* gunzip(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const gz = createGunzip({ chunkSize: 1 << 20 });
  const feed = Readable.from(input);
  feed.on('error', (e) => gz.destroy(e));
  feed.pipe(gz);
  try {
    for await (const chunk of gz) yield chunk as Buffer;
  } catch (e) {
    if (e instanceof OciasmError) throw e;
    throw new OciasmError('GZIP_INVALID', `${what}: ${(e as Error).message}`, { cause: e });
  } finally {
    feed.destroy();
  }
}

/** Largest zstd window a layer may ask for: 2^27 = 128 MiB of decoder memory (libzstd's ZSTD_WINDOWLOG_LIMIT_DEFAULT). */
export const ZSTD_MAX_WINDOW_LOG = 27;
const ZSTD_OUT = 1 << 20;

/** One or more zstd frames (and skippable frames) in sequence, as RFC 8878 §3.1 allows. */
export async function* unzstd(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const b = zstdBinding();
  const dctx = new b.DCtx();
  dctx.setParameter(b.DParameter.windowLogMax, ZSTD_MAX_WINDOW_LOG);
  let out = Buffer.allocUnsafe(ZSTD_OUT);
  let pending = -1; // libzstd's hint: 0 once a frame is complete; -1 before any input
  const step = (src: Uint8Array): { consumed: number; full: boolean; part?: Buffer } => {
    let r;
    try {
      r = dctx.decompressStream(out, src);
    } catch (e) {
      const m = (e as Error).message;
      const hint = /memory|window/i.test(m) ? ` (ociasm reads zstd windows up to ${2 ** ZSTD_MAX_WINDOW_LOG} bytes, 2^${ZSTD_MAX_WINDOW_LOG})` : '';
      throw new OciasmError('ZSTD_INVALID', `${what}: zstd: ${m}${hint}`, { cause: e });
    }
    const [ret, produced, consumed] = r;
    pending = ret;
    if (produced === 0) return { consumed, full: false };
    const part = out.subarray(0, produced);
    out = Buffer.allocUnsafe(ZSTD_OUT);
    return { consumed, full: produced === ZSTD_OUT, part };
  };
  for await (const chunk of input) {
    let src = chunk;
    let full = false;
    // Feed until the chunk is used up and libzstd has no more output waiting for room.
    while (src.length > 0 || full) {
      const s = step(src);
      if (s.part) yield s.part;
      src = src.subarray(s.consumed);
      full = s.full;
    }
  }
  if (pending !== 0) {
    throw new OciasmError('ZSTD_INVALID', `${what}: zstd: ${pending < 0 ? 'empty, not a zstd stream' : 'truncated: the stream ends inside a frame'}`);
  }
}

interface Tool {
  program: string;
  pkg: string;
  kind: string;
  code: ErrorCode;
}

async function* external(tool: Tool, input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const sub = execa(tool.program, ['-d', '-c', '-q'], {
    stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: { stdout: false, stderr: true }, reject: false,
  });
  let inputError: unknown;
  const feed = Readable.from(input);
  feed.on('error', (e) => {
    inputError = e;
    sub.kill();
  });
  sub.stdin!.on('error', () => {}); // EPIPE when the program stops early; its exit status says why
  feed.pipe(sub.stdin!);
  let done = false;
  try {
    for await (const chunk of sub.stdout!) yield chunk as Buffer;
    done = true;
  } finally {
    if (!done) {
      feed.destroy();
      sub.kill();
      await sub;
    }
  }
  const result = await sub;
  if (inputError !== undefined) throw inputError;
  if (result.code === 'ENOENT') {
    throw new OciasmError('TOOL_MISSING', `${what} is ${tool.kind}-compressed: install the ${tool.program} program (Debian: apt-get install ${tool.pkg})`);
  }
  if (result.failed) {
    const reason = String(result.stderr ?? '').trim() || result.shortMessage;
    throw new OciasmError(tool.code, `${what}: ${tool.program} -d failed: ${reason}`);
  }
}
