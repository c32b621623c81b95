/**
 * How to reach a registry: HTTPS verified by default (system CAs plus
 * `--ca-file` and `SSL_CERT_FILE`); plain HTTP or unverified TLS only for a
 * registry named in `--insecure-registry`/`insecureRegistries:`; loopback
 * hosts (localhost, 127.0.0.0/8, ::1) may fall back to plain HTTP as Docker
 * allows. One keep-alive undici Agent per TLS setting, shared by all requests.
 *
 * The probe of a loopback or insecure registry (docs/security.md, "Which
 * scheme"): HTTPS first, as skopeo and Docker do. Its first step only asks
 * whether the server speaks TLS at all, with a TLS context that holds no CA
 * (nothing is sent but a ClientHello; building the CA store costs 50-100 ms
 * and more with SSL_CERT_FILE). A server that answers in plain HTTP gets plain
 * HTTP; one that speaks TLS is then probed as before, with verification
 * (loopback) or without (--insecure-registry), so what a TLS registry is
 * trusted with does not change.
 *
 * undici is loaded as its Agent and request API only (its index also loads
 * fetch, WebSocket, the cache and mocks: about 100 ms of a push's start-up);
 * undici is pinned exactly in package.json.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import type { Agent as UndiciAgent } from 'undici';
import { apiHost, isLoopback } from '../codec/reference.js';
import { OciasmError } from '../errors.js';

export interface TlsOptions {
  /** Registries (host[:port]) allowed over plain HTTP or unverified TLS. */
  insecureRegistries?: string[];
  /** Extra CA certificate files (PEM). */
  caFiles?: string[];
  env?: NodeJS.ProcessEnv;
  /** Total time for the HTTPS probe of a loopback or insecure registry (default 120 s). */
  probeTimeoutMs?: number;
}

const require = createRequire(import.meta.url);
type AgentClass = typeof UndiciAgent;
/** undici's Agent with the `request` API mixed in, as undici's index does for every Dispatcher, here on our subclass only. */
const Agent: AgentClass = (() => {
  const Base = require('undici/lib/dispatcher/agent.js') as AgentClass;
  const { request } = require('undici/lib/api/index.js') as { request: UndiciAgent['request'] };
  class RegistryAgent extends Base {}
  if (typeof (RegistryAgent.prototype as Partial<UndiciAgent>).request !== 'function') {
    Object.defineProperty(RegistryAgent.prototype, 'request', { value: request, writable: true, configurable: true });
  }
  return RegistryAgent;
})();
export type Agent = UndiciAgent;

export interface Endpoint {
  /** e.g. `https://registry-1.docker.io` */
  baseUrl: string;
  dispatcher: Agent;
}

/** The context of the TLS check: no CA at all (nothing is verified, nothing is trusted; only "does it speak TLS"). */
let bareContext: tls.SecureContext | undefined;

/**
 * Whether the server at host:port answers a TLS ClientHello with TLS: false when
 * it answers in plain HTTP (OpenSSL's "wrong version number"), true when the
 * handshake completes or fails for any other reason (certificates are judged
 * later, by the verified probe). Connection errors and the timeout are thrown.
 */
export function speaksTls(hostname: string, port: number, timeoutMs: number): Promise<boolean> {
  bareContext ??= tls.createSecureContext({ ca: [] });
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: hostname, port, secureContext: bareContext, rejectUnauthorized: false,
      ...(net.isIP(hostname) ? {} : { servername: hostname }),
    });
    const done = (fn: () => void) => { clearTimeout(timer); socket.destroy(); fn(); };
    const timer = setTimeout(() => done(() => reject(new OciasmError('REGISTRY_UNREACHABLE', `${hostname}:${port}: no TLS or HTTP answer within ${timeoutMs} ms`))), timeoutMs);
    timer.unref();
    socket.once('secureConnect', () => done(() => resolve(true)));
    socket.once('error', (e) => done(() => {
      if (isPlainHttpServer(e)) resolve(false);
      else if (isTlsError(e)) resolve(true);
      else reject(e);
    }));
  });
}

const AGENT_OPTIONS = { keepAliveTimeout: 10_000, connections: 16, headersTimeout: 60_000, bodyTimeout: 120_000 } as const;

