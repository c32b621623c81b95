/**
 * Decompressing byte streams: gzip in-process (node:zlib), zstd and xz by
 * Debian's `zstd -dc` and `xz -dc` (Node 20 has neither). Rules:
 * - A corrupt stream is GZIP_INVALID / ZSTD_INVALID / XZ_INVALID naming
 *   `what`; a missing program is TOOL_MISSING with the package to install.
 * - `sniffCompression` decides by magic bytes only, never by a file name;
 *   `isTarHeader` tells a tar's first block by its `ustar` magic.
 * - Errors of the input stream pass through unchanged (a digest check's
 *   DIGEST_MISMATCH stays one).
 * - Decompression bombs: bounded() counts the uncompressed bytes as they flow
 *   and refuses (LIMIT_EXCEEDED) past `maxLayerBytes`, or past both
 *   INFLATE_RATIO_FLOOR and `maxInflateRatio` times the compressed size
 *   (docs/security.md, "Local").
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
import { type ErrorCode, OciasmError } from '../errors.js';

export interface InflateLimits {
  /** Most uncompressed bytes one layer may have (default DEFAULT_MAX_LAYER_BYTES; CLI --max-layer-size). */
  maxLayerBytes?: number;
  /** Most uncompressed bytes per compressed byte, once past INFLATE_RATIO_FLOOR (default DEFAULT_MAX_INFLATE_RATIO; CLI --max-inflate-ratio). */
  maxInflateRatio?: number;
}

export const DEFAULT_MAX_LAYER_BYTES = 64 * 2 ** 30;
export const DEFAULT_MAX_INFLATE_RATIO = 200;
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

export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

/** The compression a stream's first bytes show (at least 6 bytes for xz). */
export function sniffCompression(head: Uint8Array): Compression {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
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

export function unzstd(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  return external({ program: 'zstd', pkg: 'zstd', kind: 'zstd', code: 'ZSTD_INVALID' }, input, what);
}

export function unxz(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  return external({ program: 'xz', pkg: 'xz-utils', kind: 'xz', code: 'XZ_INVALID' }, input, what);
}

/** Whether a block is a tar header with the POSIX/GNU `ustar` magic (offset 257; v7 tars have none). */
export function isTarHeader(head: Uint8Array): boolean {
  return head.length >= 262 && Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1', 257, 262) === 'ustar';
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

/** Decompresses `input` as `compression` says; 'none' passes it through. */
export function decompress(input: AsyncIterable<Uint8Array>, compression: Compression, what: string): AsyncIterable<Uint8Array> {
  switch (compression) {
    case 'none': return input;
    case 'gzip': return gunzip(input, what);
    case 'zstd': return unzstd(input, what);
    case 'xz': return unxz(input, what);
    default: throw new OciasmError('LAYER_INVALID', `${what} is ${compression}-compressed, which is not supported (gzip, zstd, xz or none)`);
  }
}
