/**
 * Blob uploads, streamed from the source, never buffered whole:
 * - an optional cross-repository mount (`?mount=…&from=…`, never mount
 *   without from), falling back to a normal upload when it is refused;
 * - a monolithic PUT with Content-Length for blobs up to `maxChunkSize`;
 * - otherwise chunked PATCHes with Content-Range, each at least
 *   OCI-Chunk-Min-Length and at most `maxChunkSize` bytes; when one fails, the
 *   upload resumes from the offset the registry reports (GET on the upload
 *   URL, `Range`), or starts over when the registry forgot the session;
 * - the source's reader may refuse its last bytes (a blob that does not match
 *   its digest, src/copy/verify-stream.ts): the request fails before the
 *   registry has the whole blob, no final PUT is sent, and the upload session
 *   is cancelled (DELETE), so the registry commits nothing;
 * - all of it through the client's one middleware chain: the waits, Retry-After
 *   and the bounded attempts are the chain's retry handler (retry.ts), with one
 *   budget for the whole blob.
 */
import type { BlobInfo, BlobReader } from '../cas/blob-store.js';
import { OciasmError, isOciasmError } from '../errors.js';
import { header, type RegistryRequest } from './client.js';
import { DEFAULT_RETRY, RetryBudget, type RetryControl } from './retry.js';
import type { RegistryRepository } from './repository.js';

/** The bytes of a blob by range (the content store's BlobReader). */
export type BlobSource = BlobReader;

