/**
 * One registry's HTTP client: every request (API calls, blobs, uploads and,
 * without the auth handler, token requests) goes through one middleware
 * chain (http.ts):
 *
 *   retry (injected clock) → auth → deadline → redirects → limits → debug → send
 *
 * The client turns a `RegistryRequest` (a `/v2/…` path or an absolute upload
 * URL) into the chain's request with the limits of docs/security.md, wraps
 * connection errors as REGISTRY_UNREACHABLE, and redacts every secret it
 * sent from any text of the registry's it quotes.
 */
import { OciasmError } from '../errors.js';
import { RegistryAuth } from './auth.js';
import type { CredentialStore } from './credentials.js';
import {
  type Body, compose, deadline, debugLog, type Handler, header, type HttpRequest, type HttpResponse, limits, redirects,
  type ResponseLimit, send,
} from './http.js';
import { type Clock, DEFAULT_RETRY, isRetryableStatus, type RetryControl, retryLayer, type RetryPolicy, SYSTEM_CLOCK } from './retry.js';
import type { Transport } from './transport.js';
import { DEFAULT_LIMITS, type NetworkLimits, transferDeadline } from './limits.js';

export { header };
export type { Body };

export interface ClientOptions {
  transport: Transport;
  credentials: CredentialStore;
  retry?: RetryPolicy;
  /** Request lines for --debug: method, URL and status only, never headers. */
  debug?: (message: string) => void;
  /** Warnings (a token realm on another host) for the reporter. */
  warn?: (message: string) => void;
  random?: () => number;
  /** Time for the retry handler (tests pass a fake one). */
  clock?: Clock;
  limits?: Partial<NetworkLimits>;
}

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
  /** false: one attempt; a RetryControl: a shared budget and a resume (uploads). Default: replay. */
  retry?: boolean | RetryControl;
  /** A cap on the 2xx body, which is read into memory. */
  limit?: ResponseLimit;
  /** A blob's descriptor size: the body must be exactly this long (and gets a deadline for its transfer). */
  size?: number;
  signal?: AbortSignal;
}

export type RegistryResponse = HttpResponse;

/** Printable text of a server's: control characters escaped, at most `max` characters. */
export function printable(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => (c === '\n' || c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).slice(0, max);
}

export class RegistryClient {
  readonly auth: RegistryAuth;
  readonly limits: NetworkLimits;
  private readonly chain: Handler;
  private readonly secrets = new Set<string>();

  /** A --debug line (never headers or secrets). */
  debugLine(message: string): void {
    this.opts.debug?.(message);
  }

  constructor(readonly registry: string, private readonly opts: ClientOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const clock = opts.clock ?? SYSTEM_CLOCK;
    const retry = retryLayer({
      policy: opts.retry ?? DEFAULT_RETRY, clock, random: opts.random ?? Math.random, ...(opts.debug ? { debug: opts.debug } : {}),
    });
    const lower = [deadline(registry), redirects(registry), limits(registry), debugLog(opts.debug)];
    const terminal = send(opts.transport);
    this.auth = new RegistryAuth(registry, opts.credentials, {
      send: compose([retry, ...lower], terminal),
      isInsecure: (host) => opts.transport.isInsecure(host),
      origin: async () => new URL((await opts.transport.endpoint(registry)).baseUrl).origin,
      now: () => clock.now(),
      maxTokenBytes: this.limits.maxTokenBytes,
      tokenDeadlineMs: this.limits.requestTimeoutMs,
      remember: (s) => { if (s.length >= 4) this.secrets.add(s); },
      ...(opts.warn ? { warn: opts.warn } : {}),
    });
    this.chain = compose([retry, this.auth.layer(), ...lower], terminal);
  }

  async url(path: string): Promise<URL> {
    const ep = await this.opts.transport.endpoint(this.registry);
    return new URL(path, ep.baseUrl);
  }

  /** The chain's request for a registry request: URL, limits and the total deadline. */
  private async toHttp(req: RegistryRequest): Promise<HttpRequest> {
    const sent = Number(req.headers?.['content-length'] ?? 0) || 0;
    const { retry, path: _path, ...rest } = req;
    return {
      ...rest,
      url: await this.url(req.path),
      headers: { ...req.headers },
      retry: retry === false ? false : retry === true || retry === undefined ? {} : retry,
      deadlineMs: transferDeadline(this.limits, Math.max(sent, req.size ?? 0), req.method === 'GET' && req.size === undefined && req.limit === undefined),
    };
  }

  /** Builds a chain request (for a retry `resume` that must return one). */
  prepare(req: RegistryRequest): Promise<HttpRequest> {
    return this.toHttp(req);
  }

  async request(req: RegistryRequest): Promise<RegistryResponse> {
    try {
      return await this.chain(await this.toHttp(req));
    } catch (e) {
      throw this.wrap(e, req);
    }
  }

  private wrap(e: unknown, req: Pick<RegistryRequest, 'method' | 'what'>): OciasmError {
    if (e instanceof OciasmError) return e;
    return new OciasmError('REGISTRY_UNREACHABLE', `${this.registry}: ${req.method} ${req.what} failed: ${this.redact((e as Error).message)}`, { cause: e });
  }

  /** Replaces every secret sent so far (passwords, base64 credentials, tokens) in text the registry gave us. */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  /** A clear error for an unexpected status, with the registry's own error text (at most 64 KiB read, 200 characters quoted). */
  async unexpected(res: RegistryResponse, req: Pick<RegistryRequest, 'method' | 'what'>): Promise<OciasmError> {
    const text = this.redact(await res.body.head(this.limits.maxErrorBodyBytes));
    let detail = '';
    try {
      const doc = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      detail = (Array.isArray(doc.errors) ? doc.errors : []).slice(0, 5).map((x) => `${x?.code}: ${x?.message}`).join('; ');
    } catch {
      detail = text.replace(/\s+/g, ' ').trim();
    }
    const code = isRetryableStatus(res.status) ? 'giving up after retries; ' : '';
    return new OciasmError('REGISTRY_ERROR', `${this.registry}: ${req.method} ${req.what} answered ${res.status} (${code}${printable(detail, 300) || 'no detail'})`);
  }
}
