/**
 * Image chains (`base: image:NAME`) built in dependency order, checked with
 * GNU tar and skopeo; cycles and unknown names; JSON build lists with
 * per-image `extra_args`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { must, ociasm, platformImages, readLayoutIndex, refDescriptor, tempDir } from '../harness/util.js';
import { builderEnv, extractLayer, readText } from './helpers.js';

const tmp = tempDir();
const layout = path.join(tmp.dir, 'oci');
const env = builderEnv(path.join(tmp.dir, 'cache'));
const file = (name: string, text: string) => {
  writeFileSync(path.join(tmp.dir, name), text);
  return path.join(tmp.dir, name);
};

const CHAIN = `
sourceDateEpoch: 1700000000
images:
  - name: app            # listed first, built after its base
    tag: "2.0"
    base: image:stage
    platforms: [linux/amd64, linux/arm64/v8]
    files: [{ src: app/, dest: /app/ }]
    test: [sh, -c, "test -f {{rootfs}}/etc/stage.txt && test -f {{rootfs}}/app/app.txt"]
  - name: stage
    platforms: [linux/amd64, linux/arm64/v8]
    paths: [{ path: /etc/stage.txt, type: file, content: "stage {{platform}}\\n" }]
    env: { FROM_STAGE: "1" }
  - name: unrelated
    paths: [{ path: /x, type: file, content: "x" }]
`;

beforeAll(() => {
  mkdirSync(path.join(tmp.dir, 'app'));
  writeFileSync(path.join(tmp.dir, 'app', 'app.txt'), 'app\n');
});
afterAll(() => tmp.cleanup());

describe('image chains', () => {
  it('`build app` builds its base first; the result holds both images\' files', async () => {
    const f = file('chain.yaml', CHAIN);
    const r = await ociasm(['build', '-f', f, '-o', layout, 'app'], { env });
    expect(r.code, r.stderr).toBe(0);
    const refs = readLayoutIndex(layout).manifests.map((d: any) => d.annotations['org.opencontainers.image.ref.name']);
    expect(refs.sort()).toEqual(['app:2.0', 'stage:latest']);
    const stage = platformImages(layout, 'stage:latest');
    for (const [i, img] of platformImages(layout, 'app:2.0').entries()) {
      const root = await extractLayer(img.layerPath, path.join(tmp.dir, 'x', String(i)));
      expect(readText(path.join(root, 'etc/stage.txt'))).toBe(`stage ${img.platform}\n`);
      expect(readText(path.join(root, 'app/app.txt'))).toBe('app\n');
      expect(img.config.config.Env).toEqual(['FROM_STAGE=1']);
      expect(img.manifest.annotations['org.opencontainers.image.base.name']).toBe('stage:latest');
      expect(img.manifest.annotations['org.opencontainers.image.base.digest']).toBe(stage[i].descriptor.digest);
    }
    const cfg = JSON.parse(await must('skopeo', ['inspect', '--config', `oci:${layout}:app:2.0`]));
    expect(cfg.rootfs.diff_ids).toHaveLength(1);

    const before = refDescriptor(layout, 'app:2.0').digest;
    const again = await ociasm(['build', '-f', f, '-o', layout], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(refDescriptor(layout, 'app:2.0').digest).toBe(before);
  });

  it('a cycle is an error naming the chain', async () => {
    const f = file('cycle.yaml', 'images:\n  - { name: a, base: "image:b" }\n  - { name: b, base: "image:c" }\n  - { name: c, base: "image:a" }\n');
    const r = await ociasm(['build', '-f', f, '-o', path.join(tmp.dir, 'never')], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error[IMAGE_CHAIN]');
    expect(r.stderr).toContain('a -> b -> c -> a');
  });

  it('an unknown name is an error naming the chain', async () => {
    const f = file('unknown.yaml', 'images:\n  - { name: a, base: "image:b" }\n  - { name: b, base: "image:nope" }\n');
    const r = await ociasm(['build', '-f', f, '-o', path.join(tmp.dir, 'never')], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error[IMAGE_CHAIN]');
    expect(r.stderr).toContain('a -> b -> nope');
  });
});

describe('JSON build lists', () => {
  const LIST = {
    sourceDateEpoch: 0,
    args: { GREETING: 'hello' },
    images: [
      { name: 'second', base: 'image:first', extra_args: '--build-arg WHO=second', paths: [{ path: '/second', type: 'file', content: '{{args.GREETING}} {{args.WHO}}' }] },
      { name: 'first', platforms: ['linux/arm/v7'], extra_args: ['--build-arg', 'WHO={{platformTag}}'], paths: [{ path: '/first', type: 'file', content: '{{args.GREETING}} {{args.WHO}}' }] },
    ],
  };

  it('builds in dependency order with per-image extra_args; --build-arg overrides args', async () => {
    (LIST.images[0] as any).platforms = ['linux/arm/v7'];
    const f = file('list.json', JSON.stringify(LIST));
    const out = path.join(tmp.dir, 'list-oci');
    const r = await ociasm(['build', '-f', f, '-o', out, '--build-arg', 'GREETING=hey'], { env });
    expect(r.code, r.stderr).toBe(0);
    const root = await extractLayer(platformImages(out, 'second:latest')[0].layerPath, path.join(tmp.dir, 'list-x'));
    expect(readText(path.join(root, 'first'))).toBe('hey arm32v7');
    expect(readText(path.join(root, 'second'))).toBe('hey second');

    const bad = await ociasm(['build', '-f', f, '-o', out, '--build-arg', 'GREETNIG=x'], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--build-arg GREETNIG');
  });
});
