/**
 * Malformed base layers fail the build with one clear message that names the
 * layer digest and the entry, and leave no image behind.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type HandLayer, handLayout, tarOf } from '../harness/hand-layers.js';
import { ociasm, readBlobJson, refDescriptor, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-malformed-');
const bases = path.join(tmp.dir, 'bases');
afterAll(() => tmp.cleanup());

const GOOD = tarOf([{ path: 'etc', type: 'directory' }, { path: 'etc/hostname', body: 'ok\n' }]);

/** Builds an image on [GOOD, bad]; returns stderr and the bad layer's digest. */
async function fails(tag: string, bad: HandLayer, env?: NodeJS.ProcessEnv): Promise<{ stderr: string; digest: string }> {
  await handLayout(bases, tag, [{ tar: GOOD }, bad]);
  const digest = readBlobJson(bases, refDescriptor(bases, tag).digest).layers[1].digest;
  const file = path.join(tmp.dir, `${tag}.yaml`);
  writeFileSync(file, `images:\n  - { name: ${tag}, base: "oci:bases:${tag}" }\n`);
  const r = await ociasm(['build', '-f', file, '-o', path.join(tmp.dir, 'oci')], env ? { env } : {});
  expect(r.code).not.toBe(0);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(digest);
  return { stderr: r.stderr, digest };
}

describe('malformed base layers', () => {
  it('a truncated tar names the entry it was in', async () => {
    const whole = tarOf([{ path: 'var/big', body: 'x'.repeat(5000) }]);
    const { stderr } = await fails('truncated', { tar: whole.subarray(0, 512 + 2048) });
    expect(stderr).toContain('TAR_INVALID');
    expect(stderr).toContain('"var/big"');
    expect(stderr).toContain('truncated');
  });

  it('a ".." in a path (in a zstd layer, stopped early)', async () => {
    const tar = tarOf([{ path: 'etc/../../escape', body: 'x' }, { path: 'big', body: Buffer.alloc(4 << 20, 7) }]);
    const { stderr } = await fails('dotdot', { tar, compression: 'zstd' });
    expect(stderr).toContain('LAYER_INVALID');
    expect(stderr).toContain('"etc/../../escape"');
  });

  it('a whiteout of the root', async () => {
    const { stderr } = await fails('wh-root', { tar: tarOf([{ path: '.wh..' }]) });
    expect(stderr).toContain('LAYER_INVALID');
    expect(stderr).toContain('entry ".wh.."');
    expect(stderr).toContain('whiteout of the root directory');
  });

  it('a bare ".wh."', async () => {
    const { stderr } = await fails('wh-bare', { tar: tarOf([{ path: 'etc/.wh.' }]) });
    expect(stderr).toContain('entry "etc/.wh."');
    expect(stderr).toContain('bare ".wh."');
  });

  it('an entry under a symlink (never followed)', async () => {
    const tar = tarOf([{ path: 'sym', type: 'symlink', linkname: '/etc' }, { path: 'sym/hostname', body: 'x' }]);
    const { stderr } = await fails('through-symlink', { tar });
    expect(stderr).toContain('entry "sym/hostname"');
    expect(stderr).toContain('parent "sym" is a symlink');
  });

  it('a hardlink to nothing', async () => {
    const { stderr } = await fails('dangling-link', { tar: tarOf([{ path: 'l', type: 'hardlink', linkname: 'nowhere' }]) });
    expect(stderr).toContain('entry "l"');
    expect(stderr).toContain('"nowhere" does not exist');
  });

  it('bytes changed after the end-of-archive marker still fail the digest check', async () => {
    const padded = Buffer.concat([GOOD, Buffer.alloc(8192)]);
    const tamper = (b: Buffer) => Buffer.concat([b.subarray(0, b.length - 1), Buffer.from([1])]);
    const { stderr } = await fails('tampered', { tar: padded, compression: 'plain', tamper });
    expect(stderr).toContain('DIGEST_MISMATCH');
  });

  it('a layer whose content does not match the config\'s diff_id', async () => {
    const { stderr } = await fails('bad-diffid', { tar: GOOD, diffId: `sha256:${'0'.repeat(64)}` });
    expect(stderr).toContain('DIGEST_MISMATCH');
    expect(stderr).toContain(`diff_id is sha256:${'0'.repeat(64)}`);
  });

  it('a corrupt zstd layer', async () => {
    const { stderr } = await fails('bad-zstd', { tar: GOOD, compression: 'zstd', blob: Buffer.from('not zstd at all') });
    expect(stderr).toContain('ZSTD_INVALID');
  });

  it('a zstd layer is read without any zstd program (in-process libzstd)', async () => {
    await handLayout(bases, 'no-zstd', [{ tar: GOOD }, { tar: GOOD, compression: 'zstd' }]);
    const file = path.join(tmp.dir, 'no-zstd.yaml');
    writeFileSync(file, 'images:\n  - { name: no-zstd, base: "oci:bases:no-zstd" }\n');
    const r = await ociasm(['build', '-f', file, '-o', path.join(tmp.dir, 'oci-no-zstd')], { env: { PATH: path.join(tmp.dir, 'empty-bin') } });
    expect(r.code, r.stderr).toBe(0);
  });
});
