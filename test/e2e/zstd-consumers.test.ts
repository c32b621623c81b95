/**
 * zstd layers (`compression: zstd`, `--compression zstd`) read by consumers
 * that are not ours: skopeo decompresses the layer to its diffID, podman
 * (vfs storage, private root) and containerd 1.6's `ctr` (a private daemon,
 * native snapshotter) unpack it with the files intact. Also: the layer cache
 * keeps gzip and zstd layers apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldenInput } from '../../src/codec/gzip/index.js';
import { must, ociasm, platformImages, readBlobJson } from '../harness/util.js';

// podman names an oci: image after its folder (a repository name must be lowercase) and wants a runroot under 50 characters: a short, lowercase folder.
const tmp = { dir: path.join(os.tmpdir(), `ociasm-zst-${process.pid}`), cleanup: () => rmSync(tmp.dir, { recursive: true, force: true }) };
rmSync(tmp.dir, { recursive: true, force: true });
mkdirSync(tmp.dir, { recursive: true });
const src = path.join(tmp.dir, 'src');
const layout = path.join(tmp.dir, 'oci');
// 24 MiB whose second half repeats the first: long-distance matches 12 MiB back, inside the 64 MiB window (format v2) and past the 8 MiB windows decoders see most.
const HALF = goldenInput(12 << 20);
const BIG = Buffer.concat([HALF, HALF]);
const env = { ...process.env, OCIASM_CACHE_DIR: path.join(tmp.dir, 'cache') };
let containerd: ChildProcess | undefined;
afterAll(async () => {
  if (containerd && containerd.exitCode === null) {
    const exited = new Promise((r) => containerd!.once('exit', r));
    containerd.kill('SIGTERM');
    await exited;
  }
  tmp.cleanup();
});

function layerOf(out: string) {
  const [img] = platformImages(out, 'z:1');
  return { manifest: img!.manifest, config: img!.config };
}

beforeAll(async () => {
  mkdirSync(path.join(src, 'sub'), { recursive: true });
  writeFileSync(path.join(src, 'sub', 'hello.txt'), 'hello zstd\n');
  writeFileSync(path.join(src, 'big.bin'), BIG);
  writeFileSync(path.join(tmp.dir, 'ociasm.yaml'), 'compression: zstd\nimages:\n  - name: z\n    tag: "1"\n    files: [{ src: src/, dest: /app/ }]\n');
  const r = await ociasm(['build', '-o', layout], { cwd: tmp.dir, env });
  expect(r.code, r.stderr).toBe(0);
});

describe('a zstd layer', () => {
  it('has the zstd media type, and skopeo decompresses it to the diffID', async () => {
    const { manifest, config } = layerOf(layout);
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    // one frame, the 2^26 window, a checksum (Debian's zstd reads the header); the repeat made it compress below one half
    const info = await must('zstd', ['-lv', path.join(layout, 'blobs', 'sha256', manifest.layers[0].digest.slice(7))]);
    expect(info).toMatch(/# Zstandard Frames: 1\b/);
    expect(info).toMatch(/Window Size: 64\.0 MiB/);
    expect(info).toMatch(/Check: XXH64/);
    expect(manifest.layers[0].size).toBeLessThan(BIG.length * 0.6);
    const dir = path.join(tmp.dir, 'skopeo-dir');
    await must('skopeo', ['copy', '-q', '--dest-decompress', `oci:${layout}:z:1`, `dir:${dir}`]);
    const diffId = config.rootfs.diff_ids[0] as string;
    const tar = readFileSync(path.join(dir, diffId.slice(7)));
    expect(`sha256:${createHash('sha256').update(tar).digest('hex')}`).toBe(diffId);
  });

  it('is pulled and unpacked by podman (vfs, private root)', async () => {
    const root = path.join(tmp.dir, 'podman');
    const podman = ['--root', path.join(root, 'root'), '--runroot', path.join(root, 'run'), '--tmpdir', path.join(root, 'tmp'),
      '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
    await must('podman', [...podman, 'pull', '-q', `oci:${layout}:z:1`], { env: { ...process.env, CONTAINERS_CONF: '/dev/null' } });
    const diffId = (layerOf(layout).config.rootfs.diff_ids[0] as string).slice(7);
    const unpacked = path.join(root, 'root', 'vfs', 'dir', diffId, 'app');
    expect(readFileSync(path.join(unpacked, 'sub', 'hello.txt'), 'utf8')).toBe('hello zstd\n');
    expect(readFileSync(path.join(unpacked, 'big.bin')).equals(BIG)).toBe(true);
  });

  it('is imported and unpacked by containerd 1.6 (ctr, native snapshotter)', async () => {
    const d = path.join(tmp.dir, 'containerd');
    mkdirSync(d, { recursive: true });
    const sock = path.join(d, 'sock');
    writeFileSync(path.join(d, 'config.toml'), [
      'version = 2', `root = "${d}/root"`, `state = "${d}/state"`, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]', `  address = "${sock}"`, '[ttrpc]', `  address = "${sock}.ttrpc"`, '[debug]', '  address = ""', '[metrics]', '  address = ""',
    ].join('\n') + '\n');
    containerd = spawn('containerd', ['--config', path.join(d, 'config.toml')], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    const archive = path.join(d, 'image.tar');
    await must('tar', ['-C', layout, '-cf', archive, '.']);
    await must('ctr', ['-a', sock, '-n', 'ociasm', 'images', 'import', '--snapshotter', 'native', '--base-name', 'z', archive]);
    const snapshots = path.join(d, 'root', 'io.containerd.snapshotter.v1.native', 'snapshots');
    const hello = (await must('find', [snapshots, '-path', '*/app/sub/hello.txt'])).trim().split('\n').filter(Boolean);
    expect(hello).toHaveLength(1);
    expect(readFileSync(hello[0]!, 'utf8')).toBe('hello zstd\n');
    expect(readFileSync(path.join(path.dirname(path.dirname(hello[0]!)), 'big.bin')).equals(BIG)).toBe(true);
  });

  it('and a gzip layer of the same tree are kept apart by the layer cache; --compression wins over the file', async () => {
    const zstdLayer = layerOf(layout).manifest.layers[0];
    const gz = await ociasm(['build', '-o', layout, '--compression', 'gzip', '--json'], { cwd: tmp.dir, env });
    expect(gz.code, gz.stderr).toBe(0);
    const g = JSON.parse(gz.stdout).images[0].platforms[0].layer;
    expect(g.cached).toBe(false);
    expect(g.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(g.diffId).toBe(readBlobJson(layout, layerOf(layout).manifest.config.digest).rootfs.diff_ids[0]);
    const again = await ociasm(['build', '-o', layout, '--json'], { cwd: tmp.dir, env });
    const z = JSON.parse(again.stdout).images[0].platforms[0].layer;
    expect(z).toMatchObject({ cached: true, mediaType: zstdLayer.mediaType, digest: zstdLayer.digest, diffId: g.diffId });
    const bad = await ociasm(['build', '-o', layout, '--compression', 'xz'], { cwd: tmp.dir, env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/xz.*invalid|Allowed choices are gzip, zstd/);
    writeFileSync(path.join(tmp.dir, 'bad.yaml'), 'images:\n  - name: z\n    compression: lz4\n');
    const badFile = await ociasm(['build', '-f', 'bad.yaml', '-o', path.join(tmp.dir, 'never')], { cwd: tmp.dir, env });
    expect(badFile.code).not.toBe(0);
    expect(badFile.stderr).toContain('BUILDFILE_INVALID');
    expect(badFile.stderr).toMatch(/compression.*must be gzip or zstd, got "lz4"/);
    expect(existsSync(path.join(tmp.dir, 'never'))).toBe(false);
  });
});
