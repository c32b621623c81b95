/**
 * oci-archive: and docker-archive: checked by tools that are not ours:
 * skopeo inspects and copies our archives to a real registry (digests kept),
 * podman loads them (vfs, a private root), containerd's ctr imports them (a
 * private containerd), and archives skopeo wrote read back as our sources.
 * Also: archive bytes are deterministic, and a failed or uncommitted copy
 * leaves no file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/cas/blob-store.js';
import { parsePlatform } from '../../src/codec/platform.js';
import { copyImage } from '../../src/copy/copy.js';
import { openDestination, openSource } from '../../src/transports/index.js';
import { startContainerd, type TestDaemon } from '../harness/daemons.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { blobPath, must, ociasm, readBlobJson, refDescriptor, ROOT, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-arch-');
const ctx = { cwd: tmp.dir, env: {} };
const HOST_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;
let src: string;
let indexDigest: string;
/** Per-platform manifest and config digests of the built image. */
let images: { platform: string; manifest: string; config: string; diffIds: string[] }[];
let reg: TestRegistry;
let containerd: TestDaemon;

const fileSha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const at = (name: string) => path.join(tmp.dir, name);
const podman = (args: string[]) => must('podman', ['--root', at('podman/root'), '--runroot', at('podman/run'), '--storage-driver', 'vfs', ...args]);
const ctr = (args: string[]) => must('ctr', ['-a', containerd.socket, '-n', 'ociasm', ...args]);

