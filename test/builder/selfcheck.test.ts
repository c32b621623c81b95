/**
 * Tags are written only when every platform's self-check passes: a failing
 * check (or toolchain) leaves the image's previous tag untouched while
 * independent images still build; missing qemu is a clear error unless
 * --skip-tests.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ociasm, readLayoutIndex, refDescriptor, tempDir } from '../harness/util.js';
import { builderEnv } from './helpers.js';

const tmp = tempDir();
const layout = path.join(tmp.dir, 'oci');
const env = builderEnv(path.join(tmp.dir, 'cache'));
afterAll(() => tmp.cleanup());

const file = (state: string, other: string) => {
  const f = path.join(tmp.dir, 'ociasm.yaml');
  writeFileSync(f, `
images:
  - name: checked
    platforms: [linux/amd64, linux/arm/v7]
    paths: [{ path: /etc/state, type: file, content: "${state}\\n" }]
    test: [sh, -c, "grep -q '^ok$' {{rootfs}}/etc/state"]
  - name: other
    paths: [{ path: /etc/other, type: file, content: "${other}\\n" }]
`);
  return f;
};

describe('self-check before tagging', () => {
  it('a failing check writes no tag and leaves the previous one; other images still get theirs', async () => {
    const ok = await ociasm(['build', '-f', file('ok', 'one'), '-o', layout], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const checked = refDescriptor(layout, 'checked:latest').digest;
    const other = refDescriptor(layout, 'other:latest').digest;

    const bad = await ociasm(['build', '-f', file('broken', 'two'), '-o', layout], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error[SELFCHECK_FAILED]');
    expect(bad.stderr).toContain('image "checked"');
    expect(bad.stderr).toMatch(/exited with code 1/);
    expect(refDescriptor(layout, 'checked:latest').digest).toBe(checked);
    expect(refDescriptor(layout, 'other:latest').digest).not.toBe(other);
    expect(readLayoutIndex(layout).manifests).toHaveLength(2);
  });

  it('a failing toolchain reports its exit code and last lines, and writes no tag', async () => {
    const f = path.join(tmp.dir, 'fail.yaml');
    writeFileSync(f, `
images:
  - name: tool
    build:
      run: [sh, -c, "echo compiling; echo 'main.c:1: error: boom' >&2; exit 3"]
      outputs: { "{{out}}/x": /x }
`);
    const r = await ociasm(['build', '-f', f, '-o', path.join(tmp.dir, 'fail-oci')], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[tool linux/amd64] compiling');
    expect(r.stderr).toContain('error[TOOLCHAIN_FAILED]');
    expect(r.stderr).toContain('exited with code 3');
    expect(r.stderr).toContain('| main.c:1: error: boom');
    expect(readLayoutIndex(path.join(tmp.dir, 'fail-oci')).manifests).toEqual([]);
  });

  it('a declared output the step did not make is an error', async () => {
    const f = path.join(tmp.dir, 'missing.yaml');
    writeFileSync(f, 'images:\n  - name: m\n    build:\n      run: ["true"]\n      outputs: { "{{out}}/bin": /bin/x }\n');
    const r = await ociasm(['build', '-f', f, '-o', path.join(tmp.dir, 'missing-oci')], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[OUTPUT_MISSING]');
    expect(r.stderr).toContain('build.outputs "{{out}}/bin"');
  });

  it('missing qemu is a clear error, unless --skip-tests', async () => {
    const f = path.join(tmp.dir, 'qemu.yaml');
    writeFileSync(f, 'images:\n  - name: q\n    platforms: [linux/arm64/v8]\n    test: ["{{qemu}}", "{{rootfs}}/bin/true"]\n');
    const noQemu = { ...env, PATH: path.join(tmp.dir, 'empty-path') };
    const r = await ociasm(['build', '-f', f, '-o', path.join(tmp.dir, 'q-oci')], { env: noQemu });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[QEMU_MISSING]');
    expect(r.stderr).toContain('qemu-aarch64-static');
    expect(r.stderr).toContain('--skip-tests');
    const skipped = await ociasm(['build', '-f', f, '-o', path.join(tmp.dir, 'q-oci'), '--skip-tests'], { env: noQemu });
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(refDescriptor(path.join(tmp.dir, 'q-oci'), 'q:latest').digest).toMatch(/^sha256:/);
  });
});
