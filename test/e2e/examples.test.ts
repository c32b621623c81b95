/**
 * The four Docker-era pipelines of issue 13, ported as docs/examples/, built
 * as committed (each copied to a temp folder, plus the inputs git cannot hold:
 * a static busybox, a rootfs tarball made with GNU tar, owners and ACLs set
 * with chown/setfacl). Checked with tools that are not ours: skopeo against
 * Debian's docker-registry, GNU tar, getfacl, stat, qemu. Inputs are tiny and
 * only the platforms that make each point are built.
 */
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { must, ociasm, platformImages, readLayoutIndex, ROOT, tempDir } from '../harness/util.js';
import { builderEnv, extractLayer, runFor } from '../builder/helpers.js';

const tmp = tempDir('ociasm-examples-');
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const env = builderEnv(j('cache'));

/** Copies docs/examples/NAME to the temp folder and returns the copy's folder. */
function example(name: string): string {
  const dir = j(name);
  cpSync(path.join(ROOT, 'docs', 'examples', name), dir, { recursive: true });
  return dir;
}

async function build(dir: string, args: string[]) {
  const r = await ociasm(['build', '-f', path.join(dir, 'ociasm.yaml'), '-o', path.join(dir, 'oci'), ...args], { env, cwd: dir });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return { out: r.stdout + r.stderr, layout: path.join(dir, 'oci') };
}

const refs = (layout: string) => readLayoutIndex(layout).manifests.map((d: any) => d.annotations['org.opencontainers.image.ref.name']).sort();

let reg: TestRegistry;
beforeAll(async () => { reg = await startRegistry(); });
afterAll(async () => {
  await reg?.stop();
  tmp.cleanup();
});

