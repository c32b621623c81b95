/** Bases from local OCI layouts: our own multi-arch index, and a two-layer image made by umoci. */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { must, ociasm, platformImages, tempDir } from '../harness/util.js';

const tmp = tempDir();
const j = (...p: string[]) => path.join(tmp.dir, ...p);

async function buildOk(file: string, out: string): Promise<any> {
  const r = await ociasm(['build', '-f', file, '-o', out, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function extract(layer: string, name: string): Promise<string> {
  const dir = j('x', name);
  mkdirSync(dir, { recursive: true });
  await must('tar', ['--xattrs', '--xattrs-include=*', '-xpf', layer, '-C', dir]);
  return dir;
}

beforeAll(async () => {
  writeFileSync(j('base.yaml'), `images:
  - name: base
    platforms: [linux/amd64, linux/arm64, linux/arm/v7]
    paths: [{ path: /etc/os-release, type: file, content: "base {{platformTag}}\\n" }]
    env: { PATH: /bin, MODE: base }
    cmd: [/bin/sh]
`);
  await buildOk(j('base.yaml'), j('baselayout'));
  // A two-layer amd64 image made by umoci: layer 2 deletes a file and replaces a directory.
  const u = j('umoci');
  await must('umoci', ['init', '--layout', u]);
  await must('umoci', ['new', '--image', `${u}:v1`]);
  await must('umoci', ['unpack', '--image', `${u}:v1`, j('bundle')]);
  const rootfs = j('bundle', 'rootfs');
  mkdirSync(path.join(rootfs, 'etc', 'conf.d'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc', 'conf.d', 'old'), 'old\n');
  writeFileSync(path.join(rootfs, 'etc', 'gone'), 'gone\n');
  await must('umoci', ['repack', '--image', `${u}:v1`, j('bundle')]);
  rmSync(path.join(rootfs, 'etc', 'gone'));
  rmSync(path.join(rootfs, 'etc', 'conf.d'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc', 'conf.d'), 'now a file\n');
  await must('umoci', ['repack', '--image', `${u}:v1`, j('bundle')]);
  await must('umoci', ['config', '--image', `${u}:v1`, '--config.env', 'FROM_UMOCI=1']);
});
afterAll(() => tmp.cleanup());

describe('layout bases', () => {
  it('builds on our own multi-arch index, picking each platform, inheriting and overriding the config', async () => {
    writeFileSync(j('app.yaml'), `images:
  - name: app
    base: oci:baselayout:base:latest
    platforms: [linux/arm64/v8, linux/amd64]
    paths: [{ path: /app/hello, type: file, content: hi }]
    env: { MODE: app }
`);
    const first = await buildOk(j('app.yaml'), j('out'));
    const again = await buildOk(j('app.yaml'), j('out-again'));
    expect(again.images[0].index.digest).toBe(first.images[0].index.digest);
    const baseImages = platformImages(j('baselayout'), 'base:latest');
    const images = platformImages(j('out'), 'app:latest');
    expect(images.map((i: any) => i.platform)).toEqual(['linux/arm64/v8', 'linux/amd64']);
    for (const img of images) {
      const base = baseImages.find((b: any) => b.platform === img.platform)!;
      expect(img.manifest.annotations['org.opencontainers.image.base.digest']).toBe(base.descriptor.digest);
      expect(img.manifest.annotations['org.opencontainers.image.base.name']).toBe('base:latest');
      expect(img.config.config.Env).toEqual(['PATH=/bin', 'MODE=app']);
      expect(img.config.config.Cmd).toEqual(['/bin/sh']);
      const root = await extract(img.layerPath, `app-${img.config.architecture}`);
      expect(readFileSync(path.join(root, 'etc', 'os-release'), 'utf8')).toBe(`base ${img.config.architecture === 'arm64' ? 'arm64v8' : 'amd64'}\n`);
      expect(readFileSync(path.join(root, 'app', 'hello'), 'utf8')).toBe('hi');
    }
  });

  it('squashes a two-layer umoci image: deletions and a directory turned into a file', async () => {
    writeFileSync(j('on-umoci.yaml'), `images:
  - name: squashed
    base: oci:umoci:v1
    paths: [{ path: /etc/added, type: file, content: added }]
`);
    await buildOk(j('on-umoci.yaml'), j('out2'));
    const [img] = platformImages(j('out2'), 'squashed:latest');
    expect(img.manifest.layers).toHaveLength(1);
    expect(img.config.config.Env).toContain('FROM_UMOCI=1');
    const listing = await must('tar', ['-tf', img.layerPath]);
    expect(listing).not.toContain('.wh.');
    const root = await extract(img.layerPath, 'umoci');
    expect(existsSync(path.join(root, 'etc', 'gone'))).toBe(false);
    expect(readFileSync(path.join(root, 'etc', 'conf.d'), 'utf8')).toBe('now a file\n');
    expect(readFileSync(path.join(root, 'etc', 'added'), 'utf8')).toBe('added');
    const ours = JSON.parse(await must('skopeo', ['inspect', `oci:${j('out2')}:squashed:latest`]));
    expect(ours.Layers).toHaveLength(1);
  });

  it('lets an arm/v7 build fall back to an arm/v6 base only when baseVariantFallback allows it', async () => {
    writeFileSync(j('v6base.yaml'), `images:
  - name: v6base
    platforms: [linux/arm/v6, linux/arm/v5]
    paths: [{ path: /etc/variant, type: file, content: "{{variant}}" }]
`);
    await buildOk(j('v6base.yaml'), j('v6layout'));
    const app = (fallback: string) => `images:
  - name: v7app
    base: oci:v6layout:v6base:latest
    platforms: [linux/arm/v7, linux/arm/v5]
${fallback}`;
    writeFileSync(j('strict.yaml'), app(''));
    const strict = await ociasm(['build', '-f', j('strict.yaml'), '-o', j('out-strict')]);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('has no linux/arm/v7 image; it has: linux/arm/v6, linux/arm/v5');
    writeFileSync(j('fallback.yaml'), app('    baseVariantFallback: true\n'));
    await buildOk(j('fallback.yaml'), j('out-fallback'));
    const base = platformImages(j('v6layout'), 'v6base:latest');
    const [v7, v5] = platformImages(j('out-fallback'), 'v7app:latest');
    expect(v7.config.variant).toBe('v7');
    expect(v7.manifest.annotations['org.opencontainers.image.base.digest']).toBe(base[0].descriptor.digest);
    expect(v5.manifest.annotations['org.opencontainers.image.base.digest']).toBe(base[1].descriptor.digest);
    expect(readFileSync(path.join(await extract(v7.layerPath, 'v7'), 'etc', 'variant'), 'utf8')).toBe('v6');
  });
});
