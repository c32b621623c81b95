/**
 * `ociasm sbom` on an image ociasm did not build: a two-layer image made by
 * umoci whose second layer deletes a file (a whiteout) and turns a directory
 * into a file. The SBOM's file list must equal the regular files of
 * umoci's own unpacked rootfs, with their SHA-256.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { must, ociasm, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-sbom-foreign-');
const j = (...p: string[]) => path.join(tmp.dir, ...p);

function regularFiles(root: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = path.join(dir, e);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push([`./${path.relative(root, p)}`, createHash('sha256').update(readFileSync(p)).digest('hex')]);
    }
  };
  walk(root);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

beforeAll(async () => {
  const u = j('umoci');
  await must('umoci', ['init', '--layout', u]);
  await must('umoci', ['new', '--image', `${u}:v1`]);
  await must('umoci', ['unpack', '--rootless', '--image', `${u}:v1`, j('bundle')]);
  const rootfs = j('bundle', 'rootfs');
  mkdirSync(path.join(rootfs, 'etc', 'conf.d'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc', 'conf.d', 'old'), 'old\n');
  writeFileSync(path.join(rootfs, 'etc', 'gone'), 'gone\n');
  writeFileSync(path.join(rootfs, 'etc', 'kept'), 'kept\n');
  await must('umoci', ['repack', '--image', `${u}:v1`, j('bundle')]);
  rmSync(path.join(rootfs, 'etc', 'gone'));
  rmSync(path.join(rootfs, 'etc', 'conf.d'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc', 'conf.d'), 'now a file\n');
  await must('umoci', ['repack', '--image', `${u}:v1`, j('bundle')]);
  await must('umoci', ['unpack', '--rootless', '--image', `${u}:v1`, j('check')]);
});
afterAll(() => tmp.cleanup());

describe('ociasm sbom on a foreign multi-layer image', () => {
  it("lists exactly the regular files of umoci's unpacked rootfs", async () => {
    const r = await ociasm(['sbom', `oci:${j('umoci')}:v1`]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const got = doc.files.map((f: any) => [f.fileName, f.checksums.find((c: any) => c.algorithm === 'SHA256').checksumValue]);
    const want = regularFiles(j('check', 'rootfs'));
    expect(want.map(([p]) => p)).toEqual(['./etc/conf.d', './etc/kept']);
    expect(got).toEqual(want);
    expect(doc.packages[0].versionInfo).toMatch(/^sha256:[a-f0-9]{64}$/);
  });
});