describe('docs/examples/skycoin: vendored Go, two platforms, VERSION and REGISTRY as build args, pushed', () => {
  let dir = '';
  let result: { out: string; layout: string };
  beforeAll(async () => {
    dir = example('skycoin');
    result = await build(dir, ['--build-arg', 'VERSION=1.2.3', '--build-arg', `REGISTRY=${reg.host}`, '--extract', path.join(dir, 'bin'), '--push']);
  }, 300_000); // a fresh clone's empty Go build cache: the standard library for two targets

  it('self-checked the binary inside each platform image (qemu for arm/v7) before tagging', () => {
    expect(result.out).toContain('[skycoin/skycoin linux/amd64 test] skycoin 1.2.3 arch=amd64 genesis=90de59695bf4aeff');
    expect(result.out).toContain('[skycoin/skycoin linux/arm/v7 test] skycoin 1.2.3 arch=arm/v7 genesis=90de59695bf4aeff');
    expect(refs(result.layout)).toEqual(['skycoin/skycoin:1.2.3']);
  });

  it('pushed the index under the REGISTRY and VERSION args, with both platforms and the per-platform tags', async () => {
    const index = JSON.parse(await must('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/skycoin/skycoin:1.2.3`]));
    expect(index.manifests.map((m: any) => `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}`))
      .toEqual(['linux/amd64', 'linux/arm/v7']);
    const arm = JSON.parse(await must('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/skycoin/skycoin:1.2.3-arm32v7`]));
    expect(arm.config.digest).toBeDefined();
    expect(`sha256:${(await must('sh', ['-c', `skopeo inspect --raw --tls-verify=false docker://${reg.host}/skycoin/skycoin:1.2.3-arm32v7 | sha256sum`])).split(' ')[0]}`)
      .toBe(index.manifests[1].digest);
    const cfg = JSON.parse(await must('skopeo', ['inspect', '--config', '--tls-verify=false', '--override-arch', 'arm', '--override-variant', 'v7', `docker://${reg.host}/skycoin/skycoin:1.2.3`]));
    expect(cfg.config.Labels['org.opencontainers.image.version']).toBe('1.2.3');
    expect(cfg.config.Entrypoint).toEqual(['/usr/bin/skycoin']);
  });

  it('--extract put each binary in bin/<platformTag>/; the arm/v7 one runs under qemu', async () => {
    expect((await runFor('linux/arm/v7', path.join(dir, 'bin', 'arm32v7', 'skycoin'))).trim()).toBe('skycoin 1.2.3 arch=arm/v7 genesis=90de59695bf4aeff');
    expect((await runFor('linux/amd64', path.join(dir, 'bin', 'amd64', 'skycoin'))).trim()).toBe('skycoin 1.2.3 arch=amd64 genesis=90de59695bf4aeff');
  });

  it('builds offline from vendor/ only: without the vendored package, GOFLAGS=-mod=vendor GOPROXY=off fail the build step', async () => {
    rmSync(path.join(dir, 'src', 'vendor', 'github.com'), { recursive: true });
    const r = await ociasm(['build', '-f', path.join(dir, 'ociasm.yaml'), '-o', j('sky-novendor'), '--platform', 'linux/amd64', '--no-cache'], { env, cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error[TOOLCHAIN_FAILED]');
    expect(r.stderr).toContain('cannot find package "." in:');
    expect(r.stderr).toContain('src/vendor/github.com/skycoin-mini/cipher'); // Go looked in vendor/ only
    expect(existsSync(j('sky-novendor', 'index.json')) ? refs(j('sky-novendor')) : []).toEqual([]);
  });
});

describe('docs/examples/corpusops: a chain inside one repository', () => {
  it('builds corpusops/ubuntu:18.04 on corpusops/ubuntu:18.04_preprovision, each self-checked', async () => {
    const dir = example('corpusops');
    cpSync('/bin/busybox', path.join(dir, 'busybox'));
    const { out, layout } = await build(dir, []);
    expect(refs(layout)).toEqual(['corpusops/ubuntu:18.04', 'corpusops/ubuntu:18.04_preprovision']);
    expect(out).toContain('[corpusops/ubuntu linux/amd64 test] cops_apply preprovision');
    expect(out).toContain('[corpusops/ubuntu linux/amd64 test] provisioned on 18.04_preprovision');
    const [pre] = platformImages(layout, 'corpusops/ubuntu:18.04_preprovision');
    const [img] = platformImages(layout, 'corpusops/ubuntu:18.04');
    expect(img.manifest.annotations['org.opencontainers.image.base.name']).toBe('corpusops/ubuntu:18.04_preprovision');
    expect(img.manifest.annotations['org.opencontainers.image.base.digest']).toBe(pre.descriptor.digest);
    const root = await extractLayer(img.layerPath, j('corpusops-x'));
    expect(readFileSync(path.join(root, 'etc/corpusops/preprovision'), 'utf8')).toBe('preprovisioned corpusops/ubuntu:18.04_preprovision\n');
    expect(readFileSync(path.join(root, 'etc/corpusops/provisioned'), 'utf8')).toBe('provisioned on 18.04_preprovision\n');
    expect((await must(path.join(root, 'bin/busybox'), ['sh', '-c', 'echo ok'])).trim()).toBe('ok');
    const cfg = JSON.parse(await must('skopeo', ['inspect', '--config', `oci:${layout}:corpusops/ubuntu:18.04`]));
    expect(cfg.config.Env).toEqual(['PATH=/srv/corpusops/bin:/bin', 'CORPUSOPS_STAGE=provisioned']);
    expect(cfg.rootfs.diff_ids).toHaveLength(1);
  });
});

describe('docs/examples/cybernode: build, extract, run image with an account', () => {
  it('compiles the node, extracts it, and the run image runs it as user cyber', async () => {
    const dir = example('cybernode');
    const { out, layout } = await build(dir, ['--extract', path.join(dir, 'bin')]);
    expect(out).toContain('[cybernode/node linux/amd64 test] cybernode 0.1.0 uid=10000 gid=10000 datadir=/cyberdata');
    // The extracted binary is the host's to run (as root here).
    expect((await must(path.join(dir, 'bin', 'amd64', 'cybernode'), ['--datadir=/tmp'])).trim()).toBe('cybernode 0.1.0 uid=0 gid=0 datadir=/tmp');
    const cfg = JSON.parse(await must('skopeo', ['inspect', '--config', `oci:${layout}:cybernode/node:0.1.0`]));
    expect([cfg.config.User, cfg.config.WorkingDir, cfg.config.Entrypoint, cfg.config.Cmd]).toEqual(['10000:10000', '/cyberdata', ['/cyberapp/cybernode'], ['--datadir=/cyberdata']]);
    const root = await extractLayer(platformImages(layout, 'cybernode/node:0.1.0')[0].layerPath, j('cybernode-x'));
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toContain('cyber:x:10000:10000::/cyberdata:/sbin/nologin\n');
    expect(readFileSync(path.join(root, 'etc/group'), 'utf8')).toContain('cyber:x:10000:\n');
    expect(await must('stat', ['-c', '%u:%g %a', 'cyberdata', 'cyberapp/cybernode'], { cwd: root })).toBe('10000:10000 750\n0:0 755\n');
    expect(readFileSync(path.join(root, 'cyberapp/cybernode'))).toEqual(readFileSync(path.join(dir, 'bin', 'amd64', 'cybernode')));
  });
});

describe('docs/examples/makina-states: a rootfs: base and an injected tree with ACLs', () => {
  it('keeps the tarball\'s files and the injected ACLs, as GNU tar and getfacl read them', async () => {
    const dir = example('makina-states');
    // The inputs git does not hold: the lxc-style rootfs tarball (from busybox) and the tree's owners and ACLs.
    await must('sh', ['-ec', `cd '${dir}'
mkdir -p r/bin r/etc && cp /bin/busybox r/bin/busybox && for a in sh cat test; do ln -s busybox r/bin/$a; done
printf 'root:x:0:0:root:/root:/bin/sh\\nsalt:x:3000:3000::/srv:/bin/sh\\n' > r/etc/passwd
printf 'root:x:0:\\nsalt:x:3000:\\neditors:x:3001:\\n' > r/etc/group
tar --format=posix --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -czf base.tar.gz -C r . && rm -rf r
chown -R 3000:3000 injected/srv/makina-states/pillar
setfacl -m g:3001:r-x injected/srv/makina-states/pillar
setfacl -d -m u::rwx,g::r-x,g:3001:r-x,o::- injected/srv/makina-states/pillar
setfacl -m g:3001:rw- injected/srv/makina-states/pillar/top.sls`]);
    const { out, layout } = await build(dir, []);
    expect(out).toContain('[makinacorpus/makina-states linux/amd64 test] mode: docker');
    const [img] = platformImages(layout, 'makinacorpus/makina-states:3');
    expect(img.manifest.annotations['org.opencontainers.image.base.name']).toMatch(/^rootfs:base\.tar\.gz@sha256:[0-9a-f]{64}$/);
    const root = j('makina-x');
    await must('mkdir', ['-p', root]);
    await must('tar', ['--xattrs', "--xattrs-include=*", '-xpf', img.layerPath, '-C', root]);
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toContain('salt:x:3000:3000::/srv:/bin/sh\n');
    expect((await must(path.join(root, 'bin/busybox'), ['cat', path.join(root, 'etc/makina-states/release')]))).toBe('mode: docker\n');
    const acl = (p: string) => must('getfacl', ['-n', '-p', p], { cwd: root });
    expect(await acl('srv/makina-states/pillar')).toBe(`# file: srv/makina-states/pillar
# owner: 3000
# group: 3000
user::rwx
group::r-x
group:3001:r-x
mask::r-x
other::r-x
default:user::rwx
default:group::r-x
default:group:3001:r-x
default:mask::r-x
default:other::---

`);
    expect(await acl('srv/makina-states/pillar/top.sls')).toContain('group:3001:rw-\nmask::rw-\n');
    expect(await acl('srv/makina-states/var')).toBe(`# file: srv/makina-states/var
# owner: 0
# group: 3000
# flags: -s-
user::rwx
group::rwx
group:3001:r-x
mask::rwx
other::---
default:user::rwx
default:group::rwx
default:group:3001:r-x
default:mask::rwx
default:other::---

`);
  });
});
