/**
 * Hostile local layouts (issue 12, "Trusting what a local layout says"): a
 * base or a push source whose blobs lie about their digest or size, are
 * symlinks to host files, or whose index is cyclic; secrets a symlink points
 * at never reach the output; the layer cache never trusts a damaged blob; a
 * half-created layout is completed. Pushes go to Debian's registry on
 * loopback, which is then asked what it received.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handLayout, tarOf } from '../harness/hand-layers.js';
import { startRegistry, TEST_PASSWORD, TEST_USER, type TestRegistry } from '../harness/registry.js';
import { blobPath, must, ociasm, platformImages, readLayoutIndex, refDescriptor, tempDir } from '../harness/util.js';

const tmp = tempDir();
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const SECRET = 'TOPSECRET-4242-do-not-print';
let reg: TestRegistry;
let authReg: TestRegistry;

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A fresh one-layer base layout; returns its paths and descriptors. */
async function base(name: string) {
  const dir = j(name);
  const spec = await handLayout(dir, 'v1', [{ tar: tarOf([{ path: 'etc/hello', body: 'hello\n' }]) }]);
  const top = readLayoutIndex(dir).manifests[0];
  const manifest = JSON.parse(readFileSync(blobPath(dir, top.digest), 'utf8'));
  return { dir, spec, top, manifest };
}

function buildFile(name: string, baseSpec: string): string {
  const file = j(`${name}.yaml`);
  writeFileSync(file, `images:\n  - name: ${name}\n    base: "${baseSpec}"\n    platforms: [linux/amd64]\n    paths: [{ path: /x, type: file, content: x }]\n`);
  return file;
}

async function buildFails(name: string, baseSpec: string, code: string, ...mention: string[]): Promise<string> {
  const out = j(`${name}-out`);
  const r = await ociasm(['build', '-f', buildFile(name, baseSpec), '-o', out], { timeout: 60_000 });
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain(`error[${code}]`);
  for (const m of mention) expect(r.stderr).toContain(m);
  expect(r.stderr + r.stdout).not.toContain('TOPSECRET');
  // Nothing half-written: the output layout holds no ref and no temp file.
  expect(readLayoutIndex(out).manifests).toEqual([]);
  expect(readdirSync(path.join(out, 'blobs', 'sha256')).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  return r.stderr;
}

function head(registry: string, repo: string, digest: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: registry.split(':')[0], port: Number(registry.split(':')[1]), method: 'HEAD', path: `/v2/${repo}/blobs/${digest}` }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  writeFileSync(j('secret.txt'), `${SECRET}\n`);
  reg = await startRegistry();
  authReg = await startRegistry({ auth: 'htpasswd' });
});
afterAll(async () => {
  await reg?.stop();
  await authReg?.stop();
  tmp.cleanup();
});

