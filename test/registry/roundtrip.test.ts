/**
 * The round trip against a real registry: a five-platform busybox base seeded
 * with skopeo, an image built on it for five platforms and pushed to two
 * repositories with per-platform tags, checked with skopeo inspect and
 * skopeo copy back, one foreign binary run under qemu; a second push uploads
 * nothing; a digest-pinned (and a locked) base builds offline from the cache.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIVE_PLATFORMS } from '../harness/inputs.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { blobPath, must, ociasm, readBlobJson, readLayoutIndex, tempDir } from '../harness/util.js';
import { seedBusybox, type SeededBase } from './seed.js';

const tmp = tempDir('ociasm-roundtrip-');
const cacheDir = path.join(tmp.dir, 'cache');
let reg: TestRegistry;
let base: SeededBase;
let first: any;

function appFile(baseRef: string, name = 'app.yaml', platforms = FIVE_PLATFORMS): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, `
sourceDateEpoch: 1700000000
images:
  - name: app
    tag: "1.0"
    base: ${baseRef}
    platforms: [${platforms.join(', ')}]
    paths: [{ path: /etc/app, type: file, content: "app on {{platform}}\\n" }]
    entrypoint: [/bin/busybox]
    push: ["${reg.host}/skycoin/skycoin:{{tag}}", "${reg.host}/mirror/{{name}}:{{tag}}"]
    platformTags: "{{tag}}-{{platformTag}}"
`);
  return file;
}

const skopeo = (...args: string[]) => must('skopeo', [...args.slice(0, 1), '--tls-verify=false', ...args.slice(1)]);
const writes = () => reg.proxy!.requests.filter((q) => q.method === 'POST' || q.method === 'PATCH' || (q.method === 'PUT' && q.path.includes('/blobs/')));

beforeAll(async () => {
  reg = await startRegistry({ proxy: true });
  base = await seedBusybox(tmp.dir, reg.host);
  reg.proxy!.requests.length = 0;
  const r = await ociasm(['build', '-f', appFile(base.ref), '-o', path.join(tmp.dir, 'oci'), '--cache-dir', cacheDir, '--push', '--json']);
  expect(r.code, r.stderr).toBe(0);
  first = JSON.parse(r.stdout);
});
afterAll(async () => {
  await reg?.stop();
  tmp.cleanup();
});

describe('registry round trip', () => {
  it('pushes the index to both references and per-platform tags, in order, and reads them back', async () => {
    const digest = first.images[0].index.digest;
    expect(first.pushed.refs.map((r: any) => r.ref)).toEqual([
      `${reg.host}/skycoin/skycoin:1.0@${digest}`, `${reg.host}/mirror/app:1.0@${digest}`,
    ]);
    const raw = JSON.parse(await skopeo('inspect', '--raw', `docker://${reg.host}/skycoin/skycoin:1.0`));
    expect(raw.manifests.map((m: any) => m.platform)).toHaveLength(5);
    const inspected = JSON.parse(await skopeo('inspect', `docker://${reg.host}/mirror/app:1.0`));
    expect(inspected.Digest).toBe(digest);
    const arm7 = first.images[0].platforms.find((p: any) => p.platform === 'linux/arm/v7');
    const tagged = JSON.parse(await skopeo('inspect', `docker://${reg.host}/skycoin/skycoin:1.0-arm32v7`));
    expect(tagged.Digest).toBe(arm7.manifest.digest);
    expect(tagged.Architecture).toBe('arm');
    const tags = JSON.parse(await skopeo('list-tags', `docker://${reg.host}/skycoin/skycoin`)).Tags.sort();
    expect(tags).toEqual(['1.0', '1.0-amd64', '1.0-arm32v5', '1.0-arm32v6', '1.0-arm32v7', '1.0-arm64v8']);
    // the second repository got its blobs by cross-repository mount
    expect(first.pushed.stats.mounted).toBeGreaterThan(0);
    // blobs before manifests, manifests by digest before the index, tags last
    const seq = reg.proxy!.requests.filter((q) => ['PUT', 'POST', 'PATCH'].includes(q.method) && q.path.includes('/skycoin/'));
    const kind = (q: any) => (q.path.includes('/blobs/') ? 'blob' : /manifests\/sha256:/.test(q.path) ? 'digest' : 'tag');
    const order = seq.map(kind);
    expect(order.lastIndexOf('blob')).toBeLessThan(order.indexOf('digest'));
    expect(order.lastIndexOf('digest')).toBeLessThan(order.indexOf('tag'));
    expect(seq.filter((q) => q.path.endsWith(`/manifests/${digest}`))).toHaveLength(1);
  });

  it('records the base: name, per-platform digest, arm64 matched against an index entry without variant', () => {
    for (const p of first.images[0].platforms) {
      const m = readBlobJson(path.join(tmp.dir, 'oci'), p.manifest.digest);
      expect(m.annotations['org.opencontainers.image.base.name']).toBe(`${base.ref}`);
      const key = p.platform === 'linux/arm64/v8' ? 'linux/arm64' : p.platform;
      expect(m.annotations['org.opencontainers.image.base.digest']).toBe(base.manifests[key]);
    }
    const config = readBlobJson(path.join(tmp.dir, 'oci'), first.images[0].platforms[0].config.digest);
    expect(config.config.Env).toContain('BASE=busybox');
  });

  it('copies back with skopeo and runs the arm64 busybox under qemu', async () => {
    const back = path.join(tmp.dir, 'back');
    await skopeo('copy', '--all', '--preserve-digests', `docker://${reg.host}/skycoin/skycoin:1.0`, `oci:${back}:app`);
    const top = readLayoutIndex(back).manifests[0];
    expect(top.digest).toBe(first.images[0].index.digest);
    const index = readBlobJson(back, top.digest);
    const arm64 = index.manifests.find((m: any) => m.platform.architecture === 'arm64');
    const manifest = readBlobJson(back, arm64.digest);
    const root = path.join(tmp.dir, 'arm64-root');
    mkdirSync(root);
    await must('tar', ['-xzf', blobPath(back, manifest.layers[0].digest), '-C', root]);
    expect(readFileSync(path.join(root, 'etc/app'), 'utf8')).toBe('app on linux/arm64/v8\n');
    const out = await must('qemu-aarch64-static', [path.join(root, 'bin/busybox'), 'uname', '-m']);
    expect(out.trim()).toBe('aarch64');
  });

  it('a second build and push is byte-identical and uploads no blob', async () => {
    reg.proxy!.requests.length = 0;
    const r = await ociasm(['build', '-f', appFile(base.ref), '-o', path.join(tmp.dir, 'oci2'), '--cache-dir', cacheDir, '--push', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const second = JSON.parse(r.stdout);
    expect(second.images[0].index.digest).toBe(first.images[0].index.digest);
    expect(writes()).toEqual([]);
    expect(second.pushed.stats.uploaded + second.pushed.stats.mounted).toBe(0);
  });

  it('fails on a platform the base lacks, listing what it has', async () => {
    const r = await ociasm(['build', '-f', appFile(base.ref, 'missing.yaml', ['linux/s390x']), '-o', path.join(tmp.dir, 'oci3'), '--cache-dir', cacheDir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('BASE_PLATFORM_MISSING');
    expect(r.stderr).toContain('linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v6, linux/arm/v5');
  });

  it('builds a digest-pinned or locked base offline from the cache', async () => {
    const lockDir = path.join(tmp.dir, 'locked');
    mkdirSync(lockDir);
    const locked = appFile(base.ref, 'locked/app.yaml', ['linux/arm/v6']);
    const l = await ociasm(['build', '-f', locked, '-o', path.join(tmp.dir, 'oci4'), '--cache-dir', cacheDir, '--lock']);
    expect(l.code, l.stderr).toBe(0);
    const lock = JSON.parse(readFileSync(path.join(lockDir, 'ociasm.lock'), 'utf8'));
    expect(lock).toEqual({ lockVersion: 1, bases: { [base.ref]: base.digest } });
    // the registry now refuses everything: any request would fail the build
    reg.proxy!.faults.push({ times: 1000, fault: { kind: 'status', status: 503, headers: { 'retry-after': '0' } } });
    reg.proxy!.requests.length = 0;
    const pinned = await ociasm(['build', '-f', appFile(`${base.ref}@${base.digest}`, 'pinned.yaml'), '-o', path.join(tmp.dir, 'oci5'), '--cache-dir', cacheDir]);
    expect(pinned.code, pinned.stderr).toBe(0);
    const again = await ociasm(['build', '-f', locked, '-o', path.join(tmp.dir, 'oci6'), '--cache-dir', cacheDir]);
    expect(again.code, again.stderr).toBe(0);
    expect(reg.proxy!.requests).toEqual([]);
    // without the lock, the tag must be resolved: the build fails, naming the registry
    const tag = await ociasm(['build', '-f', appFile(base.ref, 'tag.yaml', ['linux/arm/v6']), '-o', path.join(tmp.dir, 'oci7'), '--cache-dir', cacheDir]);
    expect(tag.code).not.toBe(0);
    expect(tag.stderr).toContain(reg.host);
    reg.proxy!.faults.length = 0;
    expect(existsSync(path.join(tmp.dir, 'oci5', 'index.json'))).toBe(true);
  });
});
