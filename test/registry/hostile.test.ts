/**
 * The network cases of issue 12 against a hostile registry on loopback
 * (test/harness/hostile-registry.ts), each through the real CLI, with
 * --debug, once in plain mode and once with --json. Every case checks:
 * the exit code, the error code, what is on disk afterwards (the blob cache
 * holds only blobs whose content matches their name, no temp file; the output
 * layout has no ref), where credentials went, and that no secret (password,
 * base64 of user:pass, token) appears in stdout or stderr.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Behaviour, HOSTILE_PASSWORD, HOSTILE_TOKEN, HOSTILE_USER, type HostileRegistry, startHostileRegistry,
} from '../harness/hostile-registry.js';
import { ociasm, type RunResult, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-hostile-');
const layout = path.join(tmp.dir, 'oci');
const env = { PATH: process.env.PATH, HOME: path.join(tmp.dir, 'home') };
const B64 = Buffer.from(`${HOSTILE_USER}:${HOSTILE_PASSWORD}`).toString('base64');
const SECRETS = [HOSTILE_PASSWORD, B64, HOSTILE_TOKEN, B64.slice(0, 12)];
let reg: HostileRegistry;
let runs = 0;

function expectNoSecret(r: RunResult): void {
  for (const s of SECRETS) {
    expect(r.stdout, `stdout holds ${s}`).not.toContain(s);
    expect(r.stderr, `stderr holds ${s}`).not.toContain(s);
  }
  expect(r.stderr).not.toContain('\x1b');
}

/** The error code, from stderr in plain mode or from the JSON document in --json mode. */
function errorCode(r: RunResult, json: boolean): string | undefined {
  if (json) return JSON.parse(r.stdout).error?.code;
  return /error\[([A-Z_]+)\]/.exec(r.stderr)?.[1];
}

/** Every blob in a layout (the cache) matches its name, and no temp file is left. */
function expectStoreClean(dir: string): void {
  const blobs = path.join(dir, 'blobs', 'sha256');
  if (!existsSync(blobs)) return;
  for (const f of readdirSync(blobs)) {
    expect(f.startsWith('.tmp'), `temp file ${f} left in ${dir}`).toBe(false);
    expect(createHash('sha256').update(readFileSync(path.join(blobs, f))).digest('hex')).toBe(f);
  }
}

function expectNoRefs(out: string): void {
  const index = path.join(out, 'index.json');
  if (existsSync(index)) expect(JSON.parse(readFileSync(index, 'utf8')).manifests).toEqual([]);
}

interface Outcome { plain: RunResult; json: RunResult; dirs: { out: string; cache: string }[] }

/** Builds an image on `base` twice (--debug, then --debug --json), each into fresh output and cache folders. */
async function buildOn(base: string, args: string[] = [], extra = ''): Promise<Outcome> {
  const dirs: Outcome['dirs'] = [];
  const results: RunResult[] = [];
  for (const json of [false, true]) {
    const n = ++runs;
    const file = path.join(tmp.dir, `build-${n}.yaml`);
    writeFileSync(file, `
sourceDateEpoch: 1700000000
images:
  - { name: onbase, tag: "1", base: "${base}", paths: [{ path: /more, type: file, content: "more\\n" }]${extra} }
`);
    const d = { out: path.join(tmp.dir, `out-${n}`), cache: path.join(tmp.dir, `cache-${n}`) };
    dirs.push(d);
    results.push(await ociasm(['build', '-f', file, '-o', d.out, '--cache-dir', d.cache, '--debug', ...(json ? ['--json'] : []), ...args], { env }));
  }
  return { plain: results[0]!, json: results[1]!, dirs };
}

async function pushTo(dest: string, args: string[] = []): Promise<Outcome> {
  const results: RunResult[] = [];
  for (const json of [false, true]) {
    results.push(await ociasm(['push', `${layout}:tiny:1`, dest, '--debug', ...(json ? ['--json'] : []), ...args], { env }));
  }
  return { plain: results[0]!, json: results[1]!, dirs: [] };
}

