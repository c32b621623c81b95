/**
 * Every build file shown in docs/*.md (a ```yaml block with `images:`) is
 * checked and planned by the real CLI as written, with only registry hosts
 * substituted (docker.io → the loopback test host): the porting guide's own
 * command `--build-arg VERSION=1.2.3` included, so push: and platformTags:
 * expand from the expanded tag. Blocks without `images:` are fragments.
 * (Only docs/examples/ are built in full: see example.test.ts.)
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ociasm, ROOT, tempDir } from '../harness/util.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const REGISTRY = '127.0.0.1:5000';

const blocks: { doc: string; n: number; text: string }[] = [];
for (const doc of readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort()) {
  const md = readFileSync(path.join(ROOT, 'docs', doc), 'utf8');
  let n = 0;
  for (const m of md.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    if (/^images:/m.test(m[1]!)) blocks.push({ doc, n, text: m[1]!.replace(/\bdocker\.io\/(?!library\/)/g, `${REGISTRY}/`) });
    n++;
  }
}

describe('build files in the docs', () => {
  it('there are some', () => {
    expect(blocks.map((b) => b.doc)).toEqual(expect.arrayContaining(['buildfile.md', 'porting-guide.md', 'toolchain.md']));
  });

  for (const b of blocks) {
    it(`${b.doc} block ${b.n} is valid and plans`, async () => {
      const f = path.join(tmp.dir, `${b.doc}-${b.n}.yaml`);
      writeFileSync(f, b.text);
      const args = /\{\{args\.VERSION\}\}/.test(b.text) ? ['--build-arg', 'VERSION=1.2.3'] : [];
      const r = await ociasm(['validate', '-f', f, '--json', ...args]);
      expect(r.code, r.stderr).toBe(0);
      const plan = JSON.parse(r.stdout);
      for (const img of plan.images) {
        for (const ref of img.push) expect(ref).not.toMatch(/\{|\}/);
      }
    });
  }

  it("the porting guide's push targets take the expanded tag and the registry substitution", async () => {
    const b = blocks.find((x) => x.doc === 'porting-guide.md')!;
    const f = path.join(tmp.dir, 'porting.yaml');
    writeFileSync(f, b.text);
    const plan = JSON.parse((await ociasm(['validate', '-f', f, '--json', '--build-arg', 'VERSION=1.2.3'])).stdout);
    expect(plan.images[0].push).toContain(`${REGISTRY}/skycoin/skycoin:1.2.3`);
    expect(plan.images[0].platforms.map((p: any) => p.pushTag)).toContain('1.2.3-arm32v7');
  });
});
