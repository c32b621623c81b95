/**
 * Bad input gives a non-zero exit and one clear message naming the file, the
 * image and the key; a failed build leaves the layout as valid as it was.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { must, ociasm, readLayoutIndex, tempDir } from '../harness/util.js';

const tmp = tempDir();
const layout = path.join(tmp.dir, 'oci');

function buildFile(name: string, image: string, top = ''): string {
  const file = path.join(tmp.dir, `${name}.yaml`);
  writeFileSync(file, `${top}images:\n  - name: ${name}\n${image.replace(/^/gm, '    ')}\n`);
  return file;
}

async function fails(file: string, ...mustMention: string[]): Promise<string> {
  const before = readFileSync(path.join(layout, 'index.json'), 'utf8');
  const r = await ociasm(['build', '-f', file, '-o', layout]);
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  for (const m of mustMention) expect(r.stderr).toContain(m);
  expect(readFileSync(path.join(layout, 'index.json'), 'utf8')).toBe(before);
  expect(readdirSync(path.join(layout, 'blobs', 'sha256')).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  return r.stderr;
}

beforeAll(async () => {
  mkdirSync(path.join(tmp.dir, 'tree'));
  writeFileSync(path.join(tmp.dir, 'tree', 'f'), 'x');
  const ok = buildFile('good', 'platforms: [linux/amd64]\nfiles: [{ src: tree/, dest: /srv/ }]');
  const r = await ociasm(['build', '-f', ok, '-o', layout]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('bad input', () => {
  it('names an unknown key', async () => {
    const msg = await fails(buildFile('a', 'platfroms: [linux/amd64]'), 'a.yaml', 'image "a"', 'platfroms', 'unknown key');
    expect(msg).toContain('BUILDFILE_INVALID');
  });
  it('names a missing src', async () => {
    await fails(buildFile('b', 'files: [{ src: nothere/, dest: / }]'), 'b.yaml', 'image "b"', 'files[0]', 'nothere');
  });
  it('names a bad platform', async () => {
    await fails(buildFile('c', 'platforms: [linux/amd64, linux/sparc]'), 'c.yaml', 'image "c"', 'platforms[1]', 'linux/sparc');
  });
  it('names a bad mode', async () => {
    await fails(buildFile('d', 'paths: [{ path: /x, type: directory, mode: "0999" }]'), 'd.yaml', 'image "d"', 'paths[0].mode');
  });
  it('names a bad ACL text', async () => {
    await fails(buildFile('e', 'paths: [{ path: /x, type: directory, acl: "u::rwx,g:abc:r-x,o::---" }]'), 'e.yaml', 'image "e"', 'paths[0].acl', 'abc');
  });
  it('refuses a dest that escapes /', async () => {
    await fails(buildFile('f', 'files: [{ src: tree/, dest: /../../etc }]'), 'f.yaml', 'image "f"', 'files[0].dest', 'escapes');
  });
  it('refuses an unknown template', async () => {
    await fails(buildFile('g', 'files: [{ src: "tree/{{nope}}", dest: / }]'), 'g.yaml', 'image "g"', '{{nope}}');
  });
  it('names a missing build file and a YAML syntax error', async () => {
    const r = await ociasm(['build', '-f', path.join(tmp.dir, 'absent.yaml'), '-o', layout]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('absent.yaml');
    const bad = path.join(tmp.dir, 'syntax.yaml');
    writeFileSync(bad, 'images: [\n  - name: x\n');
    const s = await ociasm(['build', '-f', bad, '-o', layout]);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toContain('syntax.yaml');
  });
  it('names a missing base layout and a missing base platform', async () => {
    await fails(buildFile('h', 'base: oci:nowhere:x'), 'nowhere', 'oci-layout');
    await fails(buildFile('i', `base: "oci:${layout}:good:latest"\nplatforms: [linux/arm64]`), 'linux/arm64/v8', 'linux/amd64');
  });
  it('refuses a bad --compression-level before creating anything', async () => {
    const out = path.join(tmp.dir, 'never-made');
    const r = await ociasm(['build', '-f', buildFile('k', 'platforms: [linux/amd64]'), '-o', out, '--compression-level', '12']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[GZIP_INVALID]');
    expect(r.stderr).toContain('got 12');
    expect(existsSync(out)).toBe(false);
  });
  it('reports errors as JSON with --json', async () => {
    const r = await ociasm(['build', '-f', buildFile('j', 'bogus: 1'), '-o', layout, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('BUILDFILE_INVALID');
  });
});

describe('layout safety', () => {
  it('keeps other images when writing into an existing layout, and replaces a ref in place', async () => {
    const second = buildFile('second', 'platforms: [linux/arm/v7]\npaths: [{ path: /x, type: file, content: one }]');
    expect((await ociasm(['build', '-f', second, '-o', layout])).code).toBe(0);
    const refs = () => readLayoutIndex(layout).manifests.map((d: any) => d.annotations['org.opencontainers.image.ref.name']);
    expect(refs()).toEqual(['good:latest', 'second:latest']);
    const firstDigest = readLayoutIndex(layout).manifests[1].digest;
    writeFileSync(second, readFileSync(second, 'utf8').replace('content: one', 'content: two'));
    expect((await ociasm(['build', '-f', second, '-o', layout])).code).toBe(0);
    expect(refs()).toEqual(['good:latest', 'second:latest']);
    expect(readLayoutIndex(layout).manifests[1].digest).not.toBe(firstDigest);
    const parsed = JSON.parse(await must('skopeo', ['inspect', `oci:${layout}:good:latest`]));
    expect(parsed.Architecture).toBe('amd64');
  });
});
