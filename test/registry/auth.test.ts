/**
 * Auth and TLS against the real registry: htpasswd Basic auth, token auth
 * with our JWT issuer, credentials from --creds, OCIASM_USERNAME, docker
 * config.json (auth, identitytoken, credHelpers) and REGISTRY_AUTH_FILE; bad
 * credentials fail without printing the secret and tag nothing; TLS is
 * verified unless a CA is added or the registry is named insecure.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, TEST_PASSWORD, TEST_USER, type TestRegistry } from '../harness/registry.js';
import { must, ociasm, run, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-auth-');
const layout = path.join(tmp.dir, 'oci');
const BAD = 'Wrong-Secret-9876';
const basic = Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64');
const cleanEnv = { PATH: process.env.PATH, HOME: path.join(tmp.dir, 'home') };

function push(dest: string, args: string[] = [], env: Record<string, string | undefined> = {}) {
  return ociasm(['push', `${layout}:tiny:1`, dest, ...args], { env: { ...cleanEnv, ...env } });
}

function dockerConfig(name: string, doc: object): string {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(doc));
  return dir;
}

function expectNoSecret(r: { stdout: string; stderr: string }) {
  for (const s of [TEST_PASSWORD, BAD, basic, 'refresh-alice', 'Bearer ey']) {
    expect(r.stdout + r.stderr).not.toContain(s);
  }
}

beforeAll(async () => {
  mkdirSync(cleanEnv.HOME, { recursive: true });
  writeFileSync(path.join(tmp.dir, 'tiny.yaml'), `
sourceDateEpoch: 1700000000
images:
  - { name: tiny, tag: "1", paths: [{ path: /hello, type: file, content: "hi\\n" }] }
`);
  const r = await ociasm(['build', '-f', path.join(tmp.dir, 'tiny.yaml'), '-o', layout]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('htpasswd Basic auth', () => {
  let reg: TestRegistry;
  beforeAll(async () => { reg = await startRegistry({ auth: 'htpasswd' }); });
  afterAll(async () => { await reg?.stop(); });

  it('refuses anonymous and bad credentials with a clear message, no secret, nothing tagged', async () => {
    const anon = await push(`${reg.host}/auth/tiny:1`);
    expect(anon.code).not.toBe(0);
    expect(anon.stderr).toContain(`error[REGISTRY_AUTH]: ${reg.host}: access denied for scope "repository:auth/tiny:pull"`);
    expect(anon.stderr).toContain('no credentials');
    const bad = await push(`${reg.host}/auth/tiny:1`, ['--creds', `${TEST_USER}:${BAD}`, '--debug']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`${reg.host}: access denied`);
    expect(bad.stderr).toContain('credentials from --creds');
    expectNoSecret(bad);
    const tags = await run('skopeo', ['list-tags', '--tls-verify=false', '--creds', `${TEST_USER}:${TEST_PASSWORD}`, `docker://${reg.host}/auth/tiny`]);
    expect(tags.code === 0 ? JSON.parse(tags.stdout).Tags ?? [] : []).toEqual([]);
  });

  it('pushes with --creds, OCIASM_USERNAME, config.json auth, REGISTRY_AUTH_FILE and a credential helper', async () => {
    const ok = await push(`${reg.host}/auth/tiny:1`, ['--creds', `${TEST_USER}:${TEST_PASSWORD}`, '--debug']);
    expect(ok.code, ok.stderr).toBe(0);
    expectNoSecret(ok);
    expect(ok.stderr).toMatch(/PUT http:\/\/127\.0\.0\.1:\d+\/v2\/auth\/tiny\/manifests\/1 -> 201/);
    const env = await push(`${reg.host}/auth/env:1`, [], { OCIASM_USERNAME: TEST_USER, OCIASM_PASSWORD: TEST_PASSWORD });
    expect(env.code, env.stderr).toBe(0);
    const docker = dockerConfig('docker-auths', { auths: { [`https://${reg.host}`]: { auth: basic } } });
    const fromConfig = await push(`${reg.host}/auth/cfg:1`, [], { DOCKER_CONFIG: docker });
    expect(fromConfig.code, fromConfig.stderr).toBe(0);
    const authFile = path.join(tmp.dir, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: { [reg.host]: { auth: basic } } }));
    const podman = await push(`${reg.host}/auth/podman:1`, [], { REGISTRY_AUTH_FILE: authFile });
    expect(podman.code, podman.stderr).toBe(0);
    const bin = path.join(tmp.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'docker-credential-ociasmtest'),
      `#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = "${reg.host}" ] && echo '{"Username":"${TEST_USER}","Secret":"${TEST_PASSWORD}"}' && exit 0\necho "credentials not found in native keychain"; exit 1\n`);
    chmodSync(path.join(bin, 'docker-credential-ociasmtest'), 0o755);
    const helper = dockerConfig('docker-helper', { credHelpers: { [reg.host]: 'ociasmtest' } });
    const viaHelper = await push(`${reg.host}/auth/helper:1`, [], { DOCKER_CONFIG: helper, PATH: `${bin}:${process.env.PATH}` });
    expect(viaHelper.code, viaHelper.stderr).toBe(0);
    const listed = JSON.parse(await must('skopeo', ['list-tags', '--tls-verify=false', '--creds', `${TEST_USER}:${TEST_PASSWORD}`, `docker://${reg.host}/auth/helper`]));
    expect(listed.Tags).toEqual(['1']);
  });
});

describe('token auth', () => {
  let reg: TestRegistry;
  beforeAll(async () => { reg = await startRegistry({ auth: 'token' }); });
  afterAll(async () => { await reg?.stop(); });

  it('pushes with a cached token per scope, and refuses bad credentials naming the scope and source', async () => {
    const ok = await push(`${reg.host}/tok/tiny:1`, ['--json'], { OCIASM_USERNAME: TEST_USER, OCIASM_PASSWORD: TEST_PASSWORD });
    expect(ok.code, ok.stderr).toBe(0);
    const granted = reg.issuer!.requests.filter((q) => q.user === TEST_USER);
    expect(granted.map((q) => q.scopes.join(' '))).toEqual(['repository:tok/tiny:pull', 'repository:tok/tiny:pull,push']);
    reg.issuer!.requests.length = 0;
    const bad = await push(`${reg.host}/tok/bad:1`, [], { OCIASM_USERNAME: TEST_USER, OCIASM_PASSWORD: BAD });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`${reg.host}: access denied for scope "repository:tok/bad:pull" using credentials from OCIASM_USERNAME/OCIASM_PASSWORD`);
    expectNoSecret(bad);
  });

  it('pulls a base with an identitytoken from config.json (OAuth2 refresh-token grant)', async () => {
    const docker = dockerConfig('docker-idtoken', { auths: { [reg.host]: { identitytoken: `refresh-${TEST_USER}` } } });
    writeFileSync(path.join(tmp.dir, 'onbase.yaml'), `
sourceDateEpoch: 1700000000
images:
  - { name: onbase, base: "${reg.host}/tok/tiny:1", paths: [{ path: /more, type: file, content: "more\\n" }] }
`);
    reg.issuer!.requests.length = 0;
    const r = await ociasm(['build', '-f', path.join(tmp.dir, 'onbase.yaml'), '-o', path.join(tmp.dir, 'oci-onbase'), '--cache-dir', path.join(tmp.dir, 'cache')],
      { env: { ...cleanEnv, DOCKER_CONFIG: docker } });
    expect(r.code, r.stderr).toBe(0);
    expect(reg.issuer!.requests).toEqual([{ method: 'POST', user: TEST_USER, scopes: ['repository:tok/tiny:pull'] }]);
  });
});

describe('TLS', () => {
  let reg: TestRegistry;
  beforeAll(async () => { reg = await startRegistry({ tls: true }); });
  afterAll(async () => { await reg?.stop(); });

  it('verifies by default, and trusts --ca-file, SSL_CERT_FILE or --insecure-registry', async () => {
    const refused = await push(`${reg.host}/tls/tiny:1`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`error[REGISTRY_TLS]: ${reg.host}: TLS verification failed`);
    expect((await push(`${reg.host}/tls/tiny:1`, ['--ca-file', reg.certs!.caFile])).code).toBe(0);
    expect((await push(`${reg.host}/tls/env:1`, [], { SSL_CERT_FILE: reg.certs!.caFile })).code).toBe(0);
    expect((await push(`${reg.host}/tls/insecure:1`, ['--insecure-registry', reg.host])).code).toBe(0);
    const inspected = JSON.parse(await must('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/tls/env:1`]));
    expect(inspected.Architecture).toBe('amd64');
  });
});
