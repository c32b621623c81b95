/**
 * The npm package: what `npm pack` puts in the tarball (no src/, test/,
 * bench/; LICENSE, dist/ with .d.ts, docs/, schema/), no install script, the
 * `exports` map used by a consumer (`import { build } from 'ociasm'`, types
 * checked by tsc, deep imports refused), and the launcher that compiles dist/
 * in a fresh source checkout so `npx ociasm build …` works without `prepare`.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { must, ROOT, run, tempDir } from '../harness/util.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('npm package', () => {
  it('packs dist/, docs/, schema/ and LICENSE, not the sources or tests, and has no install script', async () => {
    const [packed] = JSON.parse(await must('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT }));
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    for (const f of ['LICENSE', 'README.md', 'bin/ociasm.js', 'bin/dist-stale.js', 'dist/cmd/ociasm.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'schema/ociasm.schema.json', 'docs/library.md', 'docs/schema/build-result.schema.json']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^(src|test|bench|fixtures|scripts)\//.test(f))).toEqual([]);
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0, January 2004');
    for (const s of ['prepare', 'preinstall', 'install', 'postinstall']) expect(pkg.scripts[s]).toBeUndefined();
    expect(pkg.scripts.prepack).toBe('npm run build');
  });

  it('a consumer imports the library by name, with types; deep imports are refused', async () => {
    const app = path.join(tmp.dir, 'app');
    mkdirSync(path.join(app, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, path.join(app, 'node_modules', 'ociasm'));
    writeFileSync(path.join(app, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(path.join(app, 'use.mjs'), `
import { build, loadBuildFile, createReporter } from 'ociasm';
const reporter = createReporter({ progress: 'quiet' }, { stdout: process.stdout, stderr: process.stderr });
const buildFile = await loadBuildFile(${JSON.stringify(path.join(ROOT, 'docs/examples/hello/ociasm.yaml'))});
const r = await build({ buildFile, output: 'oci', env: { ...process.env, OCIASM_CACHE_DIR: 'cache' }, reporter, platforms: ['linux/amd64'] });
reporter.close();
console.log(r.images[0].ref, r.images[0].index.digest);
`);
    const out = await must(process.execPath, ['use.mjs'], { cwd: app });
    expect(out).toMatch(/^hello:1\.0 sha256:[0-9a-f]{64}\n$/);
    expect(JSON.parse(await must('skopeo', ['inspect', `oci:${path.join(app, 'oci')}:hello:1.0`])).Architecture).toBe('amd64');
    const deep = await run(process.execPath, ['--input-type=module', '-e', "await import('ociasm/dist/src/errors.js')"], { cwd: app });
    expect(deep.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');

    writeFileSync(path.join(app, 'typed.ts'), `
import { build, type BuildResult, type BuildOptions, OciasmError } from 'ociasm';
const opts: Partial<BuildOptions> = { output: 'oci' };
const f: (o: BuildOptions) => Promise<BuildResult> = build;
const n: number = 'x' as unknown as BuildResult['images'][number]['platforms'][number]['layer']['uncompressedSize'];
export { opts, f, n, OciasmError };
`);
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), '--skipLibCheck', 'typed.ts'];
    const typed = await run(process.execPath, [tsc, ...args], { cwd: app });
    expect(typed.code, typed.stdout).toBe(0);
    writeFileSync(path.join(app, 'typed.ts'), "import { build } from 'ociasm';\nbuild({ output: 1 });\n");
    const wrong = await run(process.execPath, [tsc, ...args], { cwd: app });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toContain('typed.ts');
  }, 300_000);

  it('in a fresh source checkout the ociasm command compiles dist/ first, once, and again after a source change', async () => {
    // The launcher as shipped, on a checkout whose sources are one small CLI (compiling ours takes minutes on a loaded 2-core machine).
    const clone = path.join(tmp.dir, 'clone');
    for (const d of ['bin', 'src', 'cmd']) mkdirSync(path.join(clone, d), { recursive: true });
    for (const f of ['ociasm.js', 'dist-stale.js']) copyFileSync(path.join(ROOT, 'bin', f), path.join(clone, 'bin', f));
    copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(clone, 'tsconfig.json'));
    writeFileSync(path.join(clone, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(path.join(clone, 'src', 'greet.ts'), "export const greet = (who: string): string => `built ${who}`;\n");
    writeFileSync(path.join(clone, 'cmd', 'ociasm.ts'), "import { greet } from '../src/greet.js';\nconsole.log(greet(process.argv[2] ?? ''));\n");
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
    const launch = () => run(process.execPath, [path.join(clone, 'bin', 'ociasm.js'), 'once']);
    const first = await launch();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('ociasm: compiling dist/ from src/');
    expect(first.stdout).toBe('built once\n');
    const second = await launch();
    expect([second.stdout, second.stderr]).toEqual(['built once\n', '']);
    const later = new Date(Date.now() + 5000);
    writeFileSync(path.join(clone, 'src', 'greet.ts'), "export const greet = (who: string): string => `rebuilt ${who}`;\n");
    utimesSync(path.join(clone, 'src', 'greet.ts'), later, later);
    const third = await launch();
    expect(third.stderr).toContain('compiling dist/');
    expect(third.stdout).toBe('rebuilt once\n');
    rmSync(path.join(clone, 'node_modules'));
    rmSync(path.join(clone, 'dist'), { recursive: true });
    const noDeps = await launch();
    expect(noDeps.code).toBe(1);
    expect(noDeps.stderr).toContain('run `npm ci` there first');
  }, 300_000);
});
