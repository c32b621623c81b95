#!/usr/bin/env node
// Peak RSS of `ociasm build` for a tree of about a million entries (700,000
// empty files in ~276,000 folders, node_modules-shaped): the in-memory
// tree's cost per entry. `npm run bench` runs it (section 6; BENCH_MILLION=0
// skips it); alone: npx tsc -p tsconfig.json && node bench/million.mjs
// Prints one JSON line: the build's wall, CPU and peak RSS, a one-file build's
// peak RSS, RSS per entry, and the live heap per entry of the tree alone
// (`copyFromHost` in a `node --expose-gc` child, heap used after a forced GC
// with the tree held, minus before).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CLI, ROOT, WORK, log, measure } from './lib.mjs';
import { generateTree } from './node-modules-tree.mjs';

if (process.argv[2] === '--heap') {
  // The child: node --expose-gc bench/million.mjs --heap DIR
  const { copyFromHost } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'rootfs', 'host.js')).href);
  const { newDir, countNodes } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'rootfs', 'tree.js')).href);
  const settle = () => { for (let i = 0; i < 4; i++) globalThis.gc(); return process.memoryUsage().heapUsed; };
  const before = settle();
  const root = newDir();
  copyFromHost(root, process.argv[3], '/app/', { preserveOwner: false, where: 'bench' });
  const after = settle();
  const entries = countNodes(root);
  console.log(JSON.stringify({ entries, heapBytes: after - before, heapBytesPerEntry: Math.round((after - before) / entries), keep: root !== null }));
  process.exit(0);
}

mkdirSync(WORK, { recursive: true });
log('generating the tree (once)');
generateTree(path.join(WORK, 'million'), 700000, { empty: true });
writeFileSync(path.join(WORK, 'million.yaml'), 'images:\n  - name: m\n    tag: "1"\n    files: [{ src: million/, dest: /app/ }]\n');
const tiny = path.join(WORK, 'tiny');
mkdirSync(tiny, { recursive: true });
writeFileSync(path.join(tiny, 'a'), 'a\n');
writeFileSync(path.join(WORK, 'tiny.yaml'), 'images:\n  - name: t\n    tag: "1"\n    files: [{ src: tiny/, dest: /app/ }]\n');
const build = async (file) => {
  const out = path.join(WORK, 'out', 'million');
  rmSync(out, { recursive: true, force: true });
  const r = await measure(CLI, ['build', '-f', file, '-o', out, '--json', '--no-layer-cache']);
  return { ...r, entries: JSON.parse(r.stdout).images[0].platforms[0].layer.entries };
};
const base = await build('tiny.yaml');
const big = await build('million.yaml');
const perEntry = ((big.rss - base.rss) * 2 ** 20) / big.entries;
const heap = JSON.parse(execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--heap', path.join(WORK, 'million')], { encoding: 'utf8' }));
console.log(JSON.stringify({
  entries: big.entries, wall: big.wall, cpu: big.cpu, peakRssMiB: big.rss, tinyBuildRssMiB: base.rss, bytesPerEntry: Math.round(perEntry),
  treeEntries: heap.entries, heapBytesPerEntry: heap.heapBytesPerEntry,
}));
