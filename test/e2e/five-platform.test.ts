/**
 * A five-platform build from scratch with injected trees, ACLs and a file
 * capability, checked only with tools that are not ours: skopeo, umoci,
 * oci-image-tool, GNU tar with getfacl/getfattr/getcap, and qemu-user.
 */
import { mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIVE_PLATFORMS, makeInputs } from '../harness/inputs.js';
import { blobPath, must, ociasm, platformImages, readBlobJson, refDescriptor, tempDir } from '../harness/util.js';

const tmp = tempDir();
const layout = path.join(tmp.dir, 'oci');
let indexDigest = '';
let images: ReturnType<typeof platformImages> = [];

const QEMU: Record<string, { bin: string; uname: string }> = {
  'linux/arm64/v8': { bin: 'qemu-aarch64-static', uname: 'aarch64' },
  'linux/arm/v7': { bin: 'qemu-arm-static', uname: 'armv7l' },
  'linux/arm/v6': { bin: 'qemu-arm-static', uname: 'armv' },
  'linux/arm/v5': { bin: 'qemu-arm-static', uname: 'armv' },
};

async function extract(layerPath: string, name: string): Promise<string> {
  const dir = path.join(tmp.dir, 'x', name.replaceAll('/', '_'));
  mkdirSync(dir, { recursive: true });
  await must('tar', ['--xattrs', "--xattrs-include=*", '-xpf', layerPath, '-C', dir]);
  return dir;
}