describe('a base layout is verified on read', () => {
  it('config bytes that do not match their digest (same size)', async () => {
    const b = await base('cfg-mismatch');
    const file = blobPath(b.dir, b.manifest.config.digest);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"amd64"', '"AMD64"'));
    await buildFails('cfg-mismatch', b.spec, 'DIGEST_MISMATCH', b.manifest.config.digest, 'config');
  });
  it('a manifest descriptor with the wrong size', async () => {
    const b = await base('size-wrong');
    const index = readLayoutIndex(b.dir);
    index.manifests[0].size += 7;
    writeFileSync(path.join(b.dir, 'index.json'), JSON.stringify(index));
    const msg = await buildFails('size-wrong', b.spec, 'DIGEST_MISMATCH', b.top.digest);
    expect(msg).toMatch(/size|bytes/);
  });
  it('a config that is a symlink to a host file: refused, the file is never printed', async () => {
    const b = await base('cfg-link');
    const file = blobPath(b.dir, b.manifest.config.digest);
    rmSync(file);
    symlinkSync(j('secret.txt'), file);
    await buildFails('cfg-link', b.spec, 'LAYOUT_INVALID', 'symlink');
  });
  it('a layer that is a symlink to a host file', async () => {
    const b = await base('layer-link');
    const file = blobPath(b.dir, b.manifest.layers[0].digest);
    rmSync(file);
    symlinkSync(j('secret.txt'), file);
    await buildFails('layer-link', b.spec, 'LAYOUT_INVALID', 'symlink');
  });
  it('an index.json that is a symlink to a secret: the parse error quotes nothing', async () => {
    const b = await base('index-link');
    rmSync(path.join(b.dir, 'index.json'));
    symlinkSync(j('secret.txt'), path.join(b.dir, 'index.json'));
    await buildFails('index-link', b.spec, 'LAYOUT_INVALID', 'not valid JSON');
  });
  it('a cyclic index (an index that lists itself) fails at once', async () => {
    const b = await base('cycle');
    // The blob under digest D claims to be an index listing D: only a lying store can hold it.
    const fake = sha('placeholder');
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: fake, size: 0, platform: { os: 'linux', architecture: 'amd64' } }] });
    writeFileSync(blobPath(b.dir, fake), body);
    writeFileSync(path.join(b.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: fake, size: body.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
    await buildFails('cycle', b.spec, 'DIGEST_MISMATCH', fake);
  });
  it('indexes nested deeper than 8 levels are GRAPH_INVALID', async () => {
    const b = await base('deep-index');
    let desc: any = { ...b.top, platform: { os: 'linux', architecture: 'amd64' } };
    delete desc.annotations;
    for (let i = 0; i < 9; i++) {
      const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [desc] });
      writeFileSync(blobPath(b.dir, sha(body)), body);
      desc = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(body), size: body.length, platform: { os: 'linux', architecture: 'amd64' } };
    }
    writeFileSync(path.join(b.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...desc, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
    await buildFails('deep-index', b.spec, 'GRAPH_INVALID', 'deeper than 8');
  });
});

