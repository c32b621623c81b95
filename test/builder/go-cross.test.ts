/**
 * Go cross-compiled on the host for five platforms with the commit in
 * -ldflags; ociasm's self-check runs each binary under qemu before tagging,
 * and each platform's layer, extracted by GNU tar, runs it too.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIVE_PLATFORMS } from '../harness/inputs.js';
import { must, ociasm, platformImages, refDescriptor, tempDir } from '../harness/util.js';
import { builderEnv, extractLayer, gitRepoFrom, runFor, TAGS } from './helpers.js';

const tmp = tempDir();
const repo = path.join(tmp.dir, 'repo');
const layout = path.join(tmp.dir, 'oci');
const bin = path.join(tmp.dir, 'bin');
const env = builderEnv(path.join(tmp.dir, 'cache'));
let commit = '';
let firstOut = '';

const EXPECTED_ARCH: Record<string, string> = {
  'linux/amd64': 'amd64', 'linux/arm64/v8': 'arm64', 'linux/arm/v7': 'arm/v7', 'linux/arm/v6': 'arm/v6', 'linux/arm/v5': 'arm/v5',
};

const BUILD_FILE = `
sourceDateEpoch: 1700000000
images:
  - name: hello
    tag: "1.0"
    platforms: [${FIVE_PLATFORMS.join(', ')}]
    build:
      run: [go, build, -trimpath, -buildvcs=false, -ldflags, "-X main.commit={{git.commit}} -X main.goarm={{goarm}}", -o, "{{out}}/hello", .]
      dir: ./src
      env: { CGO_ENABLED: "0", GOOS: "{{os}}", GOARCH: "{{goarch}}", GOARM: "{{goarm}}" }
      inputs: ["src/*.go", src/go.mod]
      outputs: { "{{out}}/hello": /usr/bin/hello }
    test: ["{{qemu}}", "{{rootfs}}/usr/bin/hello"]
    entrypoint: [/usr/bin/hello]
`;

beforeAll(async () => {
  commit = await gitRepoFrom('go-hello', repo, 'src', { 'ociasm.yaml': BUILD_FILE });
  const r = await ociasm(['build', '-f', path.join(repo, 'ociasm.yaml'), '-o', layout, '--extract', bin], { env });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  firstOut = r.stderr;
}, 900_000); // a fresh clone's empty Go build cache: five cross-compiles of the standard library on 2 cores
afterAll(() => tmp.cleanup());

describe('Go cross-compile with the user toolchain', () => {
  it('self-checked every platform under qemu before tagging', () => {
    for (const p of FIVE_PLATFORMS) {
      expect(firstOut).toContain(`[hello ${p} test] go-hello arch=${EXPECTED_ARCH[p]} commit=${commit}`);
    }
    expect(refDescriptor(layout, 'hello:1.0').digest).toMatch(/^sha256:/);
  });

  it("each platform's extracted layer runs under qemu and prints its architecture and the commit", async () => {
    const images = platformImages(layout, 'hello:1.0');
    expect(images.map((i: any) => i.platform)).toEqual(FIVE_PLATFORMS);
    for (const img of images) {
      const root = await extractLayer(img.layerPath, path.join(tmp.dir, 'x', TAGS[img.platform]!));
      expect(statSync(path.join(root, 'usr/bin/hello')).mode & 0o7777).toBe(0o755);
      expect((await runFor(img.platform, path.join(root, 'usr/bin/hello'))).trim())
        .toBe(`go-hello arch=${EXPECTED_ARCH[img.platform]} commit=${commit}`);
    }
  });

  it('--extract put each binary in bin/<platformTag>/ with its mode', async () => {
    for (const p of FIVE_PLATFORMS) {
      const file = path.join(bin, TAGS[p]!, 'hello');
      expect(statSync(file).mode & 0o7777).toBe(0o755);
      expect((await runFor(p, file)).trim()).toBe(`go-hello arch=${EXPECTED_ARCH[p]} commit=${commit}`);
    }
  });

  it('a second build with nothing changed takes the outputs from the cache: same digest', async () => {
    const before = refDescriptor(layout, 'hello:1.0').digest;
    const r = await ociasm(['build', '-f', path.join(repo, 'ociasm.yaml'), '-o', layout, '-v'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/build step unchanged/g)).toHaveLength(5);
    expect(r.stderr).not.toContain('running go');
    expect(refDescriptor(layout, 'hello:1.0').digest).toBe(before);
    const raw = JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${layout}:hello:1.0`]));
    expect(raw.manifests).toHaveLength(5);
  });
});
