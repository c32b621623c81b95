/**
 * Machine-readable and terminal output of the real CLI: `--json` against its
 * documented JSON Schema (ajv), uncompressedSize and diffId agreeing between
 * build and inspect and with the layer itself (gunzip + sha256),
 * --metadata-file / --iidfile against skopeo, --progress json as JSON Lines,
 * TTY rows under a real pseudo-terminal 40 columns wide, and no escape codes
 * for TERM=dumb and NO_COLOR.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { blobPath, CLI, must, ociasm, ROOT, tempDir } from '../harness/util.js';

const tmp = tempDir();
const HELLO = path.join(ROOT, 'docs/examples/hello/ociasm.yaml');
afterAll(() => tmp.cleanup());

describe('build --json, inspect --json, metadata files', () => {
  it('match the documented schema, agree on uncompressedSize, and name the digests skopeo sees', async () => {
    const out = path.join(tmp.dir, 'oci');
    const meta = path.join(tmp.dir, 'meta.json');
    const iid = path.join(tmp.dir, 'iid');
    const r = await ociasm(['build', '-f', HELLO, '-o', out, '--json', '--metadata-file', meta, '--iidfile', iid, '--platform', 'linux/amd64', '--platform', 'linux/arm/v7']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    const check = new Ajv2020({ allErrors: true }).compile(JSON.parse(readFileSync(path.join(ROOT, 'docs/schema/build-result.schema.json'), 'utf8')));
    expect(check(result), JSON.stringify(check.errors)).toBe(true);
    expect(check({ ...result, images: [{ ...result.images[0], extra: 1 }] })).toBe(false);

    const layer = result.images[0].platforms[0].layer;
    const tar = gunzipSync(readFileSync(blobPath(out, layer.digest)));
    expect(layer.uncompressedSize).toBe(tar.length);
    expect(layer.diffId).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    const inspected = JSON.parse((await ociasm(['inspect', `${out}:hello:1.0`, '--json'])).stdout);
    const ilayer = inspected.manifests[0].layers[0];
    expect([ilayer.uncompressedSize, ilayer.diffId]).toEqual([layer.uncompressedSize, layer.diffId]);
    expect(ilayer.contentBytes).toBe('hello from linux/amd64 (amd64)\n'.length);

    const indexRaw = await must('skopeo', ['inspect', '--raw', `oci:${out}:hello:1.0`]);
    const indexDigest = `sha256:${createHash('sha256').update(indexRaw).digest('hex')}`;
    expect(readFileSync(iid, 'utf8')).toBe(`${indexDigest}\n`);
    expect(JSON.parse(readFileSync(meta, 'utf8'))).toEqual({
      'hello:1.0': {
        'containerimage.digest': indexDigest,
        'containerimage.descriptor': { mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: indexRaw.length },
        'image.name': 'hello:1.0',
      },
    });
  });

  it('--progress json prints one JSON object per event on stderr', async () => {
    const r = await ociasm(['build', '-f', HELLO, '-o', path.join(tmp.dir, 'jl'), '--progress', 'json', '--platform', 'linux/amd64', '--no-layer-cache']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.some((e) => e.type === 'step' && e.platform === 'linux/amd64' && e.message === 'writing layer' && e.bytes > 0)).toBe(true);
    expect(events.filter((e) => e.type === 'done').map((e) => [e.image, e.platform])).toEqual([['hello', 'linux/amd64']]);
    expect(r.stdout).toMatch(/^hello:1\.0 sha256:[0-9a-f]{64} \(linux\/amd64\)\n$/);
  });
});

describe('on a terminal', () => {
  const underScript = (extraEnv: Record<string, string>, args = '') => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
    delete env.CI;
    const cmd = `stty cols 40 rows 30; ${process.execPath} ${CLI} build -f ${HELLO} -o ${path.join(tmp.dir, `tty-${Object.keys(extraEnv).join('')}`)} ${args}`;
    return must('script', ['-qec', cmd, '/dev/null'], { env });
  };

  it('draws one row per platform within 40 columns', async () => {
    const typescript = await underScript({ TERM: 'xterm' });
    expect(typescript).toContain('\x1b[J');
    // What the terminal ends up showing: apply the cursor-up/erase sequences.
    const lines: string[] = [];
    for (const part of typescript.replace(/\r\n/g, '\n').split(/(\x1b\[\d+A\r\x1b\[J|\n)/)) {
      const up = /^\x1b\[(\d+)A\r\x1b\[J$/.exec(part);
      if (up) lines.splice(lines.length - Number(up[1]));
      else if (part !== '\n' && part !== '') lines.push(part);
    }
    const rows = lines.filter((l) => l.startsWith('✓ hello '));
    expect(rows).toHaveLength(5);
    for (const row of lines.filter((l) => /^[•✓] /.test(l))) expect([...row].length).toBeLessThan(40);
    expect(lines.some((l) => /^hello:1\.0 sha256:/.test(l))).toBe(true); // the result line (stdout) is not cut
  });

  it('TERM=dumb and NO_COLOR get no escape codes', async () => {
    for (const env of [{ TERM: 'dumb' }, { TERM: 'xterm', NO_COLOR: '1' }]) {
      const typescript = await underScript(env, '-v');
      expect(typescript).toContain('[hello linux/arm/v7] writing layer');
      expect(typescript).not.toContain('\x1b');
    }
  });
});
