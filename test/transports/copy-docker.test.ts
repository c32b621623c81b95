/**
 * The docker:// transport against the real registry, through the CLI, checked
 * with skopeo: copies layout → registry → layout and registry → registry keep
 * every digest (and mount within one registry), `inspect` reads a registry
 * image (--raw bytes exactly, --config), `build -o` writes to a registry or a
 * named layout ref, and a narrowed push never shrinks a published index
 * unless --merge-index or --replace-index says what to do.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/cas/blob-store.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { must, ociasm, platformImages, readBlobJson, readLayoutIndex, refDescriptor, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-copy-docker-');
const layout = path.join(tmp.dir, 'oci');
const file = path.join(tmp.dir, 'ociasm.yaml');
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];
let reg: TestRegistry;
let index: string;

const skopeo = (...args: string[]) => must('skopeo', [...args.slice(0, 1), '--tls-verify=false', ...args.slice(1)]);
const cli = (...args: string[]) => ociasm([...args, '--insecure-registry', reg.host], { cwd: tmp.dir });
const rawDigest = async (ref: string) => sha256(Buffer.from(await skopeo('inspect', '--raw', ref)));

function buildFile(push: string): void {
  writeFileSync(file, `
sourceDateEpoch: 1700000000
args: { rev: "0" }
images:
  - name: multi
    tag: "1"
    platforms: [${PLATFORMS.join(', ')}]
    paths: [{ path: /etc/which, type: file, content: "{{platform}} {{args.rev}}\\n" }]
    push: ["${push}"]
`);
}

beforeAll(async () => {
  reg = await startRegistry({ proxy: true });
  buildFile(`${reg.host}/narrow/multi:1`);
  const r = await ociasm(['build', '-f', file, '-o', layout, '--build-arg', 'rev=1']);
  expect(r.code, r.stderr).toBe(0);
  index = refDescriptor(layout, 'multi:1').digest;
});
afterAll(async () => {
  await reg?.stop();
  tmp.cleanup();
});

describe('copy through docker://', () => {
  it('oci: → docker:// → oci: keeps the index digest; one platform copies as its own manifest', async () => {
    const up = await cli('copy', `oci:${layout}:multi:1`, `docker://${reg.host}/a/multi:1`, '--json');
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).images[0].digest).toBe(index);
    expect(await rawDigest(`docker://${reg.host}/a/multi:1`)).toBe(index);
    const down = await cli('copy', `docker://${reg.host}/a/multi:1`, `oci:${path.join(tmp.dir, 'back')}:back`);
    expect(down.code, down.stderr).toBe(0);
    expect(await rawDigest(`oci:${path.join(tmp.dir, 'back')}:back`)).toBe(index);
    const arm64 = platformImages(layout, 'multi:1').find((p: any) => p.platform === 'linux/arm64/v8')!;
    const one = await cli('copy', '--platform', 'linux/arm64', `${reg.host}/a/multi:1`, `oci:${path.join(tmp.dir, 'one')}:arm64`);
    expect(one.code, one.stderr).toBe(0);
    expect(await rawDigest(`oci:${path.join(tmp.dir, 'one')}:arm64`)).toBe(arm64.descriptor.digest);
    const config = JSON.parse(await skopeo('inspect', '--config', `oci:${path.join(tmp.dir, 'one')}:arm64`));
    expect(config.architecture).toBe('arm64');
  });

  it('docker:// → docker:// on one registry mounts every blob and keeps the digest', async () => {
    reg.proxy!.requests.length = 0;
    const r = await cli('copy', `docker://${reg.host}/a/multi:1`, `docker://${reg.host}/b/multi:copied`, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.stats.mounted).toBe(6); // three configs, three layers
    expect(out.stats.uploaded).toBe(0);
    expect(reg.proxy!.requests.filter((q) => q.path.startsWith('/v2/b/') && (q.method === 'PATCH' || (q.method === 'PUT' && q.path.includes('/blobs/'))))).toEqual([]);
    expect(await rawDigest(`docker://${reg.host}/b/multi:copied`)).toBe(index);
    expect(JSON.parse(await skopeo('list-tags', `docker://${reg.host}/b/multi`)).Tags).toEqual(['copied']);
  });

  it('refuses a digest reference the image does not have, writing no tag', async () => {
    const wrong = `sha256:${'0'.repeat(64)}`;
    const r = await cli('copy', `oci:${layout}:multi:1`, `docker://${reg.host}/d/multi@${wrong}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error[PUSH_VERIFY]');
    const ok = await cli('copy', `oci:${layout}:multi:1`, `docker://${reg.host}/d/multi@${index}`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await rawDigest(`docker://${reg.host}/d/multi@${index}`)).toBe(index);
  });
});

describe('inspect of a registry image', () => {
  it('--raw prints the manifest bytes exactly, --config the platform config, the summary every platform', async () => {
    const raw = await cli('inspect', '--raw', `${reg.host}/a/multi:1`);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toBe(await skopeo('inspect', '--raw', `docker://${reg.host}/a/multi:1`));
    const cfg = await cli('inspect', '--config', '--platform', 'linux/arm/v7', `docker://${reg.host}/a/multi:1`);
    expect(cfg.code, cfg.stderr).toBe(0);
    const arm = platformImages(layout, 'multi:1').find((p: any) => p.platform === 'linux/arm/v7')!;
    expect(sha256(Buffer.from(cfg.stdout))).toBe(arm.manifest.config.digest);
    const theirs = JSON.parse(await skopeo('inspect', '--config', '--override-arch', 'arm', '--override-variant', 'v7', `docker://${reg.host}/a/multi:1`));
    expect(JSON.parse(cfg.stdout)).toEqual(theirs);
    const summary = await cli('inspect', `${reg.host}/a/multi:1`, '--json');
    expect(summary.code, summary.stderr).toBe(0);
    const r = JSON.parse(summary.stdout);
    expect(r.index.digest).toBe(index);
    expect(r.manifests.map((m: any) => m.platform)).toEqual(['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7']);
    // a layout is still inspected by its bare DIR:REF
    const local = await cli('inspect', `${layout}:multi:1`, '--json');
    expect(JSON.parse(local.stdout).manifests[0].layers[0].files).toBe(1);
  });
});

describe('build -o TRANSPORT:…', () => {
  it('writes to a registry and to a named layout ref with the same digest as the plain layout build', async () => {
    const r = await cli('build', '-f', file, '--build-arg', 'rev=1', '-o', `docker://${reg.host}/built/multi:2`, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).images[0].index.digest).toBe(index);
    expect(await rawDigest(`docker://${reg.host}/built/multi:2`)).toBe(index);
    const named = path.join(tmp.dir, 'named');
    const n = await cli('build', '-f', file, '--build-arg', 'rev=1', '-o', `oci:${named}:custom`);
    expect(n.code, n.stderr).toBe(0);
    expect(readLayoutIndex(named).manifests.map((d: any) => [d.annotations['org.opencontainers.image.ref.name'], d.digest])).toEqual([['custom', index]]);
  });
});

describe('a narrowed push never shrinks a published index', () => {
  const tag = () => `docker://${reg.host}/narrow/multi:1`;
  const platformsOf = async () => JSON.parse(await skopeo('inspect', '--raw', tag())).manifests.map((m: any) => m.platform.variant ? `${m.platform.os}/${m.platform.architecture}/${m.platform.variant}` : `${m.platform.os}/${m.platform.architecture}`);

  it('refuses by default naming the dropped platforms, merges with --merge-index, replaces with --replace-index', async () => {
    const full = await cli('build', '-f', file, '--build-arg', 'rev=1', '-o', path.join(tmp.dir, 'full'), '--push');
    expect(full.code, full.stderr).toBe(0);
    expect(await rawDigest(tag())).toBe(index);

    const narrowed = await cli('build', '-f', file, '--build-arg', 'rev=2', '--platform', 'linux/arm/v7', '-o', path.join(tmp.dir, 'arm'), '--push');
    expect(narrowed.code).toBe(1);
    expect(narrowed.stderr).toContain('error[INDEX_NARROWED]');
    expect(narrowed.stderr).toContain('would drop linux/amd64, linux/arm64');
    expect(narrowed.stderr).toContain('--merge-index');
    expect(await rawDigest(tag())).toBe(index);
    // ociasm push of the narrowed layout is refused the same way
    const pushed = await cli('push', `${path.join(tmp.dir, 'arm')}:multi:1`, `${reg.host}/narrow/multi:1`);
    expect(pushed.code).toBe(1);
    expect(pushed.stderr).toContain('error[INDEX_NARROWED]');

    const merged = await cli('build', '-f', file, '--build-arg', 'rev=2', '--platform', 'linux/arm/v7', '-o', path.join(tmp.dir, 'arm'), '--push', '--merge-index', '--json');
    expect(merged.code, merged.stderr).toBe(0);
    const result = JSON.parse(merged.stdout);
    const newArm = result.images[0].platforms[0].manifest.digest;
    expect(result.pushed.refs[0].merged).toBe(await rawDigest(tag()));
    expect(await platformsOf()).toEqual(['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7']);
    const entries = JSON.parse(await skopeo('inspect', '--raw', tag())).manifests;
    const old = readBlobJson(layout, index).manifests;
    expect(entries.map((m: any) => m.digest)).toEqual([old[0].digest, old[1].digest, newArm]);
    const armConfig = JSON.parse(await skopeo('inspect', '--config', '--override-arch', 'arm', '--override-variant', 'v7', tag()));
    expect(armConfig.architecture).toBe('arm');

    const replaced = await cli('build', '-f', file, '--build-arg', 'rev=2', '--platform', 'linux/arm/v7', '-o', path.join(tmp.dir, 'arm'), '--push', '--replace-index');
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await platformsOf()).toEqual(['linux/arm/v7']);
  });
});
