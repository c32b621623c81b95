/**
 * `ociasm verify` against an image pushed to Debian's docker-registry:
 * an unchanged rebuild matches on every platform; after a one-byte change
 * to one input file it names that file, after a mode change the mode, after
 * an env change the config field, and after the base moved, the base digest.
 */
import { chmodSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { ociasm, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-verify-');
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const env = { ...process.env, OCIASM_CACHE_DIR: j('cache') };
let reg: TestRegistry;
let published: any;

function appFile(envValue = 'one'): string {
  writeFileSync(j('ociasm.yaml'), `
sourceDateEpoch: 1700000000
images:
  - name: app
    tag: "1.0"
    base: oci:base:base:latest
    platforms: [linux/amd64, linux/arm/v7]
    files: [{ src: data, dest: /srv }]
    env: { MODE: ${envValue} }
    push: ["${reg.host}/verify/app:{{tag}}"]
`);
  return j('ociasm.yaml');
}

async function buildBase(content: string): Promise<void> {
  writeFileSync(j('base.yaml'), `
sourceDateEpoch: 1700000000
images:
  - name: base
    platforms: [linux/amd64, linux/arm/v7]
    paths: [{ path: /etc/base, type: file, content: "${content}" }]
`);
  const r = await ociasm(['build', '-f', j('base.yaml'), '-o', j('base')], { env });
  expect(r.code, r.stderr).toBe(0);
}

const verify = (ref = `${reg.host}/verify/app:1.0`) => ociasm(['verify', ref, '-f', j('ociasm.yaml'), '--json'], { env });

beforeAll(async () => {
  reg = await startRegistry();
  mkdirSync(j('data'));
  writeFileSync(j('data', 'config.txt'), 'threshold=5\n');
  writeFileSync(j('data', 'other.txt'), 'unchanged\n');
  await buildBase('base v1\\n');
  const r = await ociasm(['build', '-f', appFile(), '-o', j('oci'), '--push', '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  published = JSON.parse(r.stdout).images[0];
});
afterAll(async () => {
  await reg?.stop();
  tmp.cleanup();
});

describe('ociasm verify', () => {
  it('passes on an unchanged rebuild, per platform, from the registry and from the layout', async () => {
    for (const ref of [`${reg.host}/verify/app:1.0`, `oci:${j('oci')}:app:1.0`]) {
      const r = await verify(ref);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.match).toBe(true);
      expect(out.platforms.map((p: any) => [p.platform, p.published, p.match])).toEqual(
        published.platforms.map((p: any) => [p.platform, p.manifest.digest, true]),
      );
    }
  });

  it('names the file after a one-byte change to one input', async () => {
    writeFileSync(j('data', 'config.txt'), 'threshold=6\n');
    try {
      const r = await verify();
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('VERIFY_MISMATCH');
      const out = JSON.parse(r.stdout);
      for (const p of out.platforms) {
        expect(p.match).toBe(false);
        expect(p.difference).toMatch(/^file \/srv\/config\.txt: content differs/);
      }
    } finally {
      writeFileSync(j('data', 'config.txt'), 'threshold=5\n');
    }
  });

  it('names the mode, the config field and the moved base', async () => {
    chmodSync(j('data', 'other.txt'), 0o600);
    try {
      const r = await verify();
      expect(JSON.parse(r.stdout).platforms[0].difference).toBe('file /srv/other.txt: mode 0644 published, 0600 rebuilt');
    } finally {
      chmodSync(j('data', 'other.txt'), 0o644);
    }
    appFile('two');
    const e = await verify();
    expect(JSON.parse(e.stdout).platforms[0].difference).toBe('config field config.Env: published ["MODE=one"], rebuilt ["MODE=two"]');
    appFile('one');
    await buildBase('base v2\\n');
    const b = await verify();
    expect(b.code).not.toBe(0);
    expect(JSON.parse(b.stdout).platforms[0].difference).toMatch(/^base digest moved: published base:latest@sha256:[a-f0-9]{64}, rebuilt base:latest@sha256:[a-f0-9]{64}$/);
  });
});
