/**
 * `base: rootfs:FILE`: a root filesystem tarball made by GNU tar (owners,
 * hardlinks, devices, a fifo, setuid, ACLs and a user xattr) builds to the
 * same layer as the same tree injected with `files: … preserveOwner`, for
 * every compression and for both ways GNU tar stores ACLs; checked by
 * extracting our layer with GNU tar and reading it with getfacl and stat.
 * Bad files fail with ROOTFS_INVALID naming the file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/cas/blob-store.js';
import { must, ociasm, platformImages, tempDir } from '../harness/util.js';

const tmp = tempDir();
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const TREE = j('tree');

async function buildOk(yaml: string, name: string): Promise<ReturnType<typeof platformImages>> {
  writeFileSync(j(`${name}.yaml`), yaml);
  const r = await ociasm(['build', '-f', j(`${name}.yaml`), '-o', j(`out-${name}`)]);
  expect(r.code, r.stderr).toBe(0);
  return platformImages(j(`out-${name}`), 'img:latest');
}

const onRootfs = (file: string, platforms = '[linux/amd64]') => `images:
  - name: img
    base: rootfs:${file}
    platforms: ${platforms}
`;

/** What GNU tar, getfacl and stat say about an extracted tree, path by path. */
async function describeTree(dir: string): Promise<string> {
  const stat = await must('find', ['.', '-printf', '%p %y %m %U:%G %l\\n'], { cwd: dir });
  const acl = await must('getfacl', ['-n', '-R', '-P', '.'], { cwd: dir });
  const xattr = await must('getfattr', ['-h', '-R', '-d', '-m', '^user\\.', '.'], { cwd: dir });
  const dev = await must('stat', ['-c', '%n %t:%T', 'dev/null', 'dev/loop9'], { cwd: dir });
  const inodes = await must('stat', ['-c', '%i', 'srv/data', 'srv/data-link'], { cwd: dir });
  const [a, b] = inodes.trim().split('\n');
  return [stat.split('\n').sort().join('\n'), acl, xattr, dev, `hardlinked ${a === b}`].join('\n');
}

async function extract(layer: string, name: string): Promise<string> {
  const dir = j('x', name);
  mkdirSync(dir, { recursive: true });
  await must('tar', ['--xattrs', '--xattrs-include=*', '-xpf', layer, '-C', dir]);
  return dir;
}

let injected: ReturnType<typeof platformImages>[number];

beforeAll(async () => {
  const sh = `set -e
mkdir -p ${TREE} && cd ${TREE} && chmod 0755 . && chown 0:0 .
mkdir -p etc srv/shared dev bin
printf 'root:x:0:0::/root:/bin/sh\\n' > etc/passwd
printf 'data\\n' > srv/data && chown 1000:2000 srv/data && chmod 0640 srv/data
ln srv/data srv/data-link
setfacl -m u:1234:r-x,g:77:rwx srv/data
chown 1234:77 srv/shared && chmod 2770 srv/shared
setfacl -m u:1234:rwx srv/shared && setfacl -d -m u:1234:rwx,g::r-x,o::- srv/shared
mknod dev/null c 1 3 && chmod 0666 dev/null
mknod dev/loop9 b 7 9
mkfifo srv/pipe
printf '#!/bin/sh\\n' > bin/su && chmod 4755 bin/su
ln -s ../srv/data bin/link
setfattr -n user.note -v hello srv/data
`;
  await must('sh', ['-c', sh]);
  const tar = (out: string, ...flags: string[]) => must('tar', ['--format=posix', ...flags, '-cf', j(out), '-C', TREE, '.']);
  await tar('xattrs.tar', '--xattrs', '--xattrs-include=*');
  await tar('acls.tar', '--acls', '--xattrs', '--xattrs-include=user.*');
  await tar('gnu-format.tar', '--format=gnu');
  await must('sh', ['-c', `cd ${tmp.dir} && gzip -nk -6 xattrs.tar && xz -k xattrs.tar && zstd -q -k xattrs.tar && cp xattrs.tar.gz misnamed.tar`]);
  [injected] = await buildOk(`images:
  - name: img
    files: [{ src: tree/, dest: /, preserveOwner: true }]
`, 'injected');
});
afterAll(() => tmp.cleanup());

