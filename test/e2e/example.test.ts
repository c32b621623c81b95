/** The README's first command builds the embedded example, to a digest recorded here. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { must, ociasm, ROOT, tempDir } from '../harness/util.js';

// Changing this digest means every user's images change: only on purpose, with a note in docs/.
const EXAMPLE_INDEX_DIGEST = 'sha256:7b569c0a547879d632a9563563c8e593eceebdbe12b89b8b97e8e6dd8c22ca89';
const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('embedded example', () => {
  it('is the README\'s first command, and builds offline to the recorded digest', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const firstCommand = /```sh\n([^\n]+)/.exec(readme)![1]!;
    expect(firstCommand).toContain('ociasm build -f docs/examples/hello/ociasm.yaml');
    const out = path.join(tmp.dir, 'oci');
    const r = await ociasm(['build', '-f', path.join(ROOT, 'docs/examples/hello/ociasm.yaml'), '-o', out], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`hello:1.0 ${EXAMPLE_INDEX_DIGEST} (linux/amd64, linux/arm64/v8, linux/arm/v7, linux/arm/v6, linux/arm/v5)\n`);
    const raw = JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${out}:hello:1.0`]));
    expect(raw.manifests).toHaveLength(5);
  });
});