beforeAll(async () => {
  src = at('src');
  const r = await ociasm(['build', '-f', path.join(ROOT, 'docs/examples/hello/ociasm.yaml'), '-o', src], { cwd: tmp.dir });
  expect(r.code, r.stderr).toBe(0);
  indexDigest = refDescriptor(src, 'hello:1.0').digest;
  images = readBlobJson(src, indexDigest).manifests.map((d: any) => {
    const m = readBlobJson(src, d.digest);
    const p = d.platform;
    return { platform: [p.os, p.architecture, p.variant].filter(Boolean).join('/'), manifest: d.digest, config: m.config.digest, diffIds: readBlobJson(src, m.config.digest).rootfs.diff_ids };
  });
  [reg, containerd] = await Promise.all([startRegistry(), startContainerd()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([reg?.stop(), containerd?.stop()]);
  tmp.cleanup();
});

const image = (platform: string) => images.find((i) => i.platform === platform)!;

describe('oci-archive:', () => {
  it('holds the whole index; skopeo reads it and copies it to a registry with every digest kept', async () => {
    const r = await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('oci-archive:hello-oci.tar:hello:1.0', ctx));
    expect(r.images[0]!.digest).toBe(indexDigest);
    const raw = await must('skopeo', ['inspect', '--raw', `oci-archive:${at('hello-oci.tar')}:hello:1.0`]);
    expect(sha256(Buffer.from(raw))).toBe(indexDigest);
    const armConfig = await must('skopeo', ['inspect', '--config', '--raw', '--override-arch', 'arm', '--override-variant', 'v7', `oci-archive:${at('hello-oci.tar')}:hello:1.0`]);
    expect(sha256(Buffer.from(armConfig))).toBe(image('linux/arm/v7').config);
    await must('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci-archive:${at('hello-oci.tar')}:hello:1.0`, `docker://${reg.host}/lab/hello-oci:1.0`]);
    const pushed = await must('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/lab/hello-oci:1.0`]);
    expect(sha256(Buffer.from(pushed))).toBe(indexDigest);
    const pushedArm = await must('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/lab/hello-oci@${image('linux/arm/v7').manifest}`]);
    expect(sha256(Buffer.from(pushedArm))).toBe(image('linux/arm/v7').manifest);
  });

  it('is the same bytes every time: sorted entries, owner 0, mtime 0', async () => {
    await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('oci-archive:again.tar:hello:1.0', ctx));
    expect(fileSha(at('again.tar'))).toBe(fileSha(at('hello-oci.tar')));
    const listing = (await must('tar', ['--numeric-owner', '--full-time', '-tvf', at('again.tar')])).trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/).pop()!);
    expect(names).toEqual([...names].sort());
    expect(names.slice(-2)).toEqual(['index.json', 'oci-layout']);
    for (const l of listing) expect(l).toMatch(/ 0\/0 .* 1970-01-01 00:00:00 /);
  });

  it('podman load and ctr images import take it', async () => {
    const loaded = await podman(['load', '-i', at('hello-oci.tar')]);
    expect(loaded).toContain('hello:1.0');
    const id = (await podman(['image', 'inspect', '--format', '{{.ID}}', 'localhost/hello:1.0'])).trim();
    expect(`sha256:${id}`).toBe(image(`linux/${HOST_ARCH}`).config);
    await ctr(['images', 'import', '--all-platforms', '--no-unpack', at('hello-oci.tar')]);
    const listed = await ctr(['images', 'ls']);
    expect(listed).toMatch(new RegExp(`hello:1\\.0\\s+application/vnd\\.oci\\.image\\.index\\.v1\\+json\\s+${indexDigest}`));
  });

  it('reads an archive skopeo wrote, digests unchanged', async () => {
    await must('skopeo', ['copy', '--all', `oci:${src}:hello:1.0`, `oci-archive:${at('skopeo-oci.tar')}:hello:1.0`]);
    const r = await copyImage(await openSource('oci-archive:skopeo-oci.tar:hello:1.0', ctx), await openDestination('oci:from-skopeo:x', ctx));
    expect(r.images[0]!.digest).toBe(indexDigest);
    expect(JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${at('from-skopeo')}:x`])).manifests).toHaveLength(5);
  });

  it('reads a gzip-compressed archive; refuses what is not one, by name', async () => {
    await must('sh', ['-c', `gzip -c < '${at('hello-oci.tar')}' > '${at('hello-oci.tar.gz')}'`]);
    const s = await openSource('oci-archive:hello-oci.tar.gz', ctx);
    expect((await s.getManifest()).descriptor.digest).toBe(indexDigest);
    await s.close();
    expect(readdirSync(tmp.dir).filter((n) => n.includes('.ociasm-'))).toEqual([]);
    writeFileSync(at('junk.tar'), 'not a tar at all, but long enough to be read as a header block'.repeat(20));
    await expect(openSource('oci-archive:junk.tar', ctx)).rejects.toMatchObject({ code: 'ARCHIVE_INVALID', message: expect.stringContaining('junk.tar') });
    await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('docker-archive:for-oci.tar', ctx), { platforms: [parsePlatform('linux/amd64')] });
    await expect(openSource('oci-archive:for-oci.tar', ctx)).rejects.toMatchObject({ code: 'ARCHIVE_INVALID', message: expect.stringContaining('docker-archive:') });
    await expect(openSource('oci-archive:hello-oci.tar:nope', ctx).then((x) => x.getManifest())).rejects.toMatchObject({ code: 'REF_NOT_FOUND' });
  });

  it('closed without a commit leaves nothing', async () => {
    const dest = await openDestination('oci-archive:never.tar:x', ctx);
    const source = await openSource(`oci:${src}:hello:1.0`, ctx);
    const m = await source.getManifest(image('linux/amd64').manifest);
    const cfg = JSON.parse(m.bytes.toString()).config;
    await dest.putBlob(cfg, { size: cfg.size, openAt: (o, e) => source.openBlob(cfg, { offset: o, end: e }) }, []);
    await dest.close();
    expect(existsSync(at('never.tar'))).toBe(false);
    expect(readdirSync(tmp.dir).filter((n) => n.startsWith('.never'))).toEqual([]);
  });
});

describe('docker-archive:', () => {
  it('holds one platform, named; skopeo reads our config and copies it to a registry with config and layers kept', async () => {
    await expect(copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('docker-archive:all.tar:hello:1.0', ctx)))
      .rejects.toMatchObject({ code: 'PLATFORM_INVALID' });
    expect(existsSync(at('all.tar'))).toBe(false);
    const arm = image('linux/arm/v7');
    const r = await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('docker-archive:hello-arm.tar:hello:arm', ctx), { platforms: [parsePlatform('linux/arm/v7')] });
    expect(r.images[0]!.digest).toBe(arm.manifest);
    const seen = JSON.parse(await must('skopeo', ['inspect', `docker-archive:${at('hello-arm.tar')}`]));
    expect(seen.Architecture).toBe('arm');
    expect(seen.Layers).toEqual(arm.diffIds);
    const seenConfig = await must('skopeo', ['inspect', '--config', '--raw', `docker-archive:${at('hello-arm.tar')}`]);
    expect(sha256(Buffer.from(seenConfig))).toBe(arm.config);
    const raw = JSON.parse(await must('skopeo', ['inspect', '--raw', `docker-archive:${at('hello-arm.tar')}`]));
    expect(raw.config.digest).toBe(arm.config);
    // The RepoTags entry is the full name, as skopeo writes it.
    expect(JSON.parse(await must('tar', ['-xOf', at('hello-arm.tar'), 'manifest.json']))[0].RepoTags).toEqual(['docker.io/library/hello:arm']);
    await must('skopeo', ['copy', '--dest-tls-verify=false', `docker-archive:${at('hello-arm.tar')}`, `docker://${reg.host}/lab/hello-docker:arm`]);
    const pushed = JSON.parse(await must('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/lab/hello-docker:arm`]));
    expect(pushed.config.digest).toBe(arm.config);
    const pushedCfg = JSON.parse(await must('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/lab/hello-docker:arm`]));
    expect(pushedCfg.rootfs.diff_ids).toEqual(arm.diffIds);
  });

  it('takes the platform it was opened with (DestinationOptions.platform) when the copy names none', async () => {
    const arm64 = image('linux/arm64/v8');
    const dest = await openDestination('docker-archive:arm64.tar:hello:arm64', ctx, { platform: 'linux/arm64' });
    const r = await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), dest);
    expect(r.images[0]!.digest).toBe(arm64.manifest);
    const cfg = await must('skopeo', ['inspect', '--config', '--raw', `docker-archive:${at('arm64.tar')}`]);
    expect(sha256(Buffer.from(cfg))).toBe(arm64.config);
    await expect(openDestination('docker-archive:x.tar', ctx, { platform: 'linux//' })).rejects.toMatchObject({ code: 'PLATFORM_INVALID' });
  });

  it('is the same bytes every time, layers uncompressed as docker save stores them', async () => {
    await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('docker-archive:arm-again.tar:hello:arm', ctx), { platforms: [parsePlatform('linux/arm/v7')] });
    expect(fileSha(at('arm-again.tar'))).toBe(fileSha(at('hello-arm.tar')));
    const arm = image('linux/arm/v7');
    const layer = await must('sh', ['-c', `tar -xOf '${at('hello-arm.tar')}' ${arm.diffIds[0]!.slice(7)}.tar | sha256sum`]);
    expect(`sha256:${layer.split(' ')[0]}`).toBe(arm.diffIds[0]);
    const config = await must('sh', ['-c', `tar -xOf '${at('hello-arm.tar')}' ${arm.config.slice(7)}.json | sha256sum`]);
    expect(`sha256:${config.split(' ')[0]}`).toBe(arm.config);
  });

  it('podman load and ctr images import take it and keep our config', async () => {
    const host = image(`linux/${HOST_ARCH}`);
    await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx), await openDestination('docker-archive:hello-host.tar:lab/hello:host', ctx), { platforms: [parsePlatform(`linux/${HOST_ARCH}`)] });
    expect(await podman(['load', '-i', at('hello-host.tar')])).toContain('lab/hello:host');
    const id = (await podman(['image', 'inspect', '--format', '{{.ID}}', 'docker.io/lab/hello:host'])).trim();
    expect(`sha256:${id}`).toBe(host.config);
    await ctr(['images', 'import', at('hello-host.tar')]);
    const line = (await ctr(['images', 'ls'])).split('\n').find((l) => l.startsWith('docker.io/lab/hello:host'));
    expect(line).toBeDefined();
    const manifestDigest = line!.split(/\s+/)[2]!;
    const manifest = JSON.parse(await ctr(['content', 'get', manifestDigest]));
    expect(manifest.config.digest).toBe(host.config);
  });

  it('reads archives skopeo wrote: same config and layers, a deterministic synthesized manifest', async () => {
    const arm = image('linux/arm/v7');
    await must('skopeo', ['copy', '--override-arch', 'arm', '--override-variant', 'v7', `oci:${src}:hello:1.0`, `docker-archive:${at('skopeo-docker.tar')}:hello:sk`]);
    const opened = await openSource('docker-archive:skopeo-docker.tar', ctx);
    expect([(opened as any).baseName, (opened as any).local]).toEqual(['docker.io/library/hello:sk', true]);
    await opened.close();
    const a = await copyImage(await openSource('docker-archive:skopeo-docker.tar', ctx), await openDestination('oci:from-docker:x', ctx));
    const b = await copyImage(await openSource('docker-archive:skopeo-docker.tar:hello:sk', ctx), await openDestination('oci:from-docker2:x', ctx));
    expect(b.images[0]!.digest).toBe(a.images[0]!.digest);
    const manifest = readBlobJson(at('from-docker'), a.images[0]!.digest);
    expect(manifest.config.digest).toBe(arm.config);
    expect(manifest.layers.map((l: any) => [l.mediaType, l.digest])).toEqual(arm.diffIds.map((d) => ['application/vnd.oci.image.layer.v1.tar', d]));
    // umoci (not ours) unpacks the layout made from it.
    await must('umoci', ['unpack', '--image', `${at('from-docker')}:x`, at('unpacked')]);
    expect(readFileSync(path.join(at('unpacked'), 'rootfs/etc/hello.txt'), 'utf8').length).toBeGreaterThan(0);
    // A skopeo archive read back and written by us is the same image to skopeo.
    await copyImage(await openSource('docker-archive:skopeo-docker.tar', ctx), await openDestination('docker-archive:rewritten.tar:hello:sk', ctx));
    const again = JSON.parse(await must('skopeo', ['inspect', '--raw', `docker-archive:${at('rewritten.tar')}`]));
    const orig = JSON.parse(await must('skopeo', ['inspect', '--raw', `docker-archive:${at('skopeo-docker.tar')}`]));
    expect(again).toEqual(orig);
  });

  it('refuses an image whose layers do not match its config\'s diff_ids, writing nothing', async () => {
    const bad = at('bad-layout');
    await must('cp', ['-r', src, bad]);
    const host = image('linux/amd64');
    const man = readBlobJson(bad, host.manifest);
    const cfg = readBlobJson(bad, host.config);
    cfg.rootfs.diff_ids = [`sha256:${'0'.repeat(64)}`];
    const cfgBytes = Buffer.from(JSON.stringify(cfg));
    writeFileSync(blobPath(bad, sha256(cfgBytes)), cfgBytes);
    man.config = { ...man.config, digest: sha256(cfgBytes), size: cfgBytes.length };
    const manBytes = Buffer.from(JSON.stringify(man));
    writeFileSync(blobPath(bad, sha256(manBytes)), manBytes);
    writeFileSync(path.join(bad, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: man.mediaType, digest: sha256(manBytes), size: manBytes.length, annotations: { 'org.opencontainers.image.ref.name': 'bad' } }] }));
    await expect(copyImage(await openSource(`oci:${bad}:bad`, ctx), await openDestination('docker-archive:bad.tar:bad:1', ctx)))
      .rejects.toMatchObject({ code: 'DIGEST_MISMATCH', message: expect.stringContaining('diff_ids') });
    expect(existsSync(at('bad.tar'))).toBe(false);
    await expect(openDestination('docker-archive:x.tar:bad@sha256:' + '1'.repeat(64), ctx)).rejects.toMatchObject({ code: 'REFERENCE_INVALID' });
    // A hostile archive: its layer is a symlink out of the archive, its config a '..' path.
    const evil = at('evil');
    mkdirSync(evil);
    writeFileSync(path.join(evil, 'c.json'), JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'2'.repeat(64)}`] } }));
    writeFileSync(path.join(evil, 'manifest.json'), JSON.stringify([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: ['l.tar'] }]));
    await must('ln', ['-s', '/etc/passwd', path.join(evil, 'l.tar')]);
    await must('tar', ['-C', evil, '-cf', at('evil.tar'), 'c.json', 'manifest.json', 'l.tar']);
    await expect(openSource('docker-archive:evil.tar', ctx).then((x) => x.getManifest())).rejects.toMatchObject({ code: 'ARCHIVE_INVALID', message: expect.stringContaining('"l.tar" is not a file in the archive') });
    writeFileSync(path.join(evil, 'manifest.json'), JSON.stringify([{ Config: '../../etc/passwd', RepoTags: null, Layers: [] }]));
    await must('tar', ['-C', evil, '-cf', at('evil2.tar'), 'c.json', 'manifest.json']);
    await expect(openSource('docker-archive:evil2.tar', ctx).then((x) => x.getManifest())).rejects.toMatchObject({ code: 'ARCHIVE_INVALID' });
    mkdirSync(at('a-dir'));
    await expect(openDestination('docker-archive:a-dir', ctx)).rejects.toMatchObject({ code: 'REFERENCE_INVALID' });
  });
});
