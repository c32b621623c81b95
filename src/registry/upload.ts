/**
 * Blob uploads, streamed from the source, never buffered whole:
 * - an optional cross-repository mount (`?mount=…&from=…`, never mount
 *   without from), falling back to a normal upload when it is refused;
 * - a monolithic PUT with Content-Length for blobs up to `maxChunkSize`;
 * - otherwise chunked PATCHes with Content-Range, each at least
 *   OCI-Chunk-Min-Length and at most `maxChunkSize` bytes; when one fails, the
 *   upload resumes from the offset the registry reports (GET on the upload
 *   URL, `Range`), or starts over when the registry forgot the session.
 */
import type { BlobInfo, BlobReader } from '../cas/blob-store.js';
import { OciasmError, isOciasmError } from '../errors.js';
import { header, type RegistryResponse } from './client.js';
import { backoffDelay, DEFAULT_RETRY, isRetryableError, isRetryableStatus, parseRetryAfter, sleep } from './retry.js';
import type { RegistryRepository } from './repository.js';

/** The bytes of a blob by range (the content store's BlobReader). */
export type BlobSource = BlobReader;

export interface UploadOptions {
  /** The largest request body; bigger blobs go in chunks (default 32 MiB). */
  maxChunkSize?: number;
  /** Failed requests survived per blob before giving up (default 5). */
  attempts?: number;
  mountFrom?: string;
  /** Told about every resume, for --debug. */
  onResume?: (digest: string, offset: number) => void;
}

export const DEFAULT_MAX_CHUNK = 32 << 20;

interface Session {
  location: string;
  minChunk: number;
}

/** `Range: 0-N` (inclusive) from an upload status: the next offset. Distribution writes 0-0 for an empty upload. */
export function nextOffset(range: string | undefined): number | undefined {
  const m = range ? /^(?:bytes=)?0-(\d+)$/.exec(range.trim()) : null;
  if (!m) return undefined;
  const end = Number(m[1]);
  return end === 0 ? 0 : end + 1;
}

/** A failed upload request worth retrying; `retryAfterMs` from the registry's Retry-After, if any. */
class Recoverable extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

export async function uploadBlob(repo: RegistryRepository, info: BlobInfo, source: BlobSource, opts: UploadOptions): Promise<'mounted' | 'uploaded'> {
  const client = repo.client;
  const what = `blob ${info.digest} of ${repo.label}`;
  const maxChunk = Math.max(1, opts.maxChunkSize ?? DEFAULT_MAX_CHUNK);
  const attempts = opts.attempts ?? DEFAULT_RETRY.attempts;
  let failures = 0;

  const fail = async (res: RegistryResponse, method: string): Promise<never> => {
    if (isRetryableStatus(res.status) || res.status === 416) {
      await res.body.dump();
      throw new Recoverable(`${method} answered ${res.status}`, parseRetryAfter(header(res, 'retry-after'), Date.now()));
    }
    throw await client.unexpected(res, { method, what });
  };

  const start = async (mountFrom?: string): Promise<Session | 'mounted'> => {
    const query = mountFrom ? `?mount=${encodeURIComponent(info.digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    const scopes = mountFrom ? [...repo.pushPull, `repository:${mountFrom}:pull`] : repo.pushPull;
    const res = await client.request({ method: 'POST', path: `/v2/${repo.repository}/blobs/uploads/${query}`, scopes, what });
    if (res.status === 201 && mountFrom) {
      await res.body.dump();
      return 'mounted';
    }
    if (res.status !== 202) return fail(res, 'POST');
    await res.body.dump();
    const location = header(res, 'location');
    if (!location) throw new OciasmError('REGISTRY_ERROR', `${client.registry}: POST ${what} gave no upload Location`);
    return { location: (await client.url(location)).toString(), minChunk: Number(header(res, 'oci-chunk-min-length')) || 0 };
  };

  const withDigest = (location: string) => {
    const u = new URL(location);
    u.searchParams.set('digest', info.digest);
    return u.toString();
  };

  const send = async (s: Session, offset: number): Promise<number> => {
    if (offset === 0 && source.size <= maxChunk) {
      const res = await client.request({
        method: 'PUT', path: withDigest(s.location), scopes: repo.pushPull, what, retry: false,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(source.size) },
        body: () => source.openAt(0, source.size),
      });
      if (res.status !== 201) return fail(res, 'PUT');
      await res.body.dump();
      return source.size;
    }
    const chunk = Math.max(maxChunk, s.minChunk);
    while (offset < source.size) {
      const end = Math.min(source.size, offset + chunk);
      const from = offset;
      const res = await client.request({
        method: 'PATCH', path: s.location, scopes: repo.pushPull, what, retry: false,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - from), 'content-range': `${from}-${end - 1}` },
        body: () => source.openAt(from, end),
      });
      if (res.status !== 202) return fail(res, 'PATCH');
      await res.body.dump();
      const loc = header(res, 'location');
      if (loc) s.location = (await client.url(loc)).toString();
      offset = nextOffset(header(res, 'range')) ?? end;
    }
    const res = await client.request({
      method: 'PUT', path: withDigest(s.location), scopes: repo.pushPull, what, retry: false, headers: { 'content-length': '0' },
    });
    if (res.status !== 201) return fail(res, 'PUT');
    await res.body.dump();
    return source.size;
  };

  /** Where a broken upload stands: its offset and current URL, or undefined when the registry forgot it. */
  const status = async (s: Session): Promise<number | undefined> => {
    const res = await client.request({ method: 'GET', path: s.location, scopes: repo.pushPull, what });
    await res.body.dump();
    if (res.status !== 204 && res.status !== 200) return undefined;
    const loc = header(res, 'location');
    if (loc) s.location = (await client.url(loc)).toString();
    return nextOffset(header(res, 'range')) ?? 0;
  };

  let session: Session | undefined;
  let offset = 0;
  let mountFrom = opts.mountFrom;
  for (;;) {
    try {
      if (!session) {
        let started: Session | 'mounted';
        try {
          started = await start(mountFrom);
        } catch (e) {
          if (!mountFrom || !isOciasmError(e) || !['REGISTRY_AUTH', 'REGISTRY_ERROR'].includes(e.code)) throw e;
          mountFrom = undefined; // a refused mount: upload normally
          continue;
        }
        if (started === 'mounted') return 'mounted';
        session = started;
        offset = 0;
      }
      await send(session, offset);
      return 'uploaded';
    } catch (e) {
      if (!(e instanceof Recoverable) && !isRetryableError(e) && !(isOciasmError(e) && e.code === 'REGISTRY_UNREACHABLE')) throw e;
      if (++failures >= attempts) {
        throw new OciasmError('REGISTRY_ERROR', `${client.registry}: uploading ${what} failed ${failures} times, giving up: ${(e as Error).message}`, { cause: e });
      }
      const wait = backoffDelay(failures, DEFAULT_RETRY, Math.random, e instanceof Recoverable ? e.retryAfterMs : undefined);
      client.debugLine(`upload of ${what}: ${(e as Error).message}; retrying in ${wait} ms`);
      await sleep(wait);
      const resumed = session && source.size > maxChunk ? await status(session).catch(() => undefined) : undefined;
      if (resumed === undefined || resumed > source.size) session = undefined;
      else {
        offset = resumed;
        opts.onResume?.(info.digest, offset);
      }
    }
  }
}
