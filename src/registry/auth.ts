/**
 * Registry authorization: Basic, or Bearer tokens fetched from the challenge's
 * realm (GET with Basic credentials, or the OAuth2 refresh-token POST for an
 * `identitytoken`), cached per registry and scope set for their lifetime.
 * Errors name the registry, the scope and the credential source, never a secret.
 */
import { request } from 'undici';
import { OciasmError } from '../errors.js';
import { type Challenge, challengeScopes, mergeScopes, scopesCover } from './challenge.js';
import type { Credentials, CredentialStore } from './credentials.js';
import type { Transport } from './transport.js';

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

  constructor(
    readonly registry: string,
    private readonly credentials: CredentialStore,
    private readonly transport: Transport,
    private readonly now: () => number = Date.now,
  ) {}

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
      return `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
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

  /** Drops cached tokens for a scope set the registry has just refused. */
  forget(scopes: string[]): void {
    const want = mergeScopes(scopes);
    for (let i = this.tokens.length - 1; i >= 0; i--) if (scopesCover(this.tokens[i]!.scopes, want)) this.tokens.splice(i, 1);
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
    const dispatcher = this.transport.dispatcherFor(url);
    let res;
    try {
      if (creds?.identityToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'ociasm', scope: scopes.join(' ') });
        if (c.params.service) form.set('service', c.params.service);
        res = await request(url, { method: 'POST', dispatcher, body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      } else {
        if (c.params.service) url.searchParams.set('service', c.params.service);
        for (const s of scopes) url.searchParams.append('scope', s);
        const headers: Record<string, string> = {};
        if (creds?.username) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
        res = await request(url, { method: 'GET', dispatcher, headers });
      }
    } catch (e) {
      throw new OciasmError('REGISTRY_UNREACHABLE', `${this.registry}: token server ${url.origin} unreachable: ${(e as Error).message}`, { cause: e });
    }
    const text = await res.body.text();
    if (res.statusCode === 401 || res.statusCode === 403) throw this.authError(scopes, creds, `the token server ${url.origin} refused (${res.statusCode})`);
    if (res.statusCode !== 200) throw this.authError(scopes, creds, `the token server ${url.origin} answered ${res.statusCode}`);
    let doc: { token?: string; access_token?: string; expires_in?: number };
    try {
      doc = JSON.parse(text);
    } catch {
      throw this.authError(scopes, creds, `the token server ${url.origin} did not answer JSON`);
    }
    const token = doc.token ?? doc.access_token;
    if (!token) throw this.authError(scopes, creds, `the token server ${url.origin} sent no token`);
    const lifetime = Math.max(60, Number(doc.expires_in) || 60) * 1000;
    return { token, scopes, expiresAt: this.now() + lifetime };
  }
}
