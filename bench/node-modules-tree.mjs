// A deterministic node_modules-shaped tree: many small source files in
// nested packages. Same arguments, same bytes and names on every machine
// (an LCG, no Math.random, no clock). Used by `npm run bench` (200k files)
// and for profiling (any count): `node bench/node-modules-tree.mjs DIR FILES [empty]`.
import { mkdirSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WORDS = ('function return const let var if else for while module exports require this prototype ' +
  'object string number undefined null true false new class extends import from export default async await ' +
  'value key options callback error result data index length push map filter reduce forEach Promise resolve ' +
  'reject then catch throw typeof instanceof arguments self window document process env NODE_ENV').split(' ');
const PUNCT = ['(', ')', '{', '}', ';', ',', '.', ' = ', ' === ', ' && ', ' || ', '\n', '\n  ', '\n    ', ': ', "'", '[', ']'];
const NAMES = ['lodash', 'core', 'util', 'parse', 'string', 'array', 'is', 'get', 'set', 'fs', 'path', 'glob', 'minimatch',
  'semver', 'chalk', 'debug', 'ms', 'inherits', 'once', 'wrappy', 'color', 'convert', 'name', 'ansi', 'styles', 'regex',
  'escape', 'json', 'schema', 'ajv', 'uri', 'punycode', 'buffer', 'stream', 'readable', 'safe', 'types', 'node', 'babel',
  'plugin', 'preset', 'helper', 'runtime', 'webpack', 'loader', 'postcss', 'value', 'parser', 'esbuild', 'rollup'];
const FILES = ['index.js', 'README.md', 'LICENSE', 'package.json', 'CHANGELOG.md', 'index.d.ts'];
const SUB = ['lib', 'dist', 'src', 'esm', 'cjs', 'build', 'types'];

function lcg(seed) {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
}

/** Text of `size` bytes, JS-like and repetitive. */
function text(rnd, size, scratch) {
  let n = 0;
  while (n < size) {
    const r = rnd();
    const w = r % 3 === 0 ? PUNCT[r % PUNCT.length] : WORDS[(r >>> 4) % WORDS.length];
    n += scratch.write(w, n, 'latin1');
    if ((r & 15) === 0) n += scratch.write(String(r % 10007), n, 'latin1');
  }
  return scratch.subarray(0, size);
}

/** File size: mostly small (a few hundred bytes to a few KiB), a long tail. */
function fileSize(rnd) {
  const r = rnd() % 1000;
  if (r < 550) return 100 + (rnd() % 700);
  if (r < 900) return 800 + (rnd() % 1200);
  if (r < 990) return 2000 + (rnd() % 4000);
  return 6000 + (rnd() % 24000);
}

/** `empty`: every file 0 bytes (the 1M-entry memory case: the tree, not the contents). */
export function generateTree(dir, files, { seed = 1, empty = false } = {}) {
  const stamp = path.join(dir, '.ociasm-bench-tree');
  const want = `${files} ${seed} ${empty} v1`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return dir;
  rmSync(dir, { recursive: true, force: true });
  const rnd = lcg(seed);
  const scratch = Buffer.alloc(1 << 17);
  let made = 0;
  let pkg = 0;
  const made_dirs = new Set();
  const mk = (d) => { if (!made_dirs.has(d)) { mkdirSync(d, { recursive: true }); made_dirs.add(d); } };
  while (made < files) {
    // Packages nest: a third live in another package's node_modules.
    const name = `${NAMES[rnd() % NAMES.length]}-${NAMES[rnd() % NAMES.length]}-${pkg++}`;
    const depth = rnd() % 3 === 0 && pkg > 10 ? 1 + (rnd() % 2) : 0;
    let base = path.join(dir, 'node_modules');
    for (let d = 0; d < depth; d++) base = path.join(base, `${NAMES[rnd() % NAMES.length]}-${NAMES[rnd() % NAMES.length]}-${rnd() % pkg}`, 'node_modules');
    const root = path.join(base, name);
    const count = Math.min(files - made, 3 + (rnd() % 40));
    for (let i = 0; i < count; i++) {
      let file;
      if (i < FILES.length) file = path.join(root, FILES[i]);
      else {
        const sub = path.join(root, SUB[rnd() % SUB.length], ...(rnd() % 10 === 0 ? [NAMES[rnd() % 8]] : []));
        file = path.join(sub, `${NAMES[rnd() % NAMES.length]}-${i}${rnd() % 5 === 0 ? '.d.ts' : '.js'}`);
      }
      mk(path.dirname(file));
      writeFileSync(file, empty ? scratch.subarray(0, 0) : text(rnd, fileSize(rnd), scratch));
      made++;
    }
  }
  writeFileSync(stamp, want);
  return dir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, files, mode] = process.argv.slice(2);
  const t0 = Date.now();
  generateTree(path.resolve(dir), Number(files ?? 200000), { empty: mode === 'empty' });
  process.stderr.write(`generated ${files} files in ${Date.now() - t0} ms\n`);
}
