/**
 * Hand-made layers for the cases umoci cannot make: an opaque whiteout after
 * entries of its directory, a whiteout of a directory, hardlinks across
 * layers (made before an overwrite, surviving their original), a directory
 * replaced by a symlink, GNU long names and a uid above 2097151. Checked
 * against `umoci unpack` and against what the OCI rules say; the same tars
 * as zstd layers must squash to the very same layer.
 */
import { chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gnuTarOf, handLayout, type HandLayer, tarOf } from '../harness/hand-layers.js';
import { must, ociasm, platformImages, tempDir } from '../harness/util.js';
import { snapshot, type Snapshot } from './snapshot.js';

const tmp = tempDir('ociasm-edges-');
const bases = path.join(tmp.dir, 'bases');
const LONG_NAME = `long/${'n'.repeat(150)}`;
const LONG_TARGET = `/${'t'.repeat(150)}/target`;
const xa = (k: string, v: string) => new Map([[k, Buffer.from(v)]]);

async function layers(): Promise<Buffer[]> {
  const l1 = tarOf([
    { path: 'opq', type: 'directory' }, { path: 'opq/old1', body: 'old\n' },
    { path: 'opq/sub', type: 'directory' }, { path: 'opq/sub/old2', body: 'old\n' },
    { path: 'wdir', type: 'directory' }, { path: 'wdir/x', type: 'directory' }, { path: 'wdir/x/y', body: 'y\n' },
    { path: 'target', body: 'lower target\n' },
    { path: 'replaced', type: 'directory' }, { path: 'replaced/child', body: 'child\n' },
    { path: 'attrs', type: 'directory', xattrs: xa('user.a', 'first') },
  ]);
  const l2 = tarOf([
    { path: 'opq/new1', body: 'new\n' },
    { path: 'opq/.wh..wh..opq' }, // after an entry of its directory: still applies first
    { path: 'opq', type: 'directory', mode: 0o700, uid: 5, gid: 6 },
    { path: '.wh.wdir' },
    { path: 'link1', type: 'hardlink', linkname: 'target' },
    { path: 'replaced', type: 'symlink', linkname: '/etc' },
    { path: 'attrs', type: 'directory', mode: 0o750, xattrs: xa('user.b', 'second') },
  ]);
  const l3 = tarOf([
    { path: 'link3', type: 'hardlink', linkname: 'target' }, // made before the overwrite below
    { path: 'target', body: 'upper target\n' },
    { path: 'link2', type: 'hardlink', linkname: 'target' },
  ]);
  const stage = path.join(tmp.dir, 'gnu');
  mkdirSync(path.join(stage, 'long'), { recursive: true });
  writeFileSync(path.join(stage, '.wh.target'), '');
  writeFileSync(path.join(stage, LONG_NAME), 'long name\n');
  symlinkSync(LONG_TARGET, path.join(stage, 'longlink'));
  writeFileSync(path.join(stage, 'big'), 'big ids\n');
  chownSync(path.join(stage, 'big'), 3000000, 3000001);
  return [l1, l2, l3, await gnuTarOf(stage)];
}

let ours: Snapshot;
let ref: Snapshot;
let layerList = '';
let digests: string[] = [];

