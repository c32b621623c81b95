/**
 * Single-platform destinations through the CLI: `build --load` and
 * `build -o docker-archive:` of a five-platform image build the host's
 * platform and say so; `copy` to a docker-archive picks the host's platform
 * from the index the same way. Checked with the real Docker Engine (image ID
 * = our config digest) and skopeo.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_CLI, startDockerd, type TestDaemon } from '../harness/daemons.js';
import { must, ociasm, platformImages, ROOT, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-single-');
const at = (name: string) => path.join(tmp.dir, name);
const HOST = process.arch === 'x64' ? 'amd64' : process.arch;
const HELLO = path.join(ROOT, 'docs/examples/hello/ociasm.yaml');
let dockerd: TestDaemon;
let hostConfig: string;

beforeAll(async () => {
  const [r, d] = await Promise.all([ociasm(['build', '-f', HELLO, '-o', at('src')], { cwd: tmp.dir }), startDockerd()]);
  dockerd = d;
  expect(r.code, r.stderr).toBe(0);
  hostConfig = platformImages(at('src'), 'hello:1.0').find((p: any) => p.descriptor.platform.architecture === HOST)!.manifest.config.digest;
}, 120_000);
afterAll(async () => {
  await dockerd?.stop();
  tmp.cleanup();
});

describe('single-platform destinations', () => {
  it('build --load builds the host platform, says so, and the daemon holds our config digest', async () => {
    const r = await ociasm(['build', '-f', HELLO, '--load'], { cwd: tmp.dir, env: { ...process.env, DOCKER_HOST: dockerd.host } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`docker-daemon:docker.io/library/hello:1.0 holds one platform: building linux/${HOST}`);
    const id = (await must(DOCKER_CLI, ['-H', dockerd.host, 'image', 'inspect', '--format', '{{.Id}}', 'hello:1.0'])).trim();
    expect(id).toBe(hostConfig);
  });

  it('build -o docker-archive: with --platform takes that one; two --platform values are refused', async () => {
    const r = await ociasm(['build', '-f', HELLO, '--platform', 'linux/arm/v7', '-o', 'docker-archive:arm.tar:hello:arm'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(await must('skopeo', ['inspect', '--config', `docker-archive:${at('arm.tar')}`]));
    expect([cfg.architecture, cfg.variant]).toEqual(['arm', 'v7']);
    const two = await ociasm(['build', '-f', HELLO, '--platform', 'linux/arm/v7', '--platform', 'linux/amd64', '-o', 'docker-archive:two.tar:hello:two'], { cwd: tmp.dir });
    expect(two.code).toBe(1);
    expect(two.stderr).toContain('holds one platform; --platform names 2');
  });

  it('copy of an index to a docker-archive takes the host platform and says so', async () => {
    const r = await ociasm(['copy', `oci:${at('src')}:hello:1.0`, 'docker-archive:host.tar:hello:host'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`copied linux/${HOST}`);
    const id = JSON.parse(await must('skopeo', ['inspect', `docker-archive:${at('host.tar')}`]));
    expect(id.Architecture).toBe(HOST);
    const loaded = await must(DOCKER_CLI, ['-H', dockerd.host, 'load', '-i', at('host.tar')]);
    expect(loaded).toContain('hello:host');
    expect((await must(DOCKER_CLI, ['-H', dockerd.host, 'image', 'inspect', '--format', '{{.Id}}', 'hello:host'])).trim()).toBe(hostConfig);
  });
});
