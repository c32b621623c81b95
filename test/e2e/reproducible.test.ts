/**
 * The same build file and inputs give a byte-identical index digest whatever
 * the host mtimes and atimes, umask, TZ, current directory, directory listing
 * order, CPU count, and whether root or an unprivileged user builds.
 */
import { chmodSync, chownSync, cpSync, mkdirSync, readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInputs } from '../harness/inputs.js';
import { CLI, cliForNobody, must, ociasm, readLayoutIndex, runAsNobody, tempDir } from '../harness/util.js';

const tmp = tempDir();
let first = '';

function touchAll(dir: string, when: Date): void {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) touchAll(p, when);
    if (st && (st.isFile() || st.isDirectory())) utimesSync(p, when, when);
  }
}

async function buildDigest(file: string, out: string, extraEnv: Record<string, string> = {}, cwd = tmp.dir): Promise<string> {
  const r = await ociasm(['build', '-f', file, '-o', out, '--json'], { cwd, env: { ...process.env, ...extraEnv } });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).images[0].index.digest;
}

beforeAll(async () => {
  chmodSync(tmp.dir, 0o755);
  const file = await makeInputs(path.join(tmp.dir, 'a'));
  first = await buildDigest(file, path.join(tmp.dir, 'out1'), { TZ: 'UTC' });
});
afterAll(() => tmp.cleanup());

describe('reproducibility', () => {
  it('gives the same digest after touching every input, under another umask, TZ, cwd and one CPU', async () => {
    const src = path.join(tmp.dir, 'a');
    touchAll(src, new Date('2031-05-06T07:08:09Z'));
    const out = path.join(tmp.dir, 'out2');
    const script = `umask 0077 && cd / && exec taskset -c 0 "${process.execPath}" "${CLI}" build -f "${src}/ociasm.yaml" -o "${out}" --json`;
    const r = await must('sh', ['-c', script], { env: { ...process.env, TZ: 'Pacific/Kiritimati' } });
    expect(JSON.parse(r).images[0].index.digest).toBe(first);
  });

  it('gives the same digest from fresh inputs: new inodes, mtimes and creation order', async () => {
    const copy = path.join(tmp.dir, 'b');
    await makeInputs(copy); // fresh files: new inodes, new mtimes, new directory hashes
    cpSync(path.join(tmp.dir, 'a', 'ociasm.yaml'), path.join(copy, 'ociasm.yaml'));
    expect(await buildDigest(path.join(copy, 'ociasm.yaml'), path.join(tmp.dir, 'out3'), { TZ: 'America/Los_Angeles' })).toBe(first);
  });

  it('gives the same digest when an unprivileged user builds', async () => {
    const out = path.join(tmp.dir, 'out-nobody');
    mkdirSync(out);
    chownSync(out, 65534, 65534);
    const cli = await cliForNobody(tmp.dir);
    const r = await runAsNobody(process.execPath, [cli, 'build', '-f', path.join(tmp.dir, 'a', 'ociasm.yaml'), '-o', out, '--json'], {
      cwd: '/', env: { ...process.env, HOME: '/nonexistent' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).images[0].index.digest).toBe(first);
    expect(statSync(path.join(out, 'index.json')).uid).toBe(65534);
  });

  it('changes the digest when the source date epoch changes', async () => {
    const other = await buildDigest(path.join(tmp.dir, 'a', 'ociasm.yaml'), path.join(tmp.dir, 'out4'), { SOURCE_DATE_EPOCH: '1' });
    expect(other).not.toBe(first);
    expect(readLayoutIndex(path.join(tmp.dir, 'out4')).manifests[0].digest).toBe(other);
  });
});
