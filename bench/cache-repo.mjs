#!/usr/bin/env node
// `--cache-repo` (docs/cache-repo.md): a cold build against a warm CI rebuild
// with an EMPTY local cache whose layer is in the registry already, whole
// processes side by side, alternating, in one run; plus the diffID pass
// alone (tar + sha256, no compression: what a warm rebuild must still do).
//
//   node bench/cache-repo.mjs [TREE…]     (default: the bench's Go tree)
//
// Each TREE is read in place (never written); outputs, the local caches and a
// loopback docker-registry live in a temp folder, removed at the end.
// Exported as cacheRepoBench() for bench/run.mjs. Prints a table; writes no docs.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, WORK, measure, median } from './lib.mjs';
import { startRegistry } from './setup.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The diffID pass alone, in a process of its own: the tree read as a build reads it, tarred and hashed, nothing compressed. */
const TAR_PASS = `
const [tree] = process.argv.slice(1);
const { newDir } = await import(${JSON.stringify(path.join(HERE, '..', 'dist', 'src', 'rootfs', 'tree.js'))});
const { copyFromHost } = await import(${JSON.stringify(path.join(HERE, '..', 'dist', 'src', 'rootfs', 'host.js'))});
const { tarOfTree, OUT_CHUNK } = await import(${JSON.stringify(path.join(HERE, '..', 'dist', 'src', 'layer', 'tar-of-tree.js'))});
const { HashingTap } = await import(${JSON.stringify(path.join(HERE, '..', 'dist', 'src', 'cas', 'blob-store.js'))});
const root = newDir();
copyFromHost(root, tree + '/', '/app/', { preserveOwner: false, where: 'bench' });
const tap = new HashingTap();
const stats = { entries: 0, files: 0, contentBytes: 0 };
for await (const _ of tap.tap(tarOfTree(root, 0, stats, Buffer.allocUnsafeSlow(OUT_CHUNK)))) {}
console.log(JSON.stringify({ diffId: tap.digest(), size: tap.size, files: stats.files }));
`;

const fmt = (s) => `${s.wall.toFixed(2)} s wall, ${s.cpu.toFixed(2)} s CPU, ${s.rss.toFixed(0)} MiB`;

/** Cold build, cold build writing the cache, warm rebuild from the registry (empty local cache), and the diffID pass, per tree. */
export async function cacheRepoBench({ trees = [path.join(WORK, 'gotree')], rounds = Number(process.env.BENCH_ROUNDS ?? 3) } = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ociasm-bench-cache-repo-'));
  chmodSync(CLI, 0o755);
  const reg = await startRegistry(path.join(tmp, 'registry'));
  const results = [];
  try {
    for (const [t, tree] of trees.entries()) {
      const file = path.join(tmp, `tree${t}.yaml`);
      writeFileSync(file, `images:\n  - name: app\n    tag: "1"\n    files: [{ src: ${JSON.stringify(tree + '/')}, dest: /app/ }]\n`);
      const repo = `${reg.host}/bench/cache${t}`;
      let n = 0;
      const build = async (extra) => {
        const dir = path.join(tmp, `run${n++}`);
        // Through the CLI's shebang, as users run it (it sets the V8 flags the CLI is tuned with).
        const r = await measure(CLI, ['build', '-f', file, '-o', path.join(dir, 'oci'), '--json', '--insecure-registry', reg.host, ...extra], {
          cwd: tmp, env: { OCIASM_CACHE_DIR: path.join(dir, 'cache') },
        });
        rmSync(dir, { recursive: true, force: true });
        return { ...r, json: JSON.parse(r.stdout) };
      };
      // Seed the repository once, so every warm round finds the layer.
      const seed = await build(['--cache-repo', repo]);
      // A miss as CI meets it: a map with entries, none for this tree (another tree's layer), so the diffID pass is paid.
      const tiny = path.join(tmp, 'tiny.yaml');
      writeFileSync(tiny, `images:\n  - name: tiny\n    tag: "1"\n    paths: [{ path: /etc/tiny, type: file, content: "tiny\\n" }]\n`);
      const seedOther = async (r) => {
        const m = await measure(CLI, ['build', '-f', tiny, '-o', path.join(tmp, 'tiny', 'oci'), '--insecure-registry', reg.host, '--cache-repo', r], { cwd: tmp, env: { OCIASM_CACHE_DIR: path.join(tmp, 'tiny', 'cache') } });
        rmSync(path.join(tmp, 'tiny'), { recursive: true, force: true });
        return m;
      };
      const samples = { cold: [], coldWrite: [], warm: [], tarPass: [] };
      for (let i = 0; i < rounds; i++) {
        const order = ['cold', 'warm', 'tarPass', 'coldWrite'];
        for (let k = 0; k < order.length; k++) {
          const which = order[(k + i) % order.length];
          if (which === 'cold') samples.cold.push(await build([]));
          if (which === 'coldWrite') {
            const other = `${reg.host}/bench/miss${t}-${i}`;
            await seedOther(other);
            const r = await build(['--cache-repo', other]);
            if (r.json.cacheRepo.misses !== 1 || r.json.cacheRepo.written !== 1) throw new Error(`miss build: ${JSON.stringify(r.json.cacheRepo)}`);
            samples.coldWrite.push(r);
          }
          if (which === 'warm') {
            const r = await build(['--cache-repo', repo]);
            if (r.json.cacheRepo.hits !== 1 || r.json.cacheRepo.compressedLayers !== 0) throw new Error(`warm build missed: ${JSON.stringify(r.json.cacheRepo)}`);
            if (r.json.images[0].index.digest !== seed.json.images[0].index.digest) throw new Error('warm build gave another digest');
            samples.warm.push(r);
          }
          if (which === 'tarPass') samples.tarPass.push(await measure(process.execPath, ['--input-type=module', '-e', TAR_PASS, tree], { cwd: tmp }));
        }
      }
      const med = (xs) => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)), rss: median(xs.map((x) => x.rss)) });
      const row = { tree, layer: seed.json.images[0].platforms[0].layer, ...Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, med(v)])) };
      results.push(row);
      console.log(`\n${tree}: layer ${row.layer.uncompressedSize} bytes tar → ${row.layer.size} bytes gzip, ${row.layer.files} files; medians of ${rounds}`);
      console.log(`  cold build                         ${fmt(row.cold)}`);
      console.log(`  miss: cold + diffID pass + write   ${fmt(row.coldWrite)}   (${(row.coldWrite.wall / row.cold.wall).toFixed(2)}× wall, ${(row.coldWrite.cpu / row.cold.cpu).toFixed(2)}× CPU of cold)`);
      console.log(`  warm from registry, empty cache    ${fmt(row.warm)}   (${(row.warm.wall / row.cold.wall).toFixed(2)}× wall, ${(row.warm.cpu / row.cold.cpu).toFixed(2)}× CPU of cold)`);
      console.log(`  diffID pass alone (tar + sha256)   ${fmt(row.tarPass)}   (${(row.tarPass.wall / row.cold.wall).toFixed(2)}× wall, ${(row.tarPass.cpu / row.cold.cpu).toFixed(2)}× CPU of cold)`);
    }
  } finally {
    reg.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const trees = process.argv.slice(2).map((t) => path.resolve(t));
  await cacheRepoBench(trees.length ? { trees } : {});
}