export interface UploadOptions {
  /** The largest request body; bigger blobs go in chunks (default 32 MiB). */
  maxChunkSize?: number;
  /** Failed requests survived per blob before giving up (default 5). */
  attempts?: number;
  mountFrom?: string;
  /** Accepted PATCHes in a row without progress before giving up (default: the client's `maxUploadStalls`, 3). */
  maxStalls?: number;
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

/**
 * One upload: the session is opened with a POST (the client's own retries),
 * then every PUT/PATCH goes through the chain with one `RetryBudget` for the
 * whole blob. After a failure the retry handler waits (its clock), then
 * `resume` asks the registry where the upload stands and the next request is
 * built from that offset (or from a new session when it forgot this one).
 * An accepted PATCH that does not move the registry's offset is a stall;
 * `maxUploadStalls` in a row fail the upload.
 */
export async function uploadBlob(repo: RegistryRepository, info: BlobInfo, source: BlobSource, opts: UploadOptions): Promise<'mounted' | 'uploaded'> {
  const client = repo.client;
  const what = `blob ${info.digest} of ${repo.label}`;
  const maxChunk = Math.max(1, opts.maxChunkSize ?? DEFAULT_MAX_CHUNK);
  const budget = new RetryBudget(opts.attempts ?? DEFAULT_RETRY.attempts);
  const maxStalls = opts.maxStalls ?? client.limits.maxUploadStalls;
  const size = source.size;

  const open = async (mountFrom?: string): Promise<Session | 'mounted'> => {
    const query = mountFrom ? `?mount=${encodeURIComponent(info.digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    const scopes = mountFrom ? [...repo.pushPull, `repository:${mountFrom}:pull`] : repo.pushPull;
    const res = await client.request({ method: 'POST', path: `/v2/${repo.repository}/blobs/uploads/${query}`, scopes, what });
    if (res.status === 201 && mountFrom) {
      await res.body.dump();
      return 'mounted';
    }
    if (res.status !== 202) throw await client.unexpected(res, { method: 'POST', what });
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

  /** Where a broken upload stands, or undefined when the registry forgot it. */
  const status = async (s: Session): Promise<number | undefined> => {
    const res = await client.request({ method: 'GET', path: s.location, scopes: repo.pushPull, what });
    await res.body.dump();
    if (res.status !== 204 && res.status !== 200) return undefined;
    const loc = header(res, 'location');
    if (loc) s.location = (await client.url(loc)).toString();
    return nextOffset(header(res, 'range')) ?? 0;
  };

  let session: Session;
  let offset = 0;
  let stalls = 0;
  let mountFrom = opts.mountFrom;
  for (;;) {
    let opened: Session | 'mounted';
    try {
      opened = await open(mountFrom);
    } catch (e) {
      if (!mountFrom || !isOciasmError(e) || !['REGISTRY_AUTH', 'REGISTRY_ERROR'].includes(e.code)) throw e;
      mountFrom = undefined; // a refused mount: upload normally
      continue;
    }
    if (opened === 'mounted') return 'mounted';
    session = opened;
    break;
  }

  /** The step the next request is for. */
  let step: { kind: 'put' | 'patch' | 'close'; from: number; end: number } = { kind: 'put', from: 0, end: size };
  const control: RetryControl = {
    budget, alsoStatus: [416], label: `upload of ${what}`,
    giveUp: (failures, f) => new OciasmError('REGISTRY_ERROR', `${client.registry}: uploading ${what} failed ${failures} times, giving up: ${f.message}`, f.error ? { cause: f.error } : undefined),
    resume: async () => {
      const resumed = size > maxChunk ? await status(session).catch(() => undefined) : undefined;
      if (resumed === undefined || resumed > size) {
        const again = await open();
        if (again === 'mounted') throw new OciasmError('REGISTRY_ERROR', `${client.registry}: POST ${what} mounted without a mount request`);
        session = again;
        offset = 0;
      } else {
        offset = resumed;
        opts.onResume?.(info.digest, offset);
      }
      return client.prepare(next());
    },
  };

  const next = (): RegistryRequest => {
    if (offset === 0 && size <= maxChunk) {
      step = { kind: 'put', from: 0, end: size };
      return {
        method: 'PUT', path: withDigest(session.location), scopes: repo.pushPull, what, retry: control,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: () => source.openAt(0, size),
      };
    }
    if (offset < size) {
      const from = offset;
      const end = Math.min(size, offset + Math.max(maxChunk, session.minChunk));
      step = { kind: 'patch', from, end };
      return {
        method: 'PATCH', path: session.location, scopes: repo.pushPull, what, retry: control,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - from), 'content-range': `${from}-${end - 1}` },
        body: () => source.openAt(from, end),
      };
    }
    step = { kind: 'close', from: size, end: size };
    return { method: 'PUT', path: withDigest(session.location), scopes: repo.pushPull, what, retry: control, headers: { 'content-length': '0' } };
  };

  try {
    return await send();
  } catch (e) {
    const refused = digestRefusal(e);
    if (!refused) throw e;
    // The source refused its own bytes: nothing may be committed. Cancel the session (best effort; a
    // registry that cannot forgets it when its upload purge runs) and report the source's error.
    // Distribution refuses every request on a session whose last request was cut off ("upload resumed at
    // wrong offset"), so there the session waits for its purge; it can never be committed without our PUT.
    await client.request({ method: 'DELETE', path: session.location, scopes: repo.pushPull, what, retry: false })
      .then((res) => res.body.dump(), () => undefined);
    throw refused;
  }

  async function send(): Promise<'uploaded'> {
    for (;;) {
      const res = await client.request(next());
      const { kind, from, end } = step;
      if (kind !== 'patch') {
        if (res.status !== 201) throw await client.unexpected(res, { method: 'PUT', what });
        await res.body.dump();
        return 'uploaded';
      }
      if (res.status !== 202) throw await client.unexpected(res, { method: 'PATCH', what });
      await res.body.dump();
      const loc = header(res, 'location');
      if (loc) session.location = (await client.url(loc)).toString();
      const reported = nextOffset(header(res, 'range'));
      if (reported !== undefined && reported > end) {
        throw new OciasmError('REGISTRY_ERROR', `${client.registry}: PATCH ${what}: the registry reports ${reported} bytes received after we sent ${end}`);
      }
      offset = reported ?? end;
      if (offset > from) stalls = 0;
      else if (++stalls >= maxStalls) {
        throw new OciasmError(
          'REGISTRY_ERROR',
          `${client.registry}: uploading ${what} makes no progress: ${stalls} PATCHes in a row were accepted but the registry still reports offset ${offset}; giving up`,
        );
      }
    }
  }
}

/** The source's DIGEST_MISMATCH, also when undici or the client wrapped it (as `cause`). */
function digestRefusal(e: unknown): OciasmError | undefined {
  for (let cur = e as { cause?: unknown } | undefined, d = 0; cur && d < 6; cur = cur.cause as typeof cur, d++) {
    if (isOciasmError(cur) && cur.code === 'DIGEST_MISMATCH') return cur;
  }
  return undefined;
}
