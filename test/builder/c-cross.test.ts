/**
 * C with Debian's cross compilers chosen per platform through `platformEnv`
 * (the command is `sh -c`, as a user writes it when they want a shell); each
 * extracted layer runs under qemu. A rebuild with --no-cache reproduces the digest.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ociasm, platformImages, refDescriptor, tempDir } from '../harness/util.js';
import { builderEnv, extractLayer, gitRepoFrom, runFor, TAGS } from './helpers.js';

const tmp = tempDir();
const repo = path.join(tmp.dir, 'repo');
const layout = path.join(tmp.dir, 'oci');
const env = builderEnv(path.join(tmp.dir, 'cache'));
const PLATFORMS = ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'];
const EXPECTED_ARCH: Record<string, string> = { 'linux/amd64': 'x86_64', 'linux/arm64/v8': 'aarch64', 'linux/arm/v7': 'armv7' };
let commit = '';
let firstOut = '';

const BUILD_FILE = `
sourceDateEpoch: 1700000000
images:
  - name: chello
    platforms: [${PLATFORMS.join(', ')}]
    build:
      run: [sh, -c, "\\"$CC\\" -static -Os -DCOMMIT='\\"{{git.commit}}\\"' -o '{{out}}/hello' hello.c"]
      dir: c
      env: { CC: gcc }
      platformEnv:
        linux/arm64/v8: { CC: aarch64-linux-gnu-gcc }
        linux/arm/v7: { CC: arm-linux-gnueabihf-gcc }
      inputs: [c/hello.c]
      outputs: { "{{out}}/hello": /usr/local/bin/ }
    test: ["{{qemu}}", "{{rootfs}}/usr/local/bin/hello"]
`;

beforeAll(async () => {
  commit = await gitRepoFrom('c-hello', repo, 'c', { 'ociasm.yaml': BUILD_FILE });
  const r = await ociasm(['build', '-f', path.join(repo, 'ociasm.yaml'), '-o', layout], { env });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  firstOut = r.stderr;
});
afterAll(() => tmp.cleanup());

describe('C cross-compile through platformEnv', () => {
  it('self-checked each platform under qemu before tagging', () => {
    for (const p of PLATFORMS) expect(firstOut).toContain(`[chello ${p} test] c-hello arch=${EXPECTED_ARCH[p]} commit=${commit}`);
  });

  it("each platform's extracted layer runs under qemu and prints its architecture and the commit", async () => {
    const images = platformImages(layout, 'chello:latest');
    expect(images.map((i: any) => i.platform)).toEqual(PLATFORMS);
    for (const img of images) {
      const root = await extractLayer(img.layerPath, path.join(tmp.dir, 'x', TAGS[img.platform]!));
      const bin = path.join(root, 'usr/local/bin/hello');
      expect(statSync(bin).mode & 0o111).not.toBe(0);
      expect((await runFor(img.platform, bin)).trim()).toBe(`c-hello arch=${EXPECTED_ARCH[img.platform]} commit=${commit}`);
    }
  });

  it('rebuilding with --no-cache runs the compilers again and gives the same digest', async () => {
    const before = refDescriptor(layout, 'chello:latest').digest;
    const r = await ociasm(['build', '-f', path.join(repo, 'ociasm.yaml'), '-o', layout, '--no-cache', '-v'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/running sh/g)).toHaveLength(3);
    expect(refDescriptor(layout, 'chello:latest').digest).toBe(before);
  });
});