describe('files that are parsed never have their content quoted', () => {
  it('ociasm.lock', async () => {
    mkdirSync(j('lockdir'));
    writeFileSync(j('lockdir', 'ociasm.lock'), `${SECRET}`);
    const file = j('lockdir', 'ociasm.yaml');
    writeFileSync(file, 'images:\n  - name: l\n    base: 127.0.0.1:9/none/x:1\n    platforms: [linux/amd64]\n');
    const r = await ociasm(['build', '-f', file, '-o', j('lockdir', 'oci')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[LOCK_INVALID]');
    expect(r.stderr).toContain('not valid JSON');
    expect(r.stderr).not.toContain('TOPSECRET');
  });
  it('a docker config.json with a broken auth entry: no character of it is printed', async () => {
    const b = await base('to-auth-push');
    const cfgDir = j('docker-cfg');
    mkdirSync(cfgDir);
    const auth = Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64');
    // An unquoted auth value: V8's own message would quote the start of it (the password's first characters).
    writeFileSync(path.join(cfgDir, 'config.json'), `{"auths":{"${authReg.host}":{"auth":${auth}}}}`);
    const r = await ociasm(['push', `${b.dir}:v1`, `${authReg.host}/app:1`, '--insecure-registry', authReg.host], {
      env: { ...process.env, DOCKER_CONFIG: cfgDir, HOME: j('nohome'), XDG_CONFIG_HOME: j('nohome'), XDG_RUNTIME_DIR: j('nohome') },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[CREDENTIALS_INVALID]');
    expect(r.stderr).toContain('not valid JSON');
    for (const leak of [auth.slice(0, 6), TEST_PASSWORD, TEST_USER]) expect(r.stderr + r.stdout).not.toContain(leak);
  });
});

describe('push verifies a layout before sending', () => {
  it('a layer blob that is a symlink to a host file is refused and never reaches the registry', async () => {
    const b = await base('push-link');
    const file = blobPath(b.dir, b.manifest.layers[0].digest);
    rmSync(file);
    symlinkSync(j('secret.txt'), file);
    const r = await ociasm(['push', `${b.dir}:v1`, `${reg.host}/leak:1`, '--insecure-registry', reg.host], { timeout: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[LAYOUT_INVALID]');
    expect(r.stderr).toContain('symlink');
    expect(r.stderr).not.toContain('TOPSECRET');
    expect(await head(reg.host, 'leak', sha(`${SECRET}\n`))).toBe(404);
    expect(await head(reg.host, 'leak', b.manifest.layers[0].digest)).toBe(404);
  });
  it('a damaged layer (same size, other bytes) is refused and never committed', async () => {
    const b = await base('push-damaged');
    const file = blobPath(b.dir, b.manifest.layers[0].digest);
    const bytes = readFileSync(file);
    bytes[bytes.length - 5]! ^= 0xff;
    writeFileSync(file, bytes);
    const r = await ociasm(['push', `${b.dir}:v1`, `${reg.host}/damaged:1`, '--insecure-registry', reg.host]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[DIGEST_MISMATCH]');
    expect(await head(reg.host, 'damaged', sha(bytes))).toBe(404);
    expect(await head(reg.host, 'damaged', b.manifest.layers[0].digest)).toBe(404);
  });
  it('a cyclic index fails at once', async () => {
    const b = await base('push-cycle');
    const fake = sha('push-placeholder');
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: fake, size: 0 }] });
    writeFileSync(blobPath(b.dir, fake), body);
    writeFileSync(path.join(b.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: fake, size: body.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
    const r = await ociasm(['push', `${b.dir}:v1`, `${reg.host}/cycle:1`, '--insecure-registry', reg.host], { timeout: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[(DIGEST_MISMATCH|GRAPH_INVALID)\]/);
  });
  it('a sound layout still pushes, and skopeo reads it back', async () => {
    const b = await base('push-ok');
    const r = await ociasm(['push', `${b.dir}:v1`, `${reg.host}/ok:1`, '--insecure-registry', reg.host]);
    expect(r.code, r.stderr).toBe(0);
    const raw = await must('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/ok:1`]);
    expect(sha(raw)).toBe(b.top.digest);
  });
});

describe('the output layout', () => {
  it('a half-created layout (oci-layout, no index.json) is completed, not LAYOUT_INVALID', async () => {
    const out = j('half');
    mkdirSync(path.join(out, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(path.join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const r = await ociasm(['build', '-f', buildFile('half', 'scratch'), '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(refDescriptor(out, 'half:latest').digest).toMatch(/^sha256:/);
    await must('skopeo', ['inspect', `oci:${out}:half:latest`]);
  });
  it('the layer cache never reuses a damaged layer blob: the rebuild rewrites it', async () => {
    const out = j('cache-out');
    const env = { ...process.env, OCIASM_CACHE_DIR: j('cache-dir') };
    const file = buildFile('cached', 'scratch');
    const first = await ociasm(['build', '-f', file, '-o', out, '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    const layer = platformImages(out, 'cached:latest')[0].layerPath;
    const good = readFileSync(layer);
    const again = await ociasm(['build', '-f', file, '-o', out, '--json'], { env });
    expect(JSON.parse(again.stdout).images[0].platforms[0].layer.cached).toBe(true);
    const bad = Buffer.from(good);
    bad[bad.length - 9]! ^= 0xff;
    writeFileSync(layer, bad);
    const third = await ociasm(['build', '-f', file, '-o', out, '--json'], { env });
    expect(third.code, third.stderr).toBe(0);
    expect(JSON.parse(third.stdout).images[0].platforms[0].layer.cached).toBe(false);
    expect(readFileSync(layer).equals(good)).toBe(true);
    await must('skopeo', ['copy', `oci:${out}:cached:latest`, `oci:${j('cache-copy')}:c`]);
  });
});
