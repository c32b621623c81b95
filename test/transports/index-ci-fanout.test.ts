/**
 * The CI fan-out of docs/ci.md against Debian's docker-registry: two separate
 * builds (as two runners would run them), each building and pushing one
 * platform under its own tag, then one `ociasm index create` of the two
 * manifests by digest. skopeo shows both platforms in the index, and pulls
 * each one by --override-arch/--override-variant with our config digest.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/cas/blob-store.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { must, ociasm, tempDir } from '../harness/util.js';

const tmp = tempDir();
const j = (...p: string[]) => path.join(tmp.dir, ...p);
let reg: TestRegistry;
const built: Record<string, { manifest: string; config: string }> = {};

beforeAll(async () => {
  reg = await startRegistry();
  writeFileSync(j('ociasm.yaml'), `images:
  - name: app
    tag: "1.0"
    platforms: [linux/amd64, linux/arm64, linux/arm/v7]
    paths: [{ path: /etc/built-for, type: file, content: "{{platform}}" }]
    args: { runner: local }
    push: ["${reg.host}/lab/app:{{tag}}-{{args.runner}}"]
`);
  // Each "runner" builds only its platform, in its own folder, and pushes it.
  for (const [platform, name] of [['linux/amd64', 'amd64'], ['linux/arm64', 'arm64']] as const) {
    const runner = j(`runner-${name}`);
    const r = await ociasm(['build', '-f', j('ociasm.yaml'), '-o', path.join(runner, 'oci'), '--cache-dir', path.join(runner, 'cache'), '--platform', platform, '--build-arg', `runner=${name}`, '--push', '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout).images[0].platforms[0];
    built[platform] = { manifest: p.manifest.digest, config: p.config.digest };
  }
}, 300_000);
afterAll(async () => {
  await reg?.stop();
  tmp.cleanup();
});

describe('CI fan-out: per-platform pushes, then index create', () => {
  it('makes one index of both platforms that skopeo reads and pulls per platform', async () => {
    const dest = `${reg.host}/lab/app:1.0`;
    const r = await ociasm(['index', 'create', dest, `${reg.host}/lab/app@${built['linux/arm64']!.manifest}`, `${reg.host}/lab/app@${built['linux/amd64']!.manifest}`, '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    const text = await must('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${dest}`]);
    expect(sha256(Buffer.from(text))).toBe(result.digest);
    const index = JSON.parse(text);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m: any) => [m.platform.architecture, m.platform.variant ?? '', m.digest])).toEqual([
      ['amd64', '', built['linux/amd64']!.manifest],
      ['arm64', 'v8', built['linux/arm64']!.manifest],
    ]);
    for (const [arch, variant, platform] of [['amd64', '', 'linux/amd64'], ['arm64', 'v8', 'linux/arm64']] as const) {
      const out = j(`pulled-${arch}`);
      await must('skopeo', ['copy', '-q', '--src-tls-verify=false', '--override-arch', arch, ...(variant ? ['--override-variant', variant] : []), `docker://${dest}`, `oci:${out}:app`]);
      const manifest = JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${out}:app`]));
      expect(manifest.config.digest).toBe(built[platform]!.config);
      const config = JSON.parse(await must('skopeo', ['inspect', '--config', `oci:${out}:app`]));
      expect(config.architecture).toBe(arch);
    }
  });

  it('append adds the third runner\'s platform to the published index', async () => {
    const runner = j('runner-armv7');
    const b = await ociasm(['build', '-f', j('ociasm.yaml'), '-o', path.join(runner, 'oci'), '--cache-dir', path.join(runner, 'cache'), '--platform', 'linux/arm/v7', '--build-arg', 'runner=armv7', '--push', '--json'], { cwd: tmp.dir });
    expect(b.code, b.stderr).toBe(0);
    const armv7 = JSON.parse(b.stdout).images[0].platforms[0].manifest.digest;
    const dest = `${reg.host}/lab/app:1.0`;
    const r = await ociasm(['index', 'append', dest, `${reg.host}/lab/app:1.0-armv7`], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    const index = JSON.parse(await must('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${dest}`]));
    expect(index.manifests.map((m: any) => `${m.platform.architecture}${m.platform.variant ?? ''}`)).toEqual(['amd64', 'arm64v8', 'armv7']);
    expect(index.manifests[2].digest).toBe(armv7);
    await must('skopeo', ['copy', '-q', '--src-tls-verify=false', '--override-arch', 'arm', '--override-variant', 'v7', `docker://${dest}`, `oci:${j('pulled-arm')}:app`]);
  });
});
