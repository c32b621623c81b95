/**
 * Hostile build files and flags (issue 12, "What the build file can
 * inject"): each case is the input, then the exit code, the error code, what
 * is on disk afterwards (the layout as it was, no temp files) and what is not
 * in the output.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handLayout, tarOf } from '../harness/hand-layers.js';
import { must, ociasm, platformImages, tempDir } from '../harness/util.js';

const tmp = tempDir();
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const layout = j('oci');

function buildFile(name: string, body: string): string {
  const file = j(`${name}.yaml`);
  writeFileSync(file, body);
  return file;
}

function layoutState(dir: string): { index: string; temps: string[] } {
  return {
    index: readFileSync(path.join(dir, 'index.json'), 'utf8'),
    temps: readdirSync(path.join(dir, 'blobs', 'sha256')).filter((f) => f.startsWith('.tmp')),
  };
}

/** Runs a build that must fail: exit 1, one error line with `code`, the layout unchanged. */
async function refused(args: string[], code: string, ...mention: string[]): Promise<string> {
  const before = layoutState(layout);
  const r = await ociasm(['build', '-o', layout, ...args]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(`error[${code}]`);
  for (const m of mention) expect(r.stderr).toContain(m);
  expect(layoutState(layout)).toEqual(before);
  return r.stderr;
}

beforeAll(async () => {
  const ok = buildFile('ok', 'images:\n  - name: ok\n    platforms: [linux/amd64]\n    paths: [{ path: /x, type: file, content: x }]\n');
  const r = await ociasm(['build', '-f', ok, '-o', layout]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp.cleanup());

const ACCOUNTS = (field: string) => `args: { V: plain }
images:
  - name: acc
    platforms: [linux/amd64]
    paths: [{ path: /etc/passwd, type: file, content: "root:x:0:0:root:/root:/bin/sh\\n" }, { path: /etc/group, type: file, content: "root:x:0:\\n" }]
    accounts:
      users: [{ name: app, uid: 1000, gid: 0, ${field} }]
`;

describe('accounts fields after templating', () => {
  it('refuses a build arg that puts ":" and a line break into gecos', async () => {
    const file = buildFile('gecos', ACCOUNTS('gecos: "{{args.V}}"'));
    const msg = await refused(['-f', file, '--build-arg', 'V=x:0:0::/:/bin/sh\nevil:x:0:0:'], 'BUILDFILE_INVALID', 'gecos.yaml', 'accounts.users[0].gecos');
    expect(msg).not.toContain('evil');
  });
  it('refuses a templated home with ".." (no entry may climb)', async () => {
    const file = buildFile('home', ACCOUNTS('home: "/home/{{args.V}}"'));
    await refused(['-f', file, '--build-arg', 'V=../../../../tmp/x'], 'BUILDFILE_INVALID', 'accounts.users[0].home', '..');
  });
  it('refuses a templated shell with a line break, and a templated name that is no account name', async () => {
    await refused(['-f', buildFile('shell', ACCOUNTS('shell: "/bin/{{args.V}}"')), '--build-arg', 'V=sh\nroot2::0:0::/:/bin/sh'], 'BUILDFILE_INVALID', 'accounts.users[0].shell');
    const named = ACCOUNTS('').replace('name: app', 'name: "{{args.V}}"');
    await refused(['-f', buildFile('uname', named), '--build-arg', 'V=a:b'], 'BUILDFILE_INVALID', 'accounts.users[0].name');
  });
  it('a plain home still works and the layer has no ".." entry', async () => {
    const r = await ociasm(['build', '-f', buildFile('good-acc', ACCOUNTS('home: "/srv/{{args.V}}"')), '-o', j('acc-out')]);
    expect(r.code, r.stderr).toBe(0);
    const [img] = platformImages(j('acc-out'), 'acc:latest');
    const names = (await must('tar', ['-tzf', img.layerPath])).split('\n').filter(Boolean);
    expect(names).toContain('srv/plain/');
    expect(names.filter((n) => n.split('/').includes('..'))).toEqual([]);
    expect(await must('tar', ['-xzOf', img.layerPath, 'etc/passwd'])).toBe('root:x:0:0:root:/root:/bin/sh\napp:x:1000:0::/srv/plain:/sbin/nologin\n');
  });
});

describe('image paths', () => {
  it('normalises a ".." that stays inside / and refuses one that climbs out, after templating', async () => {
    const body = (p: string) => `args: { P: a }\nimages:\n  - name: p\n    platforms: [linux/amd64]\n    paths: [{ path: "${p}", type: file, content: x }]\n`;
    await refused(['-f', buildFile('climb', body('/{{args.P}}/x')), '--build-arg', 'P=../../..'], 'PATH_ESCAPES', 'paths[0].path', 'escapes');
    const r = await ociasm(['build', '-f', buildFile('inside', body('/{{args.P}}/x')), '--build-arg', 'P=a/b/..', '-o', j('paths-out')]);
    expect(r.code, r.stderr).toBe(0);
    const names = (await must('tar', ['-tzf', platformImages(j('paths-out'), 'p:latest')[0].layerPath])).split('\n').filter(Boolean);
    expect(names).toEqual(['a/', 'a/x']);
  });
});

describe('YAML', () => {
  it('an alias bomb is BUILDFILE_PARSE naming the file', async () => {
    const lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) lol.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const file = buildFile('bomb', `${lol.join('\n')}\nimages: []\n`);
    await refused(['-f', file], 'BUILDFILE_PARSE', 'bomb.yaml', 'alias');
  });
});

describe('numeric flags', () => {
  for (const [flag, value, says] of [
    ['--jobs', 'abc', 'not a whole number'], ['--jobs', '0', 'out of range'], ['--jobs', '-3', 'not a whole number'],
    ['--jobs', '2.5', 'not a whole number'], ['--compression-level', 'x', 'not a whole number'], ['--lock-timeout', 'soon', 'not a whole number'],
    ['--max-layer-size', '12Q', 'not a size'], ['--max-inflate-ratio', '0', 'out of range'],
  ] as const) {
    it(`build ${flag} ${value} is a usage error (exit 1) before anything is made`, async () => {
      const out = j(`never-${flag}-${value}`);
      const r = await ociasm(['build', '-f', j('ok.yaml'), '-o', out, flag, value]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(flag);
      expect(r.stderr).toContain(says);
      expect(r.stderr).not.toContain('INTERNAL');
      expect(existsSync(out)).toBe(false);
    });
  }
  it('push --jobs 0 is a usage error too', async () => {
    const r = await ociasm(['push', layout, '127.0.0.1:1/x:y', '--jobs', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--jobs');
  });
});

describe('output folders', () => {
  it('-o /proc/oci fails at once with IO naming the path (Node\'s recursive mkdir would loop)', async () => {
    const r = await ociasm(['build', '-f', j('ok.yaml'), '-o', '/proc/ociasm-test/oci'], { timeout: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[IO]');
    expect(r.stderr).toContain('/proc/ociasm-test');
  });
  it('-o under a regular file names the file that is in the way', async () => {
    writeFileSync(j('a-file'), 'x');
    const r = await ociasm(['build', '-f', j('ok.yaml'), '-o', j('a-file', 'oci')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[IO]');
    expect(r.stderr).toContain('is not a directory');
  });
});

describe('terminal escapes', () => {
  it('an entry name with ESC and BEL reaches stderr escaped, never raw', async () => {
    const evil = 'x\x1b]0;owned\x07\x1b[2J';
    const base = await handLayout(j('evil-layout'), 'v1', [{ tar: tarOf([{ path: `${evil}`, type: 'hardlink', linkname: `${evil}-missing` }]) }]);
    const file = buildFile('esc', `images:\n  - name: esc\n    base: "${base}"\n    platforms: [linux/amd64]\n`);
    const r = await ociasm(['build', '-f', file, '-o', layout]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[LAYER_INVALID]');
    expect(r.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(r.stderr).toContain('x\\x1b]0;owned\\x07\\x1b[2J');
    const json = await ociasm(['build', '-f', file, '-o', layout, '--json']);
    expect(json.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(JSON.parse(json.stdout).error.code).toBe('LAYER_INVALID');
  });
});
