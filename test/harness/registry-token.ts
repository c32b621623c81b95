/**
 * A small Docker token issuer for the registry's `auth: token:` mode: checks
 * Basic credentials (or an OAuth2 refresh token), grants the requested
 * repository scopes to known users, and signs RS256 JWTs with a test key
 * whose certificate is the registry's rootcertbundle.
 */
import { createSign, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SigningCert } from './registry-certs.js';

export const TOKEN_SERVICE = 'ociasm-test-registry';
export const TOKEN_ISSUER = 'ociasm-test-issuer';

export interface TokenIssuer {
  realm: string;
  /** Every token request: who asked, for which scopes, by GET or POST. */
  requests: { method: string; user?: string; scopes: string[] }[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function sign(cert: SigningCert, claims: object): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [cert.certDerBase64] }));
  const body = b64url(JSON.stringify(claims));
  const sig = createSign('RSA-SHA256').update(`${header}.${body}`).sign(cert.keyPem);
  return `${header}.${body}.${b64url(sig)}`;
}

function access(scopes: string[]) {
  return scopes.map((s) => {
    const [type, ...rest] = s.split(':');
    const actions = rest.pop() ?? '';
    return { type, name: rest.join(':'), actions: actions.split(',').filter(Boolean) };
  });
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of req) s += c;
  return s;
}

export async function startTokenIssuer(cert: SigningCert, users: Record<string, string>): Promise<TokenIssuer> {
  const requests: TokenIssuer['requests'] = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let user: string | undefined;
    let scopes = url.searchParams.getAll('scope');
    let ok = true;
    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      const grant = form.get('grant_type');
      if (grant === 'refresh_token') {
        const rt = form.get('refresh_token') ?? '';
        user = Object.keys(users).find((u) => rt === `refresh-${u}`);
      } else if (grant === 'password') {
        const u = form.get('username') ?? '';
        user = users[u] === form.get('password') ? u : undefined;
      }
      ok = !!user;
    } else {
      const auth = req.headers.authorization;
      if (auth?.startsWith('Basic ')) {
        const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
        ok = users[u ?? ''] === p.join(':');
        if (ok) user = u;
      }
    }
    requests.push({ method: req.method ?? 'GET', ...(user ? { user } : {}), scopes });
    if (!ok) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const token = sign(cert, {
      iss: TOKEN_ISSUER, sub: user ?? '', aud: TOKEN_SERVICE, exp: now + 600, nbf: now - 60, iat: now,
      jti: randomBytes(8).toString('hex'), access: user ? access(scopes) : [],
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 600, issued_at: new Date(now * 1000).toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    requests,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
