/**
 * The build file's one schema: validation reports every error at once, in
 * document order, naming image and key; YAML numbers keep their text in string
 * fields; the shipped JSON Schema is current and agrees with the validator
 * (checked with ajv, a validator that is not ours).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse as yaml } from 'yaml';
import { buildFileJsonSchema, buildFileJsonSchemaText } from '../../src/buildfile/json-schema.js';
import { parseBuildFile } from '../../src/buildfile/load.js';
import { ROOT } from '../harness/util.js';

const parse = (text: string) => parseBuildFile(text, '/w/ociasm.yaml');
const errorOf = (text: string): string => {
  try {
    parse(text);
  } catch (e) {
    expect((e as { code?: string }).code).toBe('BUILDFILE_INVALID');
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('validation', () => {
  it('reports all errors of a file at once, in document order, naming image and key', () => {
    const msg = errorOf(`bogus: 1
images:
  - name: a
    platfroms: [linux/amd64]
    files: [{ src: 1 }, { dest: x, src: y, extra: 2 }]
    paths: [{ path: /x, type: symlink }, { path: /y, type: fifo }]
    accounts: { users: [{ name: u, uid: -1 }] }
  - name: B
  - name: a
`);
    expect(msg.split('\n')).toEqual([
      '/w/ociasm.yaml: 10 errors:',
      '  bogus: unknown key "bogus" (allowed: sourceDateEpoch, args, insecureRegistries, compression, images)',
      expect.stringMatching(/^ {2}image "a:latest": platfroms: unknown key "platfroms" \(did you mean "platforms"\? allowed: name, tag, /),
      '  image "a:latest": files[0].dest: is required',
      '  image "a:latest": files[1].extra: unknown key "extra" (allowed: src, dest, preserveOwner)',
      '  image "a:latest": paths[0].target: is required for a symlink',
      '  image "a:latest": paths[1].type: must be one of directory, file, symlink',
      '  image "a:latest": accounts.users[0].uid: must be a whole number from 0 to 4294967294',
      '  image "a:latest": accounts.users[0].gid: is required',
      '  images[1]: name: "B" is not a valid image name (lowercase letters, digits, . _ - /)',
      '  image "a:latest": tag: a:latest appears twice (images[0] and images[2]); an image is its name and tag',
    ]);
  });

  it('one error is one line', () => {
    expect(errorOf('images: []\n')).toBe('/w/ociasm.yaml: images: must be a non-empty list');
    expect(errorOf('images:\n  - name: a\n    test: []\n')).toBe('/w/ociasm.yaml: image "a": test: must be a non-empty argv list');
    expect(errorOf('images:\n  - name: a\n    env: [A]\n')).toBe('/w/ociasm.yaml: image "a": env: must be a mapping of strings');
    expect(errorOf('images:\n  - name: a\n    args: { "a-b": x }\n')).toBe('/w/ociasm.yaml: image "a": args.a-b: "a-b" is not a valid arg name');
  });

  it('a YAML number keeps the text written in a string field; numbers that print the same are numbers', () => {
    const bf = parse('images:\n  - { name: a, tag: 1.10, env: { V: 1.0, PORT: 8080, ON: true } }\n  - { name: b, tag: 2 }\n');
    expect(bf.images[0]!.tag).toBe('1.10');
    expect(bf.images[0]!.env).toEqual({ V: '1.0', PORT: '8080', ON: 'true' });
    expect(bf.images[1]!.tag).toBe('2');
    expect(parse('sourceDateEpoch: 1700000000\nimages: [{ name: a }]\n').sourceDateEpoch).toBe(1700000000);
    expect(errorOf('sourceDateEpoch: 1.0\nimages: [{ name: a }]\n')).toContain('sourceDateEpoch: must be a non-negative whole number of seconds');
  });

  it('a key with no value is as if absent; defaults are filled', () => {
    const img = parse('images:\n  - name: a\n    env:\n    push:\n')!.images[0]!;
    expect(img).toMatchObject({ tag: 'latest', base: 'scratch', platforms: ['linux/amd64'], env: {}, files: [] });
    expect(img.push).toBeUndefined();
    const user = parse('images:\n  - name: a\n    accounts: { groups: [{ name: g, gid: 5 }], users: [{ name: u, uid: 5, gid: 5 }] }\n').images[0]!.accounts!.users[0]!;
    expect(user).toEqual({ name: 'u', uid: 5, gid: 5, home: '/home/u', shell: '/sbin/nologin', gecos: '', createHome: true });
  });
});

describe('the JSON Schema', () => {
  it('schema/ociasm.schema.json as committed is the one generated from the source', () => {
    const rel = 'schema/ociasm.schema.json';
    let committed: string;
    try {
      committed = execFileSync('git', ['-C', ROOT, 'show', `:${rel}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      committed = readFileSync(path.join(ROOT, rel), 'utf8'); // not a git checkout (an unpacked package)
    }
    expect(committed, 'run `npm run build` and commit schema/ociasm.schema.json').toBe(buildFileJsonSchemaText());
  });

  it('ajv accepts the shipped example and refuses what the validator refuses', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const check = ajv.compile(buildFileJsonSchema());
    const example = readFileSync(path.join(ROOT, 'docs/examples/hello/ociasm.yaml'), 'utf8');
    expect(check(yaml(example)), JSON.stringify(check.errors)).toBe(true);
    expect(check(yaml('images: [{ name: a, platfroms: [x] }]'))).toBe(false);
    expect(check(yaml('images: []'))).toBe(false);
    expect(check(yaml('images: [{ name: A }]'))).toBe(false);
    expect(check(yaml('images: [{ name: a, paths: [{ path: /x, type: fifo }] }]'))).toBe(false);
  });
});

describe('corpusops-style build lists', () => {
  it('take the repository from tag and extra_args as args', () => {
    const bf = parse(`images:
  - { tag: "corpusops/ubuntu:18.04_preprovision", base: "image:corpusops/ubuntu:18.04", extra_args: "--build-arg FOO=1" }
  - { tag: "corpusops/ubuntu:18.04" }
  - { tag: corpusops/debian }
`);
    expect(bf.images.map((i) => [i.name, i.tag, i.args])).toEqual([
      ['corpusops/ubuntu', '18.04_preprovision', { FOO: '1' }],
      ['corpusops/ubuntu', '18.04', undefined],
      ['corpusops/debian', 'latest', undefined],
    ]);
  });

  it('refuse Docker-build keys and Python placeholders, all at once, saying what does the same', () => {
    const msg = errorOf(`images:
  - tag: "corpusops/ubuntu:18.04"
    builder_type: docker
    file: "docker/corpusops/{name}:{version}"
    working_dir: .
    extra_args: --no-cache
  - tag: "corpusops/ubuntu:{img_parts[tag]}"
`);
    const lines = msg.split('\n');
    expect(lines[0]).toBe('/w/ociasm.yaml: 5 errors:');
    expect(lines[1]).toBe('  image "corpusops/ubuntu:18.04": builder_type: not supported: ociasm is its own builder (no Docker, no Packer); base:, files:, paths:, accounts: and build: do the same');
    expect(lines[2]).toContain('image "corpusops/ubuntu:18.04": file: not supported: ociasm reads no Dockerfile; FROM is base:, COPY/ADD are files:');
    expect(lines[3]).toContain('working_dir: not supported: there is no build context');
    expect(lines[4]).toContain('extra_args: "--no-cache" is not supported; only build arguments are');
    expect(lines[5]).toContain('image "corpusops/ubuntu:{img_parts[tag]}": tag: "{img_parts[tag]}" is a Python-style placeholder, which ociasm does not fill; write a template such as {{args.tag}}');
  });
});