beforeAll(async () => {
  const tars = await layers();
  const mixed: HandLayer[] = tars.map((tar, i) => ({ tar, compression: i === 1 ? 'plain' : 'gzip' }));
  await handLayout(bases, 'edges', mixed);
  await handLayout(bases, 'edges-zstd', tars.map((tar) => ({ tar, compression: 'zstd' })));
  const file = path.join(tmp.dir, 'ociasm.yaml');
  writeFileSync(path.join(tmp.dir, 'first.txt'), 'first\n');
  writeFileSync(path.join(tmp.dir, 'second.txt'), 'second\n');
  writeFileSync(file, `images:
  - { name: edges, base: "oci:bases:edges" }
  - { name: zstd, base: "oci:bases:edges-zstd" }
  - name: injected
    base: "oci:bases:edges"
    files: [{ src: first.txt, dest: /link1 }, { src: second.txt, dest: /link1 }]
`);
  const r = await ociasm(['build', '-f', file, '-o', path.join(tmp.dir, 'oci')]);
  expect(r.code, r.stderr).toBe(0);
  const layerPaths = ['edges', 'zstd'].map((n) => platformImages(path.join(tmp.dir, 'oci'), `${n}:latest`)[0].layerPath);
  digests = layerPaths.map((p) => path.basename(p));
  mkdirSync(path.join(tmp.dir, 'ours'));
  await must('tar', ['--xattrs', '--xattrs-include=*', '-xpf', layerPaths[0], '-C', path.join(tmp.dir, 'ours')]);
  layerList = await must('tar', ['--numeric-owner', '-tvf', layerPaths[0]]);
  await must('umoci', ['unpack', '--image', `${bases}:edges`, path.join(tmp.dir, 'ref')]);
  ours = snapshot(path.join(tmp.dir, 'ours'));
  ref = snapshot(path.join(tmp.dir, 'ref', 'rootfs'));
});
afterAll(() => tmp.cleanup());

describe('hand-made base layers', () => {
  it('squash as the OCI layer rules say', () => {
    const e = ours.entries;
    expect(Object.keys(e).filter((p) => p.startsWith('opq'))).toEqual(['opq', 'opq/new1']);
    expect(e['opq']).toMatch(/^dir 700 5:6 /);
    expect(e['wdir']).toBeUndefined();
    expect(e['target']).toBeUndefined();
    expect(e['link1']).toBe(e['link3']);
    expect(e['link1']).toContain('size=13'); // "lower target\n"
    expect(e['link2']).toContain('size=13');
    expect(e['link2']).not.toBe(e['link1']); // "upper target\n"
    expect(ours.hardlinks).toEqual([['link1', 'link3']]);
    expect(e['replaced']).toMatch(/^symlink .* -> \/etc$/);
    expect(e['replaced/child']).toBeUndefined();
    expect(e['attrs']).toBe(`dir 750 0:0 xattrs[user.b=${Buffer.from('second').toString('hex')}]`);
    expect(e[LONG_NAME]).toMatch(/^file 644 0:0 size=10 /);
    expect(e['longlink']).toContain(`-> ${LONG_TARGET}`);
    expect(e['big']).toMatch(/^file 644 3000000:3000001 /);
  });

  it('equal umoci unpack of the same base', () => {
    expect(ours.entries).toEqual(ref.entries);
    expect(ours.hardlinks).toEqual(ref.hardlinks);
  });

  it('give one layer with no whiteouts, no duplicates, parents first and link targets before links', () => {
    const seen = new Set<string>();
    for (const line of layerList.trim().split('\n')) {
      const m = /^(\S)\S+ \S+ +\d+ \S+ \S+ (.+?)(?: link to (.+)| -> .+)?$/.exec(line);
      expect(m, line).not.toBeNull();
      const name = m![2]!.replace(/\/$/, '');
      expect(name).not.toMatch(/(^|\/)\.wh\./);
      expect(seen.has(name), `duplicate ${name}`).toBe(false);
      if (name.includes('/')) expect(seen.has(path.dirname(name)), `parent of ${name}`).toBe(true);
      if (m![1] === 'h') expect(seen.has(m![3]!), `target of ${name}`).toBe(true);
      seen.add(name);
    }
  });

  it('take injected files on top by the same rules, a later files entry winning', async () => {
    const dir = path.join(tmp.dir, 'injected');
    mkdirSync(dir);
    await must('tar', ['-xpf', platformImages(path.join(tmp.dir, 'oci'), 'injected:latest')[0].layerPath, '-C', dir]);
    const snap = snapshot(dir);
    expect(readFileSync(path.join(dir, 'link1'), 'utf8')).toBe('second\n');
    expect(readFileSync(path.join(dir, 'link3'), 'utf8')).toBe('lower target\n'); // its inode is untouched
    expect(snap.hardlinks).toEqual([]);
  });

  it('squash zstd layers of the same tars to the very same layer', () => {
    expect(digests[1]).toBe(digests[0]);
  });
});
