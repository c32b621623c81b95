/**
 * The build cache (the step appends to a counter file each time it really
 * runs) and --extract: outputs keep their modes, directories and symlinks;
 * nothing is ever written outside the extract folder.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { must, ociasm, platformImages, refDescriptor, tempDir } from '../harness/util.js';
import { builderEnv } from './helpers.js';

const tmp = tempDir();
const layout = path.join(tmp.dir, 'oci');
const counter = path.join(tmp.dir, 'counter');
const env = builderEnv(path.join(tmp.dir, 'cache'));
const buildFile = path.join(tmp.dir, 'ociasm.yaml');

const yaml = (extraOutput = '') => `
sourceDateEpoch: 1700000000
images:
  - name: cached
    build:
      run: [sh, -c, "echo run >> \\"$COUNTER\\" && cp input.txt '{{out}}/data' && chmod 0750 '{{out}}/data' && mkdir -p '{{out}}/share/sub' && echo y > '{{out}}/share/sub/y' && ln -s ../data '{{out}}/share/link'"]
      env: { COUNTER: "${counter}" }
      inputs: [input.txt]
      outputs: { "{{out}}/data": /srv/data, "{{out}}/share": /usr/share/app/${extraOutput} }
`;

const runs = () => (existsSync(counter) ? readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0);
const build = (...args: string[]) => ociasm(['build', '-f', buildFile, '-o', layout, ...args], { env });
const digest = () => refDescriptor(layout, 'cached:latest').digest;

beforeAll(() => {
  writeFileSync(path.join(tmp.dir, 'input.txt'), 'v1\n');
  writeFileSync(buildFile, yaml());
});
afterAll(() => tmp.cleanup());

describe('build cache', () => {
  it('runs once, is skipped when nothing changed, reruns when an input changes or with --no-cache', async () => {
    expect((await build()).code).toBe(0);
    expect(runs()).toBe(1);
    const first = digest();
    const listing = await must('tar', ['-tvzf', platformImages(layout, 'cached:latest')[0].layerPath]);
    expect(listing).toMatch(/^-rwxr-x--- 0\/0 .* srv\/data$/m);
    expect(listing).toMatch(/^lrwxrwxrwx 0\/0 .* usr\/share\/app\/link -> \.\.\/data$/m);
    expect(listing).toMatch(/usr\/share\/app\/sub\/y$/m);

    expect((await build()).code).toBe(0);
    expect(runs()).toBe(1); // the toolchain did not run
    expect(digest()).toBe(first);

    writeFileSync(path.join(tmp.dir, 'input.txt'), 'v2\n');
    expect((await build()).code).toBe(0);
    expect(runs()).toBe(2);
    const second = digest();
    expect(second).not.toBe(first);

    expect((await build('--no-cache')).code).toBe(0);
    expect(runs()).toBe(3);
    expect(digest()).toBe(second);
  });
});

describe('--extract', () => {
  it('copies the outputs to DIR/<platformTag>/ with modes and symlinks', async () => {
    const dir = path.join(tmp.dir, 'bin');
    const r = await build('--extract', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(path.join(dir, 'amd64', 'data')).mode & 0o7777).toBe(0o750);
    expect(readFileSync(path.join(dir, 'amd64', 'data'), 'utf8')).toBe('v2\n');
    expect(readlinkSync(path.join(dir, 'amd64', 'share', 'link'))).toBe('../data');
    expect(readFileSync(path.join(dir, 'amd64', 'share', 'sub', 'y'), 'utf8')).toBe('y\n');
  });

  it('refuses an output named ../x before running anything', async () => {
    writeFileSync(buildFile, yaml().replace('"{{out}}/data": /srv/data', '"{{out}}/../x": /srv/x'));
    const before = runs();
    const r = await build('--extract', path.join(tmp.dir, 'hostile'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[PATH_ESCAPES]');
    expect(r.stderr).toContain('"../x"');
    expect(runs()).toBe(before);
    expect(existsSync(path.join(tmp.dir, 'hostile', 'x'))).toBe(false);
    expect(existsSync(path.join(tmp.dir, 'x'))).toBe(false);
  });

  it('does not follow a symlink planted inside DIR', async () => {
    writeFileSync(buildFile, yaml());
    const dir = path.join(tmp.dir, 'planted');
    const outside = path.join(tmp.dir, 'outside');
    mkdirSync(dir);
    mkdirSync(outside);
    symlinkSync(outside, path.join(dir, 'amd64'));
    const r = await build('--extract', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[PATH_ESCAPES]');
    expect(existsSync(path.join(outside, 'data'))).toBe(false);
    expect(lstatSync(path.join(dir, 'amd64')).isSymbolicLink()).toBe(true);
  });
});
