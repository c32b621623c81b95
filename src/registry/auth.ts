/**
 * Registry authorization: Basic, or Bearer tokens fetched from the challenge's
 * realm (GET with Basic credentials, or the OAuth2 refresh-token POST for an
 * `identitytoken`), cached per registry and scope set for their lifetime.
 * Errors name the registry, the scope and the credential source, never a secret.
 *
 * Where credentials may go (docs/security.md, "Network"):
 * - the registry's own origin only: the auth handler of the chain adds
 *   `Authorization` to a request only when its URL is on the registry's
 *   origin (an upload `Location` or a redirect elsewhere gets none);
 * - a Bearer realm gets them only over HTTPS, or over plain HTTP when the
 *   realm's host is loopback or named in --insecure-registry; otherwise the
 *   request is refused before any connection. A realm on another site than
 *   the registry is warned about once.
 */
import { isIP } from 'node:net';
import { isLoopback } from '../codec/reference.js';
import { OciasmError } from '../errors.js';
import { type Challenge, challengeScopes, mergeScopes, parseChallenges, scopesCover } from './challenge.js';
import type { Credentials, CredentialStore } from './credentials.js';
import { type Handler, header, type HttpRequest, type Middleware } from './http.js';

export interface AuthOptions {
  /** The chain without the auth handler, for token requests. */
  send: Handler;
  /** Plain HTTP is acceptable for this host[:port] (loopback or --insecure-registry). */
  isInsecure: (host: string) => boolean;
  /** The registry's origin (`http://127.0.0.1:5000`), once its scheme is known. */
  origin: () => Promise<string>;
  now?: () => number;
  warn?: (message: string) => void;
  /** Cap on a token response (default 1 MiB). */
  maxTokenBytes?: number;
  tokenDeadlineMs?: number;
  /** Every secret sent (for redacting echoed server text). */
  remember?: (secret: string) => void;
}

/** The site of a host: an IP as it is, a name by its last two labels (auth.docker.io and registry-1.docker.io are one site). */
function site(host: string): string {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(h)) return h;
  return h.split('.').slice(-2).join('.');
}

interface CachedToken {
  token: string;
  scopes: string[];
  expiresAt: number;
}

export function describeSource(creds: Credentials | undefined): string {
  return creds
    ? `credentials from ${creds.source}`
    : 'no credentials (anonymous; looked in --creds, OCIASM_USERNAME, REGISTRY_AUTH_FILE, containers auth.json, docker config.json)';
}

export class RegistryAuth {
  private challenge?: Challenge;
  private readonly tokens: CachedToken[] = [];
  /** Token requests in flight, by scope set: parallel requests share one. */
  private readonly pending = new Map<string, Promise<CachedToken>>();

  private readonly now: () => number;
  private readonly warned = new Set<string>();

  constructor(
    readonly registry: string,
    private readonly credentials: CredentialStore,
    private readonly opts: AuthOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  authError(scopes: string[], creds: Credentials | undefined, detail: string): OciasmError {
    const scope = mergeScopes(scopes).join(' ') || '(none)';
    return new OciasmError('REGISTRY_AUTH', `${this.registry}: access denied for scope "${scope}" using ${describeSource(creds)}: ${detail}`);
  }

  /** Learns from a 401; returns the scopes to ask for next (wider when the challenge asks for more). */
  onUnauthorized(challenges: Challenge[], scopes: string[]): string[] {
    const c = challenges.find((x) => x.scheme === 'bearer') ?? challenges.find((x) => x.scheme === 'basic');
    if (!c) throw new OciasmError('REGISTRY_AUTH', `${this.registry}: 401 without a usable WWW-Authenticate challenge`);
    this.challenge = c;
    return c.scheme === 'bearer' ? mergeScopes([...scopes, ...challengeScopes(c)]) : scopes;
  }

  get known(): boolean {
    return this.challenge !== undefined;
  }

  /** The Authorization header for these scopes, or undefined before any challenge. */
  async header(scopes: string[]): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    const creds = await this.credentials.get(this.registry);
    if (c.scheme === 'basic') {
      if (!creds?.username) throw this.authError(scopes, creds, 'the registry requires Basic credentials');
      return this.basic(creds);
    }
    const want = mergeScopes(scopes);
    const now = this.now();
    const hit = this.tokens.find((t) => t.expiresAt > now + 5000 && scopesCover(t.scopes, want));
    if (hit) return `Bearer ${hit.token}`;
    const key = want.join(' ');
    let p = this.pending.get(key);
    if (!p) {
      p = this.fetchToken(c, want, creds).then((t) => {
        this.tokens.push(t);
        return t;
      });
      this.pending.set(key, p);
      p.then(() => this.pending.delete(key), () => this.pending.delete(key));
    }
    return `Bearer ${(await p).token}`;
  }

  private basic(creds: Credentials): string {
    const b64 = Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64');
    if (creds.password) this.opts.remember?.(creds.password);
    this.opts.remember?.(b64);
    return `Basic ${b64}`;
  }

  /** Drops cached tokens for a scope set the registry has just refused. */
  forget(scopes: string[]): void {
    const want = mergeScopes(scopes);
    for (let i = this.tokens.length - 1; i >= 0; i--) if (scopesCover(this.tokens[i]!.scopes, want)) this.tokens.splice(i, 1);
  }