function readCa(file: string, source: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new OciasmError('REGISTRY_TLS', `cannot read the CA file ${file} (${source}): ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

/** TLS errors that mean "this server does not speak TLS" rather than "this certificate is bad". */
function isPlainHttpServer(e: unknown): boolean {
  for (let cur = e as { code?: string; message?: string; cause?: unknown } | undefined, d = 0; cur && d < 5; cur = cur.cause as typeof cur, d++) {
    if (cur.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|EPROTO/.test(`${cur.code} ${cur.message}`)) return true;
  }
  return false;
}

export function isTlsError(e: unknown): boolean {
  for (let cur = e as { code?: string; cause?: unknown } | undefined, d = 0; cur && d < 5; cur = cur.cause as typeof cur, d++) {
    if (typeof cur.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME/.test(cur.code)) return true;
  }
  return false;
}

export class Transport {
  private readonly insecure: Set<string>;
  private ca?: string[];
  private verified?: Agent;
  private unverified?: Agent;
  /** Decided scheme per registry, probed once. */
  private readonly schemes = new Map<string, Promise<Endpoint>>();

  constructor(private readonly opts: TlsOptions = {}) {
    this.insecure = new Set((opts.insecureRegistries ?? []).map((h) => h.toLowerCase()));
  }

  /** System CAs plus --ca-file and SSL_CERT_FILE, read on first use (a build without registries reads nothing). */
  private cas(): string[] {
    if (!this.ca) {
      const extra = (this.opts.caFiles ?? []).map((f) => readCa(f, '--ca-file'));
      const sslCertFile = this.opts.env?.SSL_CERT_FILE;
      if (sslCertFile) extra.push(readCa(sslCertFile, 'SSL_CERT_FILE'));
      this.ca = extra.length > 0 ? [...tls.rootCertificates, ...extra] : [];
    }
    return this.ca;
  }

  /** Named in --insecure-registry (host[:port]). */
  isInsecure(registry: string): boolean {
    return this.insecure.has(registry.toLowerCase());
  }

  private agent(verify: boolean): Agent {
    if (verify) {
      const ca = this.cas();
      this.verified ??= new Agent({ ...AGENT_OPTIONS, connect: ca.length > 0 ? { ca } : {} });
      return this.verified;
    }
    this.unverified ??= new Agent({ ...AGENT_OPTIONS, connect: { rejectUnauthorized: false } });
    return this.unverified;
  }

  /** The endpoint for a registry; for loopback and insecure registries, probes HTTPS first. */
  endpoint(registry: string): Promise<Endpoint> {
    let p = this.schemes.get(registry);
    if (!p) {
      p = this.probe(registry);
      this.schemes.set(registry, p);
      p.catch(() => this.schemes.delete(registry));
    }
    return p;
  }

  private async probe(registry: string): Promise<Endpoint> {
    const host = apiHost(registry);
    const insecure = this.isInsecure(registry);
    if (!insecure && !isLoopback(registry)) return { baseUrl: `https://${host}`, dispatcher: this.agent(true) };
    const timeoutMs = this.opts.probeTimeoutMs ?? 120_000;
    const plain = (): Endpoint => ({ baseUrl: `http://${host}`, dispatcher: this.agent(true) });
    const { hostname, port } = new URL(`https://${host}`);
    let tlsServer: boolean;
    try {
      tlsServer = await speaksTls(hostname.replace(/^\[(.*)\]$/, '$1'), Number(port || 443), timeoutMs);
    } catch (e) {
      if (insecure) return plain();
      throw e;
    }
    if (!tlsServer) return plain();
    const https: Endpoint = { baseUrl: `https://${host}`, dispatcher: this.agent(!insecure) };
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      const res = await https.dispatcher.request({ origin: https.baseUrl, path: '/v2/', method: 'GET', signal });
      await res.body.dump({ limit: 64 << 10, signal }).catch(() => undefined);
      return https;
    } catch (e) {
      if (insecure || isPlainHttpServer(e)) return plain();
      if (isTlsError(e)) {
        throw new OciasmError('REGISTRY_TLS', `${registry}: TLS verification failed (${(e as Error).message}); add its CA with --ca-file, or name it in --insecure-registry`, { cause: e });
      }
      throw e;
    }
  }

  /** The agent for any other URL (a token realm, a blob redirect): unverified only for an insecure host. */
  dispatcherFor(url: URL): Agent {
    return this.agent(!(url.protocol === 'https:' && this.isInsecure(url.host)));
  }

  async close(): Promise<void> {
    await Promise.all([this.verified?.close(), this.unverified?.close()]);
  }
}
