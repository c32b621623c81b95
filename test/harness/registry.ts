/**
 * Starts Debian's docker-registry (the CNCF distribution registry) on a free
 * loopback port, in one of the configurations the tests need: open, htpasswd
 * Basic auth, token auth (with our test token issuer) or TLS with a
 * self-signed CA; optionally behind a counting, fault-injecting proxy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { makeServerCerts, makeSigningCert, type ServerCerts } from './registry-certs.js';
import { startFaultProxy, type FaultProxy } from './registry-proxy.js';
import { startTokenIssuer, TOKEN_ISSUER, TOKEN_SERVICE, type TokenIssuer } from './registry-token.js';
import { must, tempDir } from './util.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const TEST_USER = 'alice';
export const TEST_PASSWORD = 'pw-Secret-4711';

export interface RegistryOptions {
  auth?: 'htpasswd' | 'token';
  tls?: boolean;
  proxy?: boolean;
}

export interface TestRegistry {
  /** host:port the client should use (the proxy's when there is one). */
  host: string;
  /** host:port of the registry itself. */
  registryHost: string;
  dir: string;
  proxy?: FaultProxy;
  issuer?: TokenIssuer;
  certs?: ServerCerts;
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function probe(url: string, ca?: string): Promise<number> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https') ? https : http;
    const req = mod.get(url, { ca, timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', () => resolve(0));
    req.on('timeout', () => { req.destroy(); resolve(0); });
  });
}

function config(dir: string, port: number, auth: string, tls: string): string {
  return `version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: ${dir}/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: ociasm-test-secret
${tls}${auth}`;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const tmp = tempDir('ociasm-registry-');
  const dir = tmp.dir;
  mkdirSync(path.join(dir, 'data'));
  const port = await freePort();
  let auth = '';
  let tls = '';
  let issuer: TokenIssuer | undefined;
  let certs: ServerCerts | undefined;
  if (opts.auth === 'htpasswd') {
    await must('htpasswd', ['-B', '-b', '-c', path.join(dir, 'htpasswd'), TEST_USER, TEST_PASSWORD]);
    auth = `auth:\n  htpasswd:\n    realm: ociasm-test\n    path: ${dir}/htpasswd\n`;
  } else if (opts.auth === 'token') {
    const signing = await makeSigningCert(dir);
    issuer = await startTokenIssuer(signing, { [TEST_USER]: TEST_PASSWORD });
    auth = `auth:\n  token:\n    realm: ${issuer.realm}\n    service: ${TOKEN_SERVICE}\n    issuer: ${TOKEN_ISSUER}\n    rootcertbundle: ${signing.certFile}\n`;
  }
  if (opts.tls) {
    certs = await makeServerCerts(dir);
    tls = `  tls:\n    certificate: ${certs.certFile}\n    key: ${certs.keyFile}\n`;
  }
  const configFile = path.join(dir, 'config.yml');
  writeFileSync(configFile, config(dir, port, auth, tls));
  let log = '';
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/v2/`;
  const ca = certs ? (await import('node:fs')).readFileSync(certs.caFile, 'utf8') : undefined;
  for (let i = 0; ; i++) {
    const status = await probe(url, ca);
    if (status === 200 || status === 401) break;
    if (child.exitCode !== null || i > 200) {
      child.kill();
      throw new Error(`docker-registry did not start (exit ${child.exitCode}):\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const proxy = opts.proxy ? await startFaultProxy(port) : undefined;
  const registryHost = `127.0.0.1:${port}`;
  return {
    host: proxy?.host ?? registryHost,
    registryHost,
    dir,
    ...(proxy ? { proxy } : {}),
    ...(issuer ? { issuer } : {}),
    ...(certs ? { certs } : {}),
    log: () => log,
    stop: async () => {
      await proxy?.close();
      await issuer?.close();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      tmp.cleanup();
    },
  };
}