  /** Refuses to send credentials to a realm over plain HTTP (unless loopback or insecure); warns about another site. */
  private checkRealm(url: URL, creds: Credentials | undefined): void {
    if (!creds?.username && !creds?.identityToken) return;
    if (url.protocol !== 'https:' && !isLoopback(url.host) && !this.opts.isInsecure(url.host)) {
      throw new OciasmError(
        'REGISTRY_AUTH',
        `${this.registry}: the Bearer realm ${url.origin} is plain HTTP; ${describeSource(creds)} are sent to a token server only over HTTPS ` +
        `(or to a loopback or --insecure-registry host). Nothing was sent.`,
      );
    }
    const registryHost = new URL(`http://${this.registry}`).hostname;
    if (site(url.hostname) !== site(registryHost) && !this.warned.has(url.host)) {
      this.warned.add(url.host);
      this.opts.warn?.(`${this.registry}: the Bearer realm ${url.origin} is on another host than the registry; ${describeSource(creds)} are sent there`);
    }
  }

  private async fetchToken(c: Challenge, scopes: string[], creds: Credentials | undefined): Promise<CachedToken> {
    const realm = c.params.realm;
    if (!realm) throw new OciasmError('REGISTRY_AUTH', `${this.registry}: Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new OciasmError('REGISTRY_AUTH', `${this.registry}: Bearer realm "${realm}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OciasmError('REGISTRY_AUTH', `${this.registry}: Bearer realm ${url.protocol} is not HTTP(S)`);
    this.checkRealm(url, creds);
    const what = `token from ${url.origin}`;
    const common = {
      what, limit: { bytes: this.opts.maxTokenBytes ?? DEFAULT_TOKEN_BYTES, what: 'token response' },
      ...(this.opts.tokenDeadlineMs ? { deadlineMs: this.opts.tokenDeadlineMs } : {}),
    };
    let req: HttpRequest;
    if (creds?.identityToken) {
      this.opts.remember?.(creds.identityToken);
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'ociasm', scope: scopes.join(' ') });
      if (c.params.service) form.set('service', c.params.service);
      const body = form.toString();
      req = { ...common, method: 'POST', url, body: () => body, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    } else {
      if (c.params.service) url.searchParams.set('service', c.params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (creds?.username) headers.authorization = this.basic(creds);
      req = { ...common, method: 'GET', url, headers };
    }
    let res;
    try {
      res = await this.opts.send(req);
    } catch (e) {
      if (e instanceof OciasmError) throw e;
      throw new OciasmError('REGISTRY_UNREACHABLE', `${this.registry}: token server ${url.origin} unreachable: ${(e as Error).message}`, { cause: e });
    }
    if (res.status !== 200) {
      await res.body.dump();
      if (res.status === 401 || res.status === 403) throw this.authError(scopes, creds, `the token server ${url.origin} refused (${res.status})`);
      throw this.authError(scopes, creds, `the token server ${url.origin} answered ${res.status}`);
    }
    const text = await res.body.text();
    let doc: { token?: string; access_token?: string; expires_in?: number };
    try {
      doc = JSON.parse(text);
    } catch {
      throw this.authError(scopes, creds, `the token server ${url.origin} did not answer JSON`);
    }
    const token = typeof doc.token === 'string' && doc.token ? doc.token : doc.access_token;
    if (!token || typeof token !== 'string') throw this.authError(scopes, creds, `the token server ${url.origin} sent no token`);
    this.opts.remember?.(token);
    const lifetime = Math.max(60, Number(doc.expires_in) || 60) * 1000;
    return { token, scopes, expiresAt: this.now() + lifetime };
  }

  /**
   * The auth handler of the chain: credentials for the registry's origin only;
   * a 401 teaches the challenge (a second 401 asking for more scope fetches a
   * wider token); a 403 after authenticating is REGISTRY_AUTH.
   */
  layer(): Middleware {
    return (next) => async (req) => {
      if (!req.scopes) return next(req);
      let scopes = req.scopes;
      const origin = await this.opts.origin();
      for (let rounds = 0; ; ) {
        const headers = { ...req.headers };
        delete headers.authorization;
        if (req.url.origin === origin) {
          const auth = await this.header(scopes);
          if (auth) headers.authorization = auth;
        }
        const res = await next({ ...req, headers });
        if (res.status === 401) {
          await res.body.dump();
          const challenges = parseChallenges(header(res, 'www-authenticate'));
          if (++rounds > 2 || req.url.origin !== origin || (this.known && rounds > 1 && challenges.every((c) => c.scheme !== 'bearer'))) {
            throw this.authError(scopes, await this.credentials.get(this.registry), `${req.method} ${req.what} answered 401`);
          }
          if (rounds > 1) this.forget(scopes);
          scopes = this.onUnauthorized(challenges, scopes);
          continue;
        }
        if (res.status === 403 && this.known) {
          await res.body.dump();
          throw this.authError(scopes, await this.credentials.get(this.registry), `${req.method} ${req.what} answered 403`);
        }
        return res;
      }
    };
  }
}

export const DEFAULT_TOKEN_BYTES = 1 << 20;