/** Both runs failed with `code`, printed no secret, and left nothing half-written. */
function expectFailed(o: Outcome, code: string, message: RegExp): void {
  for (const [r, json] of [[o.plain, false], [o.json, true]] as const) {
    expect(r.code, r.stderr).toBe(1);
    expect(errorCode(r, json), r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expectNoSecret(r);
  }
  for (const d of o.dirs) {
    expectStoreClean(d.cache);
    expectNoRefs(d.out);
  }
}

function expectBuilt(o: Outcome): void {
  for (const r of [o.plain, o.json]) {
    expect(r.code, r.stderr).toBe(0);
    expectNoSecret(r);
  }
  expect(JSON.parse(o.json.stdout).images[0].ref).toBe('onbase:1');
  for (const d of o.dirs) expectStoreClean(d.cache);
}

const creds = () => ['--creds', `${reg.host}=${HOSTILE_USER}:${HOSTILE_PASSWORD}`];
const base = () => `${reg.host}/hostile/tiny:1`;
const withAuth = (b: Partial<Behaviour> = {}) => reg.reset({ auth: 'bearer', ...b });

beforeAll(async () => {
  writeFileSync(path.join(tmp.dir, 'tiny.yaml'), `
sourceDateEpoch: 1700000000
images:
  - { name: tiny, tag: "1", paths: [{ path: /hello, type: file, content: "hi\\n" }] }
`);
  const r = await ociasm(['build', '-f', path.join(tmp.dir, 'tiny.yaml'), '-o', layout], { env });
  expect(r.code, r.stderr).toBe(0);
  reg = await startHostileRegistry();
  reg.seedFromLayout('hostile/tiny', '1', layout, 'tiny:1');
});
afterAll(async () => {
  await reg?.stop();
  tmp.cleanup();
});

describe('credentials go only where they may', () => {
  it('works as a registry: --creds HOST:PORT= applies to a base on a port (Bearer, realm on the registry)', async () => {
    withAuth();
    const o = await buildOn(base(), creds());
    expectBuilt(o);
    expect(reg.requests.some((q) => q.path === '/token' && q.authorization === `Basic ${B64}`)).toBe(true);
    expect(o.plain.stderr).not.toContain('warning:');
  });

  it('a Bearer realm on another loopback host over HTTP gets them, with a warning naming it', async () => {
    withAuth({ realm: `http://${reg.otherHost}/token` });
    const o = await buildOn(base(), creds());
    expectBuilt(o);
    const warning = `the Bearer realm http://${reg.otherHost} is on another host than the registry`;
    expect(o.plain.stderr).toContain(`warning: ${reg.host}: ${warning}`);
    expect(JSON.parse(o.json.stdout).warnings.join('\n')).toContain(warning);
    expect(reg.requests.filter((q) => q.path === '/token').every((q) => q.listener === 'other')).toBe(true);
  });

  it('a Bearer realm over plain HTTP on a host that is neither loopback nor --insecure-registry gets nothing', async () => {
    // The machine's own name resolves to a loopback address, where our token route listens: a sent request would be seen.
    const name = os.hostname();
    const port = reg.host.split(':')[1];
    withAuth({ realm: `http://${name}:${port}/token` });
    const o = await buildOn(base(), creds());
    expectFailed(o, 'REGISTRY_AUTH', new RegExp(`the Bearer realm http://${name}:${port} is plain HTTP; credentials from --creds are sent to a token server only over HTTPS`));
    expect(reg.requests.filter((q) => q.path === '/token')).toEqual([]);
    // Named in --insecure-registry, the same realm is trusted (and warned about).
    withAuth({ realm: `http://${name}:${port}/token` });
    const ok = await buildOn(base(), [...creds(), '--insecure-registry', `${name}:${port}`]);
    expectBuilt(ok);
    expect(ok.plain.stderr).toContain(`warning: ${reg.host}: the Bearer realm http://${name}:${port} is on another host`);
  });

  it.each(['basic', 'bearer'] as const)('an upload Location on another host gets no %s credentials; the push completes', async (auth) => {
    reg.reset({ auth, uploadLocation: 'other' });
    const o = await pushTo(`${reg.host}/hostile/pushed-${auth}:1`, creds());
    for (const r of [o.plain, o.json]) {
      expect(r.code, r.stderr).toBe(0);
      expectNoSecret(r);
    }
    const other = reg.requests.filter((q) => q.listener === 'other');
    expect(other.some((q) => q.method === 'PUT')).toBe(true);
    expect(other.filter((q) => q.authorization)).toEqual([]);
    const sent = auth === 'basic' ? `Basic ${B64}` : `Bearer ${HOSTILE_TOKEN}`;
    expect(reg.requests.some((q) => q.listener === 'main' && q.authorization === sent)).toBe(true);
    expect(reg.tags.has(`hostile/pushed-${auth}:1`)).toBe(true);
  });

  it.each(['basic', 'bearer'] as const)('a blob redirected to another host gets no %s credentials', async (auth) => {
    reg.reset({ auth, blob: 'redirect-other' });
    const o = await buildOn(base(), creds());
    expectBuilt(o);
    const other = reg.requests.filter((q) => q.listener === 'other');
    expect(other.length).toBeGreaterThan(0);
    expect(other.filter((q) => q.authorization)).toEqual([]);
  });

  it('--creds is repeatable, one per registry: a base from one registry, a push to another', async () => {
    const second = await startHostileRegistry({ auth: 'basic', user: 'bob', password: 'bobpass-Secret-77' });
    try {
      reg.reset({ auth: 'basic' });
      const o = await buildOn(base(), ['--push', ...creds(), '--creds', `${second.host}=bob:bobpass-Secret-77`], `, push: ["${second.host}/hostile/out:1"]`);
      expectBuilt(o);
      for (const r of [o.plain, o.json]) expect(r.stdout + r.stderr).not.toContain('bobpass-Secret-77');
      expect(second.tags.has('hostile/out:1')).toBe(true);
      const bobB64 = Buffer.from('bob:bobpass-Secret-77').toString('base64');
      expect(reg.requests.filter((q) => q.authorization && q.authorization !== `Basic ${B64}`)).toEqual([]);
      expect(second.requests.filter((q) => q.authorization && q.authorization !== `Basic ${bobB64}`)).toEqual([]);
      expect(second.requests.some((q) => q.authorization === `Basic ${bobB64}`)).toBe(true);
    } finally {
      await second.stop();
    }
  });
});

describe('bounded memory, time and loops', () => {
  it('a manifest served without end is refused at the 4 MiB cap', async () => {
    withAuth({ manifest: 'endless' });
    const o = await buildOn(base(), creds());
    expectFailed(o, 'REGISTRY_TOO_LARGE', /manifest 1 of .*hostile\/tiny: the manifest is larger, over the 4 MiB limit/);
    // The client stopped reading: what the server could write is the cap plus socket buffers, not gigabytes.
    for (const [, n] of reg.written) expect(n).toBeLessThan(64 << 20);
  });

  it('an endless error body is cut, and what it echoes (our token, terminal escapes) is not printed', async () => {
    withAuth({ manifest: 'error-endless' });
    const o = await buildOn(base(), creds());
    expectFailed(o, 'REGISTRY_ERROR', /manifest 1 of .*hostile\/tiny answered 400 \(bad request from Bearer \[redacted\] \\x1b\[31mx+\)/);
    for (const [, n] of reg.written) expect(n).toBeLessThan(64 << 20);
  });

  it('an endless token response is refused at the 1 MiB cap', async () => {
    withAuth({ token: 'endless' });
    const o = await buildOn(base(), creds());
    expectFailed(o, 'REGISTRY_TOO_LARGE', new RegExp(`token from http://${reg.host.replace(/\./g, '\\.')}: the token response is larger, over the 1 MiB limit`));
    expect(reg.written.get('/token')!).toBeLessThan(64 << 20);
  });

  it('a layer served past its descriptor size stops there and nothing is kept', async () => {
    withAuth({ blob: 'past-size' });
    const o = await buildOn(base(), creds());
    expectFailed(o, 'DIGEST_MISMATCH', /blob sha256:[a-f0-9]{64} of .*: the registry sent more than \d+ bytes \(stopped there\), but its descriptor says \d+ bytes; nothing was kept/);
    for (const [, n] of reg.written) expect(n).toBeLessThan(64 << 20);
    // The layer never reached the cache; the manifests and config (served correctly) may have.
    const layer = JSON.parse(reg.blobs.get(JSON.parse(reg.blobs.get(reg.tags.get('hostile/tiny:1')!.digest)!.toString()).manifests?.[0]?.digest ?? '')?.toString() ?? '{}').layers?.[0]?.digest;
    for (const d of o.dirs) if (layer) expect(existsSync(path.join(d.cache, 'blobs', 'sha256', layer.slice(7)))).toBe(false);
  });

  it('a layer whose Content-Length differs from its descriptor is refused before it is read', async () => {
    withAuth({ blob: 'wrong-length' });
    const o = await buildOn(base(), creds());
    expectFailed(o, 'DIGEST_MISMATCH', /the registry sent Content-Length \d+, but its descriptor says \d+ bytes; nothing was kept/);
  });

  it('a manifest trickled a byte at a time fails at the total deadline (--request-timeout)', async () => {
    withAuth({ manifest: 'trickle' });
    const o = await buildOn(base(), [...creds(), '--request-timeout', '1']);
    expectFailed(o, 'REGISTRY_TIMEOUT', /GET manifest 1 of .*hostile\/tiny did not complete within 1 s/);
    // Not retried: one manifest GET per run reached the trickle.
    expect(reg.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/manifests/1') && q.authorization).length).toBe(2);
  });

  it('an upload that accepts every PATCH but stays at Range 0-0 fails after a bounded number of PATCHes', async () => {
    reg.reset({ auth: 'basic', stallUploads: true });
    const o = await pushTo(`${reg.host}/hostile/stall:1`, [...creds(), '--max-chunk-size', '64']);
    expectFailed(o, 'REGISTRY_ERROR', /uploading blob sha256:[a-f0-9]{64} of .*hostile\/stall makes no progress: 3 PATCHes in a row were accepted but the registry still reports offset 0/);
    // Two runs, at most two chunked blobs each (config and layer), three PATCHes each.
    const patches = reg.requests.filter((q) => q.method === 'PATCH').length;
    expect(patches).toBeGreaterThan(0);
    expect(patches).toBeLessThanOrEqual(2 * 2 * 3);
    expect(reg.tags.has('hostile/stall:1')).toBe(false);
  });
});
