/**
 * The one HTTP middleware chain every registry request goes through: API
 * calls, blob downloads, uploads (POST/PATCH/PUT/GET) and token requests.
 * Handlers compose outer to inner (client.ts assembles them):
 *
 *   retry (injected clock) → auth → deadline → redirects → limits → debug → send (undici)
 *
 * Rules of this file:
 * - a response body is a `ResponseBody`: every read is counted against the
 *   request's limits, and the deadline covers the body, not only the headers;
 * - a body that is not wanted is dumped with a bounded read (64 KiB) or
 *   destroyed, never read whole;
 * - redirects drop `Authorization` when they leave the origin; the auth layer
 *   adds credentials only for the registry's own origin (so an upload
 *   `Location` on another host gets none either);
 * - debug lines carry method, origin, path and status, never headers or queries.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { OciasmError } from '../errors.js';
import type { RetryControl } from './retry.js';
import type { Transport } from './transport.js';

export type Body = Buffer | string | AsyncIterable<Uint8Array> | null;

/** A size cap on a response read into memory. */
export interface ResponseLimit {
  bytes: number;
  /** For messages: "manifest", "token response". */
  what: string;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Called for each attempt, so a streamed body can be recreated. */
  body?: () => Body;
  /** For messages: "blob sha256:… of 127.0.0.1:5000/x/y". */
  what: string;
  /** Token scopes; undefined for requests that never carry registry credentials (token requests). */
  scopes?: string[];
  /** false: one attempt; otherwise how to retry (client.ts's default: replay the same request). */
  retry?: RetryControl | false;
  /** A cap on a 2xx body (manifests, tokens, blobs read into memory). */
  limit?: ResponseLimit;
  /** A blob's descriptor size: a 2xx body must be exactly this long. */
  size?: number;
  /** Total time for one attempt, redirects and body included. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
  url: URL;
}

export type Handler = (req: HttpRequest) => Promise<HttpResponse>;
export type Middleware = (next: Handler) => Handler;

/** `compose([a, b, c], send)` is a(b(c(send))): the first middleware is the outermost. */
export function compose(middlewares: Middleware[], terminal: Handler): Handler {
  return middlewares.reduceRight<Handler>((next, mw) => mw(next), terminal);
}

export function header(res: { headers: HttpResponse['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** How much of an unwanted body is read so the connection can be reused; beyond it the connection is dropped. */
export const DUMP_LIMIT = 64 << 10;

type Raw = Dispatcher.ResponseData['body'] | Readable;

/** A response body whose every read is checked (limits, exact size) and whose end settles the deadline. */
export class ResponseBody implements AsyncIterable<Buffer> {
  private readonly checks: ((total: number) => void)[] = [];
  private readonly endChecks: ((total: number) => void)[] = [];
  private readonly settled: (() => void)[] = [];
  private mapErr: (e: unknown) => unknown = (e) => e;
  private done = false;

  constructor(private readonly raw: Raw) {}

  /** `onChunk` sees the running total before a chunk is handed out and may throw to stop the read. */
  check(onChunk: (total: number) => void, onEnd?: (total: number) => void): void {
    this.checks.push(onChunk);
    if (onEnd) this.endChecks.push(onEnd);
  }

  onSettled(fn: () => void): void {
    if (this.done) fn();
    else this.settled.push(fn);
  }

  mapError(fn: (e: unknown) => unknown): void {
    const prev = this.mapErr;
    this.mapErr = (e) => fn(prev(e));
  }

  private settle(): void {
    if (this.done) return;
    this.done = true;
    for (const f of this.settled) f();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    let total = 0;
    try {
      for await (const c of this.raw) {
        const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        total += chunk.length;
        for (const f of this.checks) f(total);
        yield chunk;
      }
      for (const f of this.endChecks) f(total);
    } catch (e) {
      this.raw.destroy();
      throw this.mapErr(e);
    } finally {
      if (!this.raw.readableEnded) this.raw.destroy();
      this.settle();
    }
  }

  async bytes(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /** At most `max` bytes of the body as text (error bodies); the rest is never read. */
  async head(max: number): Promise<string> {
    const chunks: Buffer[] = [];
    let n = 0;
    try {
      for await (const c of this.raw) {
        const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        chunks.push(chunk.subarray(0, max - n));
        n += Math.min(chunk.length, max - n);
        if (n >= max) break;
      }
    } catch {
      // a broken error body: keep what arrived
    } finally {
      if (!this.raw.readableEnded) this.raw.destroy();
      this.settle();
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Reads and drops at most DUMP_LIMIT bytes (so keep-alive survives), else drops the connection. */
  async dump(): Promise<void> {
    try {
      const raw = this.raw as { dump?: (o: { limit: number }) => Promise<void> };
      if (typeof raw.dump === 'function') await raw.dump({ limit: DUMP_LIMIT });
      else this.raw.destroy();
    } catch {
      // nothing of it was wanted
    } finally {
      this.settle();
    }
  }

  /** Drops the body without reading it. */
  discard(): void {
    this.raw.destroy();
    this.settle();
  }
}

function contentLength(res: HttpResponse): number | undefined {
  const v = header(res, 'content-length');
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v);
}

const MiB = 1 << 20;
export function formatBytes(n: number): string {
  return n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

/** The terminal handler: one undici request on the transport's agent for that URL. */
export function send(transport: Transport): Handler {
  return async (req) => {
    const dispatcher = transport.dispatcherFor(req.url);
    const body = req.body?.() ?? null;
    const res = await dispatcher.request({
      origin: req.url.origin, path: req.url.pathname + req.url.search, method: req.method as Dispatcher.HttpMethod, headers: req.headers,
      body: body === null || typeof body === 'string' || Buffer.isBuffer(body) ? body : Readable.from(body),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return { status: res.statusCode, headers: res.headers, body: new ResponseBody(res.body), url: req.url };
  };
}

/** One --debug line per request on the wire (each redirect hop, each retry): method, origin, path, status. */
export function debugLog(debug: ((m: string) => void) | undefined): Middleware {
  return (next) => async (req) => {
    const res = await next(req);
    debug?.(`${req.method} ${req.url.origin}${req.url.pathname} -> ${res.status}`);
    return res;
  };
}

/**
 * Size caps on 2xx bodies: a Content-Length over the cap fails before any
 * byte is read; a body that grows past it fails at that byte. A blob with a
 * descriptor size must be exactly that long: nothing past it is handed out.
 */
export function limits(registry: string): Middleware {
  return (next) => async (req) => {
    const res = await next(req);
    if (res.status < 200 || res.status > 299 || req.method === 'HEAD') return res;
    const len = contentLength(res);
    const { size, limit } = req;
    if (size !== undefined) {
      const wrong = (got: string) =>
        new OciasmError('DIGEST_MISMATCH', `${registry}: ${req.what}: the registry sent ${got}, but its descriptor says ${size} bytes; nothing was kept`);
      if (len !== undefined && len !== size) {
        res.body.discard();
        throw wrong(`Content-Length ${len}`);
      }
      res.body.check(
        (total) => { if (total > size) throw wrong(`more than ${size} bytes (stopped there)`); },
        (total) => { if (total !== size) throw wrong(`${total} bytes`); },
      );
    }
    if (limit) {
      const tooLarge = (got: string) =>
        new OciasmError('REGISTRY_TOO_LARGE', `${registry}: ${req.what}: the ${limit.what} is ${got}, over the ${formatBytes(limit.bytes)} limit (docs/security.md)`);
      if (len !== undefined && len > limit.bytes) {
        res.body.discard();
        throw tooLarge(`${len} bytes (Content-Length)`);
      }
      res.body.check((total) => { if (total > limit.bytes) throw tooLarge('larger'); });
    }
    return res;
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
export const MAX_REDIRECTS = 5;

/** GET and HEAD follow up to 5 redirects; `Authorization` is dropped as soon as a hop leaves the origin. */
export function redirects(registry: string): Middleware {
  return (next) => async (req) => {
    let cur = req;
    for (let hop = 0; ; hop++) {
      const res = await next(cur);
      const location = header(res, 'location');
      if (!REDIRECTS.has(res.status) || !location || (cur.method !== 'GET' && cur.method !== 'HEAD') || hop >= MAX_REDIRECTS) return res;
      await res.body.dump();
      let url: URL;
      try {
        url = new URL(location, cur.url);
      } catch {
        throw new OciasmError('REGISTRY_ERROR', `${registry}: ${cur.method} ${cur.what} redirected to an invalid URL`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new OciasmError('REGISTRY_ERROR', `${registry}: ${cur.method} ${cur.what} redirected to a ${url.protocol} URL`);
      }
      const headers = { ...cur.headers };
      if (url.origin !== cur.url.origin) delete headers.authorization;
      const { body: _body, ...rest } = cur;
      cur = { ...rest, url, headers };
    }
  };
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * A total deadline per attempt (headers, redirects and the whole body), on
 * top of undici's idle timeouts: a server trickling bytes fails in bounded
 * time. A deadline exceeded is `REGISTRY_TIMEOUT` and is not retried (a
 * retry would take as long again).
 */
export function deadline(registry: string): Middleware {
  return (next) => async (req) => {
    const ms = req.deadlineMs;
    if (!ms) return next(req);
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      ctl.abort(new OciasmError(
        'REGISTRY_TIMEOUT',
        `${registry}: ${req.method} ${req.what} did not complete within ${seconds(ms)} (the total time allowed for one request; --request-timeout, docs/security.md)`,
      ));
    }, ms);
    timer.unref();
    const signal = req.signal ? AbortSignal.any([req.signal, ctl.signal]) : ctl.signal;
    const reason = (e: unknown) => (ctl.signal.aborted ? ctl.signal.reason : e);
    try {
      const res = await next({ ...req, signal });
      res.body.onSettled(() => clearTimeout(timer));
      res.body.mapError(reason);
      return res;
    } catch (e) {
      clearTimeout(timer);
      throw reason(e);
    }
  };
}