describe('rootfs: bases', () => {
  it('a GNU tar rootfs gives the same layer as the tree injected with preserveOwner, whatever the compression', async () => {
    const want = injected.manifest.layers[0].digest;
    const diffId = injected.config.rootfs.diff_ids[0];
    for (const file of ['xattrs.tar', 'xattrs.tar.gz', 'xattrs.tar.xz', 'xattrs.tar.zst', 'misnamed.tar', 'acls.tar']) {
      const [img] = await buildOk(onRootfs(file), file.replace(/\W/g, '-'));
      expect(img.manifest.layers[0].digest, file).toBe(want);
      expect(img.config.rootfs.diff_ids, file).toEqual([diffId]);
      const fileDigest = sha256(readFileSync(j(file)));
      expect(img.manifest.annotations['org.opencontainers.image.base.name']).toBe(`rootfs:${file}@${fileDigest}`);
    }
    // Checked by tools that are not ours: the extracted layer matches the tree.
    const ours = await describeTree(await extract(injected.layerPath, 'ours'));
    expect(ours).toBe(await describeTree(TREE));
    expect(ours).toContain('user:1234:r-x');
    expect(ours).toContain('default:user:1234:rwx');
    expect(ours).toContain('hardlinked true');
    expect(ours).toContain('dev/loop9 7:9');
  });

  it('takes any platform the build asks for, reproducibly, with the build\'s platform in the config', async () => {
    const images = await buildOk(onRootfs('xattrs.tar.gz', '[linux/arm64, linux/arm/v7, linux/riscv64]'), 'multi');
    expect(images.map((i) => i.platform)).toEqual(['linux/arm64/v8', 'linux/arm/v7', 'linux/riscv64']);
    expect(images.map((i) => [i.config.architecture, i.config.variant])).toEqual([['arm64', 'v8'], ['arm', 'v7'], ['riscv64', undefined]]);
    for (const img of images) expect(img.manifest.layers[0].digest).toBe(injected.manifest.layers[0].digest);
    const again = await buildOk(onRootfs('xattrs.tar.gz', '[linux/arm64, linux/arm/v7, linux/riscv64]'), 'multi-again');
    expect(again.map((i) => i.descriptor.digest)).toEqual(images.map((i) => i.descriptor.digest));
    const skopeo = JSON.parse(await must('skopeo', ['inspect', '--override-arch', 'arm', '--override-variant', 'v7', `oci:${j('out-multi')}:img:latest`]));
    expect(skopeo.Architecture).toBe('arm');
  });

  it('a GNU-format tar (no PAX records, so no ACLs) still reads, with owners, the ACL mask as group bits, and devices', async () => {
    const [img] = await buildOk(onRootfs('gnu-format.tar'), 'gnu');
    const dir = await extract(img.layerPath, 'gnu');
    expect(await must('stat', ['-c', '%u:%g %a', 'srv/data'], { cwd: dir })).toBe('1000:2000 670\n');
    expect(await must('stat', ['-c', '%t:%T', 'dev/loop9'], { cwd: dir })).toBe('7:9\n');
  });

  const fails = async (name: string, file: string, setup?: () => void) => {
    setup?.();
    writeFileSync(j(`${name}.yaml`), onRootfs(file));
    const r = await ociasm(['build', '-f', j(`${name}.yaml`), '-o', j(`out-${name}`)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ROOTFS_INVALID');
    expect(r.stderr).toContain(j(file));
    return r.stderr;
  };

  it('a missing file, a file that is no tar, truncated tars and a named ACL fail naming the file', async () => {
    expect(await fails('missing', 'nope.tar.xz')).toContain('does not exist');
    expect(await fails('notar', 'notes.txt', () => writeFileSync(j('notes.txt'), 'just some text\n'.repeat(100)))).toContain('is not a tar archive');
    const whole = readFileSync(j('xattrs.tar.gz'));
    expect(await fails('cut-gz', 'cut.tar.gz', () => writeFileSync(j('cut.tar.gz'), whole.subarray(0, whole.length >> 1)))).toContain('GZIP_INVALID');
    const xz = readFileSync(j('xattrs.tar.xz'));
    expect(await fails('cut-xz', 'cut.tar.xz', () => writeFileSync(j('cut.tar.xz'), xz.subarray(0, xz.length - 40)))).toContain('XZ_INVALID');
    const plain = readFileSync(j('xattrs.tar'));
    expect(await fails('cut-tar', 'cut.tar', () => writeFileSync(j('cut.tar'), plain.subarray(0, 3000)))).toContain('truncated archive');
    await must('sh', ['-c', `cd ${TREE} && setfacl -m u:0:r bin/su && tar --format=posix --acls -cf ${j('named.tar')} . && setfacl -x u:0 bin/su`]);
    expect(await fails('named', 'named.tar')).toContain("--xattrs --xattrs-include='*'");
  });
});
