/**
 * `ociasm validate`, `build --dry-run`, `-f -`, `ociasm tag` / `untag`, run as
 * the real CLI; the layout's refs are read back with umoci and skopeo.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, must, ociasm, ROOT, tempDir, type RunResult } from '../harness/util.js';

const tmp = tempDir();
const layout = path.join(tmp.dir, 'oci');
const HELLO = path.join(ROOT, 'docs/examples/hello/ociasm.yaml');

function withStdin(args: string[], input: string, cwd: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

const umociTags = async (dir: string) => (await must('umoci', ['ls', '--layout', dir])).trim().split('\n').filter(Boolean).sort();

beforeAll(async () => {
  const r = await ociasm(['build', '-f', HELLO, '-o', layout, '--platform', 'linux/amd64']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('validate and --dry-run', () => {
  it('print the plan and build nothing', async () => {
    const v = await ociasm(['validate', '-f', HELLO]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain('valid; 1 image, 5 platform builds');
    expect(v.stdout).toContain('hello:1.0 on scratch');
    const out = path.join(tmp.dir, 'never');
    const d = await ociasm(['build', '--dry-run', '-f', HELLO, '-o', out, '--json']);
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).images[0].platforms.map((p: any) => p.platform)).toEqual(
      ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    expect(existsSync(out)).toBe(false);
  });

  it('fail with every error of the file and a non-zero exit', async () => {
    const bad = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'images:\n  - name: a\n    platfroms: [linux/amd64]\n    push: ["x/{{nope}}"]\n  - name: B\n');
    const v = await ociasm(['validate', '-f', bad]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('error[BUILDFILE_INVALID]');
    expect(v.stderr).toContain('2 errors:');
    expect(v.stderr).toContain('image "a": platfroms: unknown key');
    expect(v.stderr).toContain('images[1]: name: "B" is not a valid image name');
  });

  it('-f - reads the build file from stdin; its paths resolve against the working directory', async () => {
    writeFileSync(path.join(tmp.dir, 'payload.txt'), 'from stdin\n');
    const yaml = 'images:\n  - name: fromstdin\n    files: [{ src: payload.txt, dest: /payload.txt }]\n';
    const out = path.join(tmp.dir, 'stdin-oci');
    const r = await withStdin(['build', '-f', '-', '-o', out], yaml, tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(await umociTags(out)).toEqual(['fromstdin:latest']);
    const v = await withStdin(['validate', '-f', '-'], 'images: []\n', tmp.dir);
    expect(v.stderr).toContain('<stdin>: images: must be a non-empty list');
  });
});

describe('tag and untag', () => {
  it('add refs (a bare tag keeps the name), move them, and remove them; blobs stay', async () => {
    const t = await ociasm(['tag', `${layout}:hello:1.0`, 'candidate', 'other/app:x']);
    expect(t.code, t.stderr).toBe(0);
    expect(await umociTags(layout)).toEqual(['hello:1.0', 'hello:candidate', 'other/app:x']);
    const digest = JSON.parse(await must('skopeo', ['inspect', `oci:${layout}:hello:candidate`])).Digest;
    expect(JSON.parse(await must('skopeo', ['inspect', `oci:${layout}:hello:1.0`])).Digest).toBe(digest);
    const blobs = readdirSync(path.join(layout, 'blobs', 'sha256')).sort();

    const missing = await ociasm(['untag', `${layout}:hello:candidate`, `${layout}:nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error[REF_NOT_FOUND]');
    expect(missing.stderr).toContain('no ref "nope"');
    expect(await umociTags(layout)).toEqual(['hello:1.0', 'hello:candidate', 'other/app:x']); // nothing changed

    const u = await ociasm(['untag', `${layout}:hello:candidate`, `${layout}:other/app:x`]);
    expect(u.code, u.stderr).toBe(0);
    expect(await umociTags(layout)).toEqual(['hello:1.0']);
    expect(readdirSync(path.join(layout, 'blobs', 'sha256')).sort()).toEqual(blobs);
    const again = await ociasm(['untag', '--ignore-missing', `${layout}:hello:candidate`]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('no ref "hello:candidate" (ignored)');
  });

  it('refuses a bad ref name and an unknown source ref', async () => {
    const bad = await ociasm(['tag', `${layout}:hello:1.0`, 'has space']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"hello:has space" is not a valid ref name');
    const none = await ociasm(['tag', `${layout}:hello:9`, 'x']);
    expect(none.stderr).toContain('no ref "hello:9" in the layout');
  });
});
