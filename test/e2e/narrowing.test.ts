/** `--platform` and IMAGE arguments narrow a build; progress shows only on a real terminal. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, must, ociasm, platformImages, readLayoutIndex, ROOT, tempDir } from '../harness/util.js';

const tmp = tempDir();
const file = path.join(tmp.dir, 'ociasm.yaml');
afterAll(() => tmp.cleanup());

beforeAll(() => {
  writeFileSync(file, `images:
  - name: one
    platforms: [linux/amd64, linux/arm64/v8, linux/arm/v7]
    paths: [{ path: /one, type: file, content: "{{platform}}" }]
  - name: two
    platforms: [linux/amd64, linux/arm/v6]
    paths: [{ path: /two, type: file, content: "{{platform}}" }]
`);
});

async function build(out: string, ...args: string[]) {
  return ociasm(['build', '-f', file, '-o', path.join(tmp.dir, out), ...args]);
}

describe('narrowing a build', () => {
  it('--platform keeps only matching platforms, in any spelling', async () => {
    const r = await build('p', '--platform', 'linux/aarch64', '--platform', 'linux/amd64');
    expect(r.code, r.stderr).toBe(0);
    expect(platformImages(path.join(tmp.dir, 'p'), 'one:latest').map((i: any) => i.platform)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(platformImages(path.join(tmp.dir, 'p'), 'two:latest').map((i: any) => i.platform)).toEqual(['linux/amd64']);
  });

  it('IMAGE arguments build only those images', async () => {
    const r = await build('i', 'two');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/^two:latest sha256:[0-9a-f]{64} \(linux\/amd64, linux\/arm\/v6\)\n$/);
    expect(readLayoutIndex(path.join(tmp.dir, 'i')).manifests.map((d: any) => d.annotations['org.opencontainers.image.ref.name'])).toEqual(['two:latest']);
  });

  it('a platform an image lacks, or an unknown image, is an error naming them', async () => {
    const none = await build('n', 'two', '--platform', 'linux/arm64');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('image "two": none of its platforms matches --platform linux/arm64/v8');
    const unknown = await build('u', 'three');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no image named "three" (have: one, two)');
  });

  it('prints its version', async () => {
    const r = await ociasm(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('shows progress on a terminal and plain result lines in a pipe', async () => {
    const cmd = `${process.execPath} ${CLI} build -f ${file} -o ${path.join(tmp.dir, 'tty')} one`;
    const env = { ...process.env };
    delete env.CI;
    const typescript = await must('script', ['-qec', cmd, '/dev/null'], { env });
    expect(typescript).toMatch(/✓ one linux\/[^ ]+ done/);
    expect(typescript).toContain('\r\x1b[J');
    expect(typescript).toMatch(/one:latest sha256:[0-9a-f]{64}/);
    const piped = await build('piped', 'one');
    expect(piped.stdout).not.toContain('\r');
    expect(piped.stderr).toBe('');
  });
});