beforeAll(async () => {
  const file = await makeInputs(path.join(tmp.dir));
  const r = await ociasm(['build', '-f', file, '-o', layout, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout);
  indexDigest = result.images[0].index.digest;
  images = platformImages(layout, 'app:1.0');
});
afterAll(() => tmp.cleanup());

describe('five-platform build from scratch', () => {
  it('writes an index with the five canonical platforms, tagged app:1.0', () => {
    expect(refDescriptor(layout, 'app:1.0').digest).toBe(indexDigest);
    expect(images.map((i: any) => i.platform)).toEqual(FIVE_PLATFORMS);
    for (const img of images) {
      expect(img.manifest.layers).toHaveLength(1);
      expect(img.config.rootfs.diff_ids).toHaveLength(1);
      expect(img.config.created).toBe('2023-11-14T22:13:20Z');
      expect(img.manifest.annotations['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z');
      expect(img.config.config).toMatchObject({
        User: '10000:10000', Entrypoint: ['/cyberapp/busybox'], Cmd: ['--datadir=/cyberdata'], Env: ['COIN=skycoin'],
        WorkingDir: '/cyberapp', Volumes: { '/cyberdata': {} }, ExposedPorts: { '8333/tcp': {}, '6000/tcp': {} },
        StopSignal: 'SIGTERM', Labels: { 'org.opencontainers.image.title': 'app' },
      });
    }
  });

  it('is read by skopeo inspect, raw and parsed', async () => {
    const parsed = JSON.parse(await must('skopeo', ['inspect', `oci:${layout}:app:1.0`]));
    expect(parsed.Digest).toBe(indexDigest);
    expect(parsed.Architecture).toBe('amd64');
    expect(parsed.Env).toEqual(['COIN=skycoin']);
    const raw = JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${layout}:app:1.0`]));
    expect(raw.manifests.map((m: any) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      { os: 'linux', architecture: 'arm', variant: 'v6' },
      { os: 'linux', architecture: 'arm', variant: 'v5' },
    ]);
    const config = JSON.parse(await must('skopeo', ['inspect', '--config', `oci:${layout}:app:1.0`]));
    expect(config.rootfs.diff_ids).toEqual(images[0].config.rootfs.diff_ids);
  });

  it('passes oci-image-tool validation of the index, manifests and configs', async () => {
    await must('oci-image-tool', ['validate', '--type', 'imageIndex', blobPath(layout, indexDigest)]);
    for (const img of images) {
      await must('oci-image-tool', ['validate', '--type', 'manifest', blobPath(layout, img.descriptor.digest)]);
      await must('oci-image-tool', ['validate', '--type', 'config', blobPath(layout, img.manifest.config.digest)]);
    }
  });

  it('unpacks with umoci for a per-platform manifest', async () => {
    const arm = images.find((i: any) => i.platform === 'linux/arm64/v8')!;
    // umoci refuses an index with several platforms under one tag; give it a tag for one manifest.
    const view = path.join(tmp.dir, 'umoci-view');
    mkdirSync(view);
    symlinkSync(path.join(layout, 'blobs'), path.join(view, 'blobs'));
    writeFileSync(path.join(view, 'oci-layout'), readFileSync(path.join(layout, 'oci-layout')));
    writeFileSync(path.join(view, 'index.json'), JSON.stringify({
      schemaVersion: 2, manifests: [{ ...arm.descriptor, annotations: { 'org.opencontainers.image.ref.name': 'arm64' } }],
    }));
    const bundle = path.join(tmp.dir, 'bundle');
    await must('umoci', ['unpack', '--image', `${view}:arm64`, bundle]);
    const rootfs = path.join(bundle, 'rootfs');
    expect(readFileSync(path.join(rootfs, 'etc', 'platform'), 'utf8')).toBe('linux/arm64/v8 linux arm64 v8\n');
    expect(readlinkSync(path.join(rootfs, 'bin', 'sh'))).toBe('/cyberapp/busybox');
    expect(await must('getfacl', ['-n', '-p', '-c', path.join(rootfs, 'cyberdata')])).toContain('group:2000:rwx');
    const runtime = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    expect(runtime.process.args).toEqual(['/cyberapp/busybox', '--datadir=/cyberdata']);
    expect(runtime.process.user).toMatchObject({ uid: 10000, gid: 10000 });
  });

  it('extracts with GNU tar keeping ACLs, the capability, xattrs, owners and modes', async () => {
    const root = await extract(images[0].layerPath, 'amd64');
    const acl = await must('getfacl', ['-n', '-p', path.join(root, 'cyberdata')]);
    expect(acl).toContain('# owner: 10000');
    expect(acl).toContain('group:2000:rwx');
    expect(acl).toContain('mask::rwx');
    expect(acl).toContain('default:group::r-x');
    const shared = await must('getfacl', ['-n', '-p', path.join(root, 'srv', 'shared')]);
    expect(shared).toContain('user:1000:rwx');
    expect(shared).toContain('group:3000:r-x');
    expect(shared).toContain('default:user:1000:rwx');
    expect(shared).toContain('flags: -s-');
    expect(await must('getcap', [path.join(root, 'usr', 'sbin', 'netd')])).toContain('cap_net_bind_service=ep');
    const fattr = await must('getfattr', ['-n', 'user.origin', '-e', 'hex', path.join(root, 'etc', 'motd')]);
    expect(fattr).toContain('user.origin=0x00ff10');
    expect(statSync(path.join(root, 'usr', 'sbin', 'su-helper')).mode & 0o7777).toBe(0o4755);
    expect(statSync(path.join(root, 'srv', 'shared', 'readme'))).toMatchObject({ uid: 1234, gid: 5678 });
    expect(statSync(path.join(root, 'srv', 'bigid'))).toMatchObject({ uid: 3000000, gid: 3000001 });
    expect(statSync(path.join(root, 'etc', 'motd'))).toMatchObject({ uid: 0, gid: 0 });
    const a = statSync(path.join(root, 'etc', 'hosts.a'));
    expect(statSync(path.join(root, 'etc', 'hosts.b')).ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    expect(statSync(path.join(root, 'var', 'pipe')).isFIFO()).toBe(true);
    expect(statSync(path.join(root, 'var', 'empty')).isDirectory()).toBe(true);
    expect(readlinkSync(path.join(root, 'var', 'empty', 'motd.rel'))).toBe('../motd');
    expect(readlinkSync(path.join(root, 'etc', 'dangling'))).toBe('/does/not/exist');
  });

  it('lists entries sorted, parents first, with the epoch mtime and no owner names', async () => {
    const listing = await must('tar', ['--numeric-owner', '--full-time', '-tvf', images[1].layerPath]);
    const lines = listing.trim().split('\n');
    const names = lines.map((l) => l.split(/\s+/)[5]!.replace(/\/$/, ''));
    for (const [i, name] of names.entries()) {
      const parent = path.posix.dirname(name);
      if (parent !== '.') expect(names.slice(0, i)).toContain(parent);
    }
    expect(lines.every((l) => l.includes('2023-11-14 22:13:20'))).toBe(true);
    const verbose = await must('tar', ['-tvf', images[1].layerPath]);
    expect(verbose).not.toMatch(/root\//);
  });

  it('accepts every layer with gzip -t and pigz -t', async () => {
    for (const img of images) {
      await must('gzip', ['-t', img.layerPath]);
      await must('pigz', ['-t', img.layerPath]);
    }
  });

  it('runs each foreign busybox from its extracted rootfs under qemu', async () => {
    let checked = 0;
    for (const img of images) {
      const q = QEMU[img.platform];
      if (!q) continue;
      const root = await extract(img.layerPath, img.platform);
      const out = await must(q.bin, [path.join(root, 'cyberapp', 'busybox'), 'uname', '-m']);
      expect(out.trim().startsWith(q.uname)).toBe(true);
      const cat = await must(q.bin, [path.join(root, 'cyberapp', 'busybox'), 'cat', path.join(root, 'etc', 'platform')]);
      expect(cat).toBe(`${img.platform} linux ${img.config.architecture} ${img.config.variant}\n`);
      checked++;
    }
    expect(checked).toBe(4);
  });

  it('inspect reports the index, manifests and file counts', async () => {
    const r = await ociasm(['inspect', `${layout}:app:1.0`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.index.digest).toBe(indexDigest);
    expect(doc.manifests).toHaveLength(5);
    const layer = doc.manifests[0].layers[0];
    expect(layer.hardlinks).toBe(1);
    expect(layer.symlinks).toBe(4);
    expect(layer.digest).toBe(images[0].manifest.layers[0].digest);
    const text = await ociasm(['inspect', `${layout}:app:1.0`]);
    expect(text.stdout).toContain(`index ${indexDigest}`);
    expect(readBlobJson(layout, indexDigest).manifests).toHaveLength(5);
  });
});
