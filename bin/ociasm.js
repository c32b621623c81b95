#!/usr/bin/env -S node --max-semi-space-size=2
// The `ociasm` command. In the npm package dist/ is built before packing and
// this only starts dist/cmd/ociasm.js. In a source checkout (src/ and
// tsconfig.json beside dist/) it first compiles dist/ when it is missing or
// older than the sources, so `npm ci && npx ociasm build …` works on a fresh
// clone without an install script; `npm run build` does the same by hand.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { distIsStale } from './dist-stale.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'cmd', 'ociasm.js');
const tsconfig = path.join(root, 'tsconfig.json');

if (existsSync(tsconfig) && existsSync(path.join(root, 'src'))) {
  if (distIsStale(root)) {
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    if (!existsSync(tsc)) {
      process.stderr.write(`ociasm: ${root} is a source checkout without its dependencies: run \`npm ci\` there first\n`);
      process.exit(1);
    }
    process.stderr.write('ociasm: compiling dist/ from src/ (source checkout; `npm run build` does the same)\n');
    const r = spawnSync(process.execPath, [tsc, '-p', tsconfig], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) {
      process.stderr.write('ociasm: the TypeScript build failed (see above)\n');
      process.exit(1);
    }
  }
}
if (!existsSync(entry)) {
  process.stderr.write(`ociasm: ${entry} is missing; run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
await import(pathToFileURL(entry).href);
