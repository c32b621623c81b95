/**
 * docker-archive: and docker-daemon: against the real Docker Engine (Debian's
 * dockerd 20.10, started privately by the harness): our archive loads with
 * `docker load` and the image ID is our config digest; the same over the API
 * socket; `docker save` output and `docker-daemon:` read back as sources; the
 * daemon's refusal and an unreachable socket fail clearly. The same API
 * through podman's Docker-compatible service.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/cas/blob-store.js';
import { parsePlatform } from '../../src/codec/platform.js';
import { copyImage } from '../../src/copy/copy.js';
import { openDestination, openSource } from '../../src/transports/index.js';
import { DOCKER_CLI, startDockerd, startPodmanService, type TestDaemon } from '../harness/daemons.js';
import { blobPath, must, ociasm, readBlobJson, refDescriptor, ROOT, run, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-dockerd-');
const at = (name: string) => path.join(tmp.dir, name);
const HOST_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;
let dockerd: TestDaemon;
let src: string;
let host: { manifest: string; config: string; diffIds: string[] };
const ctx = () => ({ cwd: tmp.dir, env: { DOCKER_HOST: dockerd.host }, tmpDir: tmp.dir });
const docker = (args: string[]) => must(DOCKER_CLI, ['-H', dockerd.host, ...args]);
const platforms = () => [parsePlatform(`linux/${HOST_ARCH}`)];

beforeAll(async () => {
  src = at('src');
  const [r, d] = await Promise.all([
    ociasm(['build', '-f', path.join(ROOT, 'docs/examples/hello/ociasm.yaml'), '-o', src], { cwd: tmp.dir }),
    startDockerd(),
  ]);
  dockerd = d;
  expect(r.code, r.stderr).toBe(0);
  const index = readBlobJson(src, refDescriptor(src, 'hello:1.0').digest);
  const d0 = index.manifests.find((m: any) => m.platform.architecture === HOST_ARCH);
  const man = readBlobJson(src, d0.digest);
  host = { manifest: d0.digest, config: man.config.digest, diffIds: readBlobJson(src, man.config.digest).rootfs.diff_ids };
}, 120_000);

afterAll(async () => {
  await dockerd?.stop();
  tmp.cleanup();
});

describe('Docker Engine 20.10', () => {
  it('docker load takes our docker-archive; the image ID is our config digest', async () => {
    await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx()), await openDestination('docker-archive:hello.tar:hello:archive', ctx()), { platforms: platforms() });
    expect(await docker(['load', '-i', at('hello.tar')])).toContain('Loaded image: hello:archive');
    const seen = JSON.parse(await docker(['image', 'inspect', 'hello:archive']))[0];
    expect(seen.Id).toBe(host.config);
    expect(seen.RootFS.Layers).toEqual(host.diffIds);
    expect(seen.Config.Cmd).toEqual(['/bin/hello']);
  });

  it('one docker-archive can carry several images (one per copy request); docker load takes them all', async () => {
    const { copyImages } = await import('../../src/copy/copy.js');
    const index = readBlobJson(src, refDescriptor(src, 'hello:1.0').digest);
    const two = index.manifests.filter((m: any) => m.platform.architecture === 'arm64' || m.platform.variant === 'v6');
    const dest = await openDestination('docker-archive:two.tar', ctx());
    const source = await openSource(`oci:${src}:hello:1.0`, ctx());
    await copyImages(two.map((m: any) => ({ source, destination: dest, from: m.digest, tags: [`multi:${m.platform.architecture}${m.platform.variant ?? ''}`] })));
    const out = await docker(['load', '-i', at('two.tar')]);
    expect(out).toContain('Loaded image: multi:arm64v8');
    expect(out).toContain('Loaded image: multi:armv6');
    for (const m of two) {
      const id = (await docker(['image', 'inspect', '--format', '{{.Id}}', `multi:${m.platform.architecture}${m.platform.variant ?? ''}`])).trim();
      expect(id).toBe(readBlobJson(src, m.digest).config.digest);
    }
  });

  it('docker-daemon: loads over the API socket and reads the image ID back', async () => {
    const r = await copyImage(await openSource(`oci:${src}:hello:1.0`, ctx()), await openDestination('docker-daemon:lab/hello:daemon', ctx()), { platforms: platforms() });
    expect(r.images[0]).toMatchObject({ digest: host.manifest, tags: ['docker.io/lab/hello:daemon'] });
    expect((await docker(['image', 'inspect', '--format', '{{.Id}}', 'lab/hello:daemon'])).trim()).toBe(host.config);
    // Nothing staged is left behind.
    expect((await must('ls', ['-a', tmp.dir])).split('\n').filter((n) => n.includes('ociasm'))).toEqual([]);
  });

  it('reads what the daemon holds: docker save output and docker-daemon: as sources keep the config and layers', async () => {
    await docker(['save', '-o', at('saved.tar'), 'lab/hello:daemon']);
    for (const name of [`docker-archive:${at('saved.tar')}`, 'docker-daemon:lab/hello:daemon', `docker-daemon:${host.config}`]) {
      const out = at(`back-${sha256(Buffer.from(name)).slice(7, 15)}`);
      const r = await copyImage(await openSource(name, ctx()), await openDestination(`oci:${out}:x`, ctx()));
      const man = readBlobJson(out, r.images[0]!.digest);
      expect(man.config.digest, name).toBe(host.config);
      expect(man.layers.map((l: any) => l.digest), name).toEqual(host.diffIds);
      // skopeo (not ours) reads the layout made from it.
      const cfg = await must('skopeo', ['inspect', '--config', '--raw', `oci:${out}:x`]);
      expect(sha256(Buffer.from(cfg))).toBe(host.config);
    }
    await expect(openSource('docker-daemon:lab/nothing:here', ctx())).rejects.toMatchObject({ code: 'REF_NOT_FOUND' });
  });

  it('the daemon\'s refusal is DAEMON_ERROR with its reason; an unreachable or tcp:// socket is named', async () => {
    // A Windows image: the Linux engine refuses to load it.
    const bad = at('windows');
    await must('cp', ['-r', src, bad]);
    const man = readBlobJson(bad, host.manifest);
    const cfg = readBlobJson(bad, host.config);
    cfg.os = 'windows';
    const cfgBytes = Buffer.from(JSON.stringify(cfg));
    writeFileSync(blobPath(bad, sha256(cfgBytes)), cfgBytes);
    man.config = { ...man.config, digest: sha256(cfgBytes), size: cfgBytes.length };
    const manBytes = Buffer.from(JSON.stringify(man));
    writeFileSync(blobPath(bad, sha256(manBytes)), manBytes);
    writeFileSync(path.join(bad, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: man.mediaType, digest: sha256(manBytes), size: manBytes.length, annotations: { 'org.opencontainers.image.ref.name': 'win' } }] }));
    const refused = copyImage(await openSource(`oci:${bad}:win`, ctx()), await openDestination('docker-daemon:hello:windows', ctx()));
    await expect(refused).rejects.toMatchObject({ code: 'DAEMON_ERROR', message: expect.stringMatching(/refused the image: .*windows/i) });
    expect((await run(DOCKER_CLI, ['-H', dockerd.host, 'image', 'inspect', 'hello:windows'])).code).not.toBe(0);

    await expect(openDestination('docker-daemon:hello:x', { ...ctx(), env: { DOCKER_HOST: `unix://${at('no.sock')}` } }))
      .rejects.toMatchObject({ code: 'DAEMON_UNREACHABLE', message: expect.stringContaining(at('no.sock')) });
    await expect(openDestination('docker-daemon:hello:x', { ...ctx(), env: { DOCKER_HOST: 'tcp://127.0.0.1:2375' } }))
      .rejects.toMatchObject({ code: 'REFERENCE_INVALID', message: expect.stringContaining('unix://') });
    await expect(openDestination('docker-daemon:hello@sha256:' + 'a'.repeat(64), ctx())).rejects.toMatchObject({ code: 'REFERENCE_INVALID' });
  });
});

describe('podman system service (the Docker-compatible API)', () => {
  let svc: Awaited<ReturnType<typeof startPodmanService>>;
  beforeAll(async () => { svc = await startPodmanService(); }, 60_000);
  afterAll(async () => { await svc?.stop(); });

  it('docker-daemon: loads into it and reads back from it, the config digest kept', async () => {
    const pctx = { cwd: tmp.dir, env: { DOCKER_HOST: svc.host }, tmpDir: tmp.dir };
    const r = await copyImage(await openSource(`oci:${src}:hello:1.0`, pctx), await openDestination('docker-daemon:hello:podman', pctx, { platform: `linux/${HOST_ARCH}` }));
    expect(r.images[0]!.digest).toBe(host.manifest);
    const id = (await must('podman', svc.podman(['image', 'inspect', '--format', '{{.ID}}', 'docker.io/library/hello:podman']))).trim();
    expect(`sha256:${id}`).toBe(host.config);
    const back = await copyImage(await openSource('docker-daemon:hello:podman', pctx), await openDestination(`oci:${at('from-podman')}:x`, pctx));
    expect(readBlobJson(at('from-podman'), back.images[0]!.digest).config.digest).toBe(host.config);
  });
});
