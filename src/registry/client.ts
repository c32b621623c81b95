/**
 * One registry's HTTP client: keep-alive undici requests, authorization on
 * demand (a 401 teaches the challenge; a second 401 asking for more scope
 * fetches a wider token), redirects followed without credentials, and bounded
 * retries with backoff and jitter on 408/429/5xx and dropped connections.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { OciasmError } from '../errors.js';
import { RegistryAuth } from './auth.js';
import { parseChallenges } from './challenge.js';
import type { CredentialStore } from './credentials.js';
import { backoffDelay, DEFAULT_RETRY, isRetryableError, isRetryableStatus, parseRetryAfter, type RetryPolicy, sleep } from './retry.js';
import type { Transport } from './transport.js';

export interface ClientOptions {
  transport: Transport;
  credentials: CredentialStore;
  retry?: RetryPolicy;
  /** Request lines for --debug: method, URL and status only, never headers. */
  debug?: (message: string) => void;
  random?: () => number;
}

export type Body = Buffer | string | AsyncIterable<Uint8Array> | null;

export interface RegistryRequest {
  method: string;
  /** `/v2/…` or an absolute URL (an upload Location). */
  path: string;
  scopes: string[];
  /** For messages: "blob sha256:… of 127.0.0.1:5000/x/y". */
  what: string;
  headers?: Record<string, string>;
  /** Called for each attempt, so a streamed body can be recreated. */
  body?: () => Body;
  /** false: one attempt; the caller recovers (chunked uploads resume instead). */
  retry?: boolean;
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  url: URL;
}

export function header(res: { headers: RegistryResponse['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export class RegistryClient {
  readonly auth: RegistryAuth;
  private readonly retry: RetryPolicy;
  private readonly random: () => number;

  /** A --debug line (never headers or secrets). */
  debugLine(message: string): void {
    this.opts.debug?.(message);
  }

  constructor(readonly registry: string, private readonly opts: ClientOptions) {
    this.auth = new RegistryAuth(registry, opts.credentials, opts.transport);
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.random = opts.random ?? Math.random;
  }

  async url(path: string): Promise<URL> {
    const ep = await this.opts.transport.endpoint(this.registry);
    return new URL(path, ep.baseUrl);
  }

  async request(req: RegistryRequest): Promise<RegistryResponse> {
    let scopes = req.scopes;
    let authRounds = 0;
    const attempts = req.retry === false ? 1 : this.retry.attempts;
    for (let attempt = 1; ; attempt++) {
      let res: RegistryResponse;
      try {
        res = await this.once(req, scopes);
      } catch (e) {
        if (e instanceof OciasmError || !isRetryableError(e) || attempt >= attempts) throw this.wrap(e, req);
        const wait = backoffDelay(attempt, this.retry, this.random);
        this.opts.debug?.(`${req.method} ${req.what}: ${(e as Error).message}; retrying in ${wait} ms`);
        await sleep(wait);
        continue;
      }
      if (res.status === 401) {
        await res.body.dump();
        const challenges = parseChallenges(header(res, 'www-authenticate'));
        if (++authRounds > 2 || (this.auth.known && authRounds > 1 && challenges.every((c) => c.scheme !== 'bearer'))) {
          throw this.auth.authError(scopes, await this.opts.credentials.get(this.registry), `${req.method} ${req.what} answered 401`);
        }
        if (authRounds > 1) this.auth.forget(scopes);
        scopes = this.auth.onUnauthorized(challenges, scopes);
        attempt--;
        continue;
      }
      if (res.status === 403 && this.auth.known) {
        await res.body.dump();
        throw this.auth.authError(scopes, await this.opts.credentials.get(this.registry), `${req.method} ${req.what} answered 403`);
      }
      if (isRetryableStatus(res.status) && attempt < attempts) {
        await res.body.dump();
        const wait = backoffDelay(attempt, this.retry, this.random, parseRetryAfter(header(res, 'retry-after'), Date.now()));
        this.opts.debug?.(`${req.method} ${req.what}: ${res.status}; retrying in ${wait} ms`);
        await sleep(wait);
        continue;
      }
      return res;
    }
  }

  private wrap(e: unknown, req: RegistryRequest): OciasmError {
    if (e instanceof OciasmError) return e;
    return new OciasmError('REGISTRY_UNREACHABLE', `${this.registry}: ${req.method} ${req.what} failed: ${(e as Error).message}`, { cause: e });
  }

  private async once(req: RegistryRequest, scopes: string[]): Promise<RegistryResponse> {
    let url = await this.url(req.path);
    const headers: Record<string, string> = { ...req.headers };
    const auth = await this.auth.header(scopes);
    if (auth) headers.authorization = auth;
    let body = req.body?.() ?? null;
    for (let hop = 0; ; hop++) {
      const dispatcher = this.opts.transport.dispatcherFor(url);
      const res = await dispatcher.request({
        origin: url.origin, path: url.pathname + url.search, method: req.method as Dispatcher.HttpMethod, headers,
        body: body === null || typeof body === 'string' || Buffer.isBuffer(body) ? body : Readable.from(body),
      });
      this.opts.debug?.(`${req.method} ${url.origin}${url.pathname} -> ${res.statusCode}`);
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && location && (req.method === 'GET' || req.method === 'HEAD') && hop < 5) {
        await res.body.dump();
        const next = new URL(String(location), url);
        if (next.origin !== url.origin) delete headers.authorization;
        url = next;
        body = null;
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body, url };
    }
  }

  /** A clear error for an unexpected status, with the registry's own error text. */
  async unexpected(res: RegistryResponse, req: Pick<RegistryRequest, 'method' | 'what'>): Promise<OciasmError> {
    const text = (await res.body.text().catch(() => '')).slice(0, 500);
    let detail = '';
    try {
      const doc = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      detail = (doc.errors ?? []).map((x) => `${x.code}: ${x.message}`).join('; ');
    } catch {
      detail = text.replace(/\s+/g, ' ').trim().slice(0, 200);
    }
    const code = isRetryableStatus(res.status) ? 'giving up after retries; ' : '';
    return new OciasmError('REGISTRY_ERROR', `${this.registry}: ${req.method} ${req.what} answered ${res.status} (${code}${detail || 'no detail'})`);
  }
}
