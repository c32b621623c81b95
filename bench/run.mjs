#!/usr/bin/env node
// `npm run bench`: ociasm against umoci, tar|gzip, tar|pigz and skopeo, whole
// processes side by side, alternating, BENCH_ROUNDS rounds (default 3);
// medians and ratios go to docs/bench.md (see bench/analysis.md for the why).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, CORES, ROOT, WORK, cpuModel, ensureTools, loadAverage, log, measure, median, sh, versions } from './lib.mjs';
import { goTree, layoutLayerSize, mixedTree, smallInputs, startRegistry, treeStats } from './setup.mjs';
import { profileSummary } from './profile.mjs';
import { generateTree } from './node-modules-tree.mjs';
import { pushStartup } from './push-startup.mjs';
import { cacheRepoBench } from './cache-repo.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,3,4,5,6,9').split(',').map(Number);
const CACHE = path.join(WORK, 'ociasm-cache');
const ENV = { OCIASM_CACHE_DIR: CACHE };
const MiB = 1 << 20;

ensureTools();
sh('npx', ['tsc', '-p', path.join(ROOT, 'tsconfig.json')], { stdio: 'inherit' }); // never measure a stale dist/
mkdirSync(WORK, { recursive: true });
const loadBefore = loadAverage();
const started = Date.now();
const gotree = goTree();
const tree = treeStats(gotree);
writeFileSync(path.join(WORK, 'go.yaml'), `images:\n  - name: go\n    tag: "1"\n    files: [{ src: gotree/, dest: /usr/local/go/ }]\n`);
const fresh = (name) => { const d = path.join(WORK, 'out', name); rmSync(d, { recursive: true, force: true }); mkdirSync(path.dirname(d), { recursive: true }); return d; };
// Run the CLI as users do, through its shebang (which sets the V8 flags it is tuned with).
chmodSync(CLI, 0o755);
const ociasm = (args, env = {}) => measure(CLI, args, { env: { ...ENV, ...env } });
const layerOf = (r) => JSON.parse(r.stdout).images[0].platforms[0].layer;
const TAR = `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C gotree -cf - .`;
const NM_FILES = Number(process.env.BENCH_NM_FILES ?? 200000);
const NM_LEVELS = (process.env.BENCH_NM_LEVELS ?? '1,3').split(',').filter(Boolean).map(Number);

/** Reads a tree once (tar to /dev/null) so the first command of a section does not pay for a cold page cache. */
function warmPageCache(tar) {
  sh('sh', ['-c', `${tar} | cat > /dev/null`], { cwd: WORK }); // through cat: GNU tar skips reading files when its output is /dev/null
}

/** Runs each command once per round, rotating the order, and collects samples. */
async function alternate(commands) {
  const samples = Object.fromEntries(commands.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < commands.length; i++) {
      const c = commands[(i + round) % commands.length];
      log(`round ${round + 1}/${ROUNDS}: ${c.name}`);
      samples[c.name].push(await c.run());
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, {
    wall: median(s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)), rss: median(s.map((x) => x.rss)),
    maxRss: Math.max(...s.map((x) => x.rss)), size: s[0].size, extra: s.map((x) => x.extra).filter(Boolean),
  }]));
}

/** One tree's side-by-side commands: ociasm (gzip and zstd) against umoci insert, tar | pigz and, if asked, tar | zstd. */
function treeRuns({ key, yaml, dir, dest, tar, zstdCli }) {
  const runs = [
    { name: 'ociasm build', run: async () => {
      const r = await ociasm(['build', '-f', yaml, '-o', fresh(`${key}-ociasm`), '--json', '--no-layer-cache']);
      return { ...r, size: layerOf(r).size, extra: layerOf(r).digest };
    } },
    { name: 'umoci insert', run: async () => {
      const out = fresh(`${key}-umoci`);
      sh('umoci', ['init', '--layout', out]);
      sh('umoci', ['new', '--image', `${out}:${key}`]);
      const r = await measure('umoci', ['insert', '--image', `${out}:${key}`, dir, dest]);
      return { ...r, size: layoutLayerSize(out) };
    } },
    { name: `tar | pigz -6 -n -p ${CORES}`, run: async () => {
      const out = `${fresh(`${key}-pigz`)}.tgz`;
      const r = await measure('sh', ['-c', `${tar} | pigz -6 -n -p ${CORES} > ${out}`]);
      return { ...r, size: statSync(out).size };
    } },
    { name: 'ociasm build --compression zstd', run: async () => {
      const r = await ociasm(['build', '-f', yaml, '-o', fresh(`${key}-ociasm-zstd`), '--json', '--no-layer-cache', '--compression', 'zstd']);
      return { ...r, size: layerOf(r).size, extra: layerOf(r).digest };
    } },
  ];
  if (zstdCli) {
    runs.push({ name: `tar | zstd -3 -T${CORES}`, run: async () => {
      const out = `${fresh(`${key}-zstd`)}.tar.zst`;
      const r = await measure('sh', ['-c', `${tar} | zstd -q -3 -T${CORES} > ${out}`]);
      return { ...r, size: statSync(out).size };
    } });
  }
  return runs;
}

/** ociasm alone at each gzip level, one run each, layer cache off. */
async function levelSweep(yaml, key, levels) {
  const out = [];
  for (const level of levels) {
    log(`${key}: gzip level ${level}`);
    const r = await ociasm(['build', '-f', yaml, '-o', fresh(`${key}-level${level}`), '--json', '--no-layer-cache', '--compression-level', String(level)]);
    out.push({ level, wall: r.wall, cpu: r.cpu, rss: r.rss, size: layerOf(r).size });
  }
  return out;
}

// 1 + 2: layer build, and the warm rebuild right after each cold ociasm build.
const warm = [];
warmPageCache(TAR);
const layer = await alternate([
  { name: 'ociasm build', run: async () => {
    const out = fresh('ociasm');
    const r = await ociasm(['build', '-f', 'go.yaml', '-o', out, '--json']);
    const w = await ociasm(['build', '-f', 'go.yaml', '-o', out, '--json']);
    if (!layerOf(w).cached || layerOf(w).digest !== layerOf(r).digest) throw new Error('warm rebuild did not reuse the layer');
    warm.push({ ...w, ratio: w.wall / r.wall });
    return { ...r, size: layerOf(r).size, extra: layerOf(r).digest };
  } },
  { name: 'umoci insert', run: async () => {
    const out = fresh('umoci');
    sh('umoci', ['init', '--layout', out]);
    sh('umoci', ['new', '--image', `${out}:go`]);
    const r = await measure('umoci', ['insert', '--image', `${out}:go`, 'gotree', '/usr/local/go']);
    return { ...r, size: layoutLayerSize(out) };
  } },
  { name: 'tar | gzip -6 -n', run: async () => {
    const out = `${fresh('gzip')}.tgz`;
    const r = await measure('sh', ['-c', `${TAR} | gzip -6 -n > ${out}`]);
    return { ...r, size: statSync(out).size };
  } },
  { name: `tar | pigz -6 -n -p ${CORES}`, run: async () => {
    const out = `${fresh('pigz')}.tgz`;
    const r = await measure('sh', ['-c', `${TAR} | pigz -6 -n -p ${CORES} > ${out}`]);
    return { ...r, size: statSync(out).size };
  } },
  { name: 'ociasm build --compression zstd', run: async () => {
    const r = await ociasm(['build', '-f', 'go.yaml', '-o', fresh('ociasm-zstd'), '--json', '--no-layer-cache', '--compression', 'zstd']);
    return { ...r, size: layerOf(r).size, extra: layerOf(r).digest };
  } },
  { name: `tar | zstd -3 -T${CORES}`, run: async () => {
    const out = `${fresh('zstd')}.tar.zst`;
    const r = await measure('sh', ['-c', `${TAR} | zstd -q -3 -T${CORES} > ${out}`]);
    return { ...r, size: statSync(out).size };
  } },
]);
const digests = new Set(layer['ociasm build'].extra);
const zstdDigests = new Set(layer['ociasm build --compression zstd'].extra);

// 1b: the mixed tree (Python, GCC, locales, Perl, valgrind: bench/setup.mjs mixedTree).
const mixedDir = mixedTree();
const mixedStats = treeStats(mixedDir);
writeFileSync(path.join(WORK, 'mixed.yaml'), `images:\n  - name: mixed\n    tag: "1"\n    files: [{ src: mixedtree/, dest: /opt/mixed/ }]\n`);
const MIXTAR = `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C mixedtree -cf - .`;
warmPageCache(MIXTAR);
const mixed = await alternate(treeRuns({ key: 'mixed', yaml: 'mixed.yaml', dir: 'mixedtree', dest: '/opt/mixed', tar: MIXTAR, zstdCli: true }));

const MIXED_LEVELS = (process.env.BENCH_MIXED_LEVELS ?? '4').split(',').filter(Boolean).map(Number);
const mixedSweep = await levelSweep('mixed.yaml', 'mixed', MIXED_LEVELS);
log('profiling one mixed-tree build');
const mixedProfile = await profileSummary(CLI, ['build', '-f', 'mixed.yaml', '-o', fresh('mixed-profile'), '--no-layer-cache'], WORK, ENV);

// 5: many small files, a node_modules-shaped tree generated here (deterministic).
log(`node_modules tree: ${NM_FILES} files`);
const t0nm = Date.now();
generateTree(path.join(WORK, 'nmtree'), NM_FILES);
const nmGenSeconds = (Date.now() - t0nm) / 1000;
const nmStats = treeStats(path.join(WORK, 'nmtree'));
writeFileSync(path.join(WORK, 'nm.yaml'), `images:\n  - name: nm\n    tag: "1"\n    files: [{ src: nmtree/, dest: /app/ }]\n`);
const NMTAR = `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C nmtree -cf - .`;
warmPageCache(NMTAR);
const nm = await alternate(treeRuns({ key: 'nm', yaml: 'nm.yaml', dir: 'nmtree', dest: '/app', tar: NMTAR, zstdCli: false }));
const nmSweep = await levelSweep('nm.yaml', 'nm', NM_LEVELS);
log('profiling one node_modules build');
const nmProfile = await profileSummary(CLI, ['build', '-f', 'nm.yaml', '-o', fresh('nm-profile'), '--no-layer-cache'], WORK, ENV);

// Compression level sweep (ociasm only, one run each): picks the default.
const sweep = await levelSweep('go.yaml', 'go', LEVELS);

// 3: push, ociasm vs skopeo copy, each into a fresh repository.
const pushLayout = path.join(WORK, 'out', 'ociasm');
const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
const canPush = /^\s+push\b/m.test(help);
const registry = await startRegistry();
let push = null;
try {
  let n = 0;
  const cmds = [{ name: 'skopeo copy', run: async () => {
    for (const f of ['/var/lib/containers/cache', path.join(os.homedir(), '.local/share/containers/cache')]) rmSync(f, { recursive: true, force: true });
    return measure('skopeo', ['copy', '--dest-tls-verify=false', `oci:${pushLayout}:go:1`, `docker://${registry.host}/skopeo${n++}/go:1`]);
  } }];
  if (canPush) {
    cmds.push({ name: 'ociasm push', run: () => ociasm(['push', `${pushLayout}:go:1`, `${registry.host}/ociasm${n++}/go:1`]) });
  }
  push = await alternate(cmds);
  if (canPush) push.startup = await pushStartup(`${pushLayout}:go:1`, Math.max(3, ROUNDS));
} catch (e) {
  push = { error: String(e.message ?? e).split('\n').slice(0, 3).join(' ') };
} finally {
  registry.stop();
}

// 4: small image, five platforms, base in a local layout.
const smallFile = await smallInputs(gotree);
const small = await alternate([{ name: 'ociasm build (5 platforms)', run: async () => {
  const r = await ociasm(['build', '-f', smallFile, '-o', fresh('small'), '--json']);
  return { ...r, size: JSON.parse(r.stdout).images[0].platforms.reduce((s, p) => s + p.layer.size, 0) };
} }]);

// 6: about a million entries (bench/million.mjs, its own process): peak RSS and bytes per entry.
let million = null;
if (process.env.BENCH_MILLION !== '0') {
  log('a million entries (bench/million.mjs)');
  const m = spawnSync(process.execPath, [path.join(ROOT, 'bench', 'million.mjs')], { encoding: 'utf8', env: { ...process.env, ...ENV }, maxBuffer: 64 * MiB });
  const line = m.stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  million = m.status === 0 && line ? JSON.parse(line) : { error: (m.stderr || m.stdout).trim().split('\n').slice(-3).join(' ') };
}

// 7: --cache-repo (bench/cache-repo.mjs, self-contained): cold build against a warm rebuild from the registry with an
// empty local cache, and the diffID pass alone; results in `cacheRepo` (and WORK/cache-repo.json) for the report.
let cacheRepo = null;
if (process.env.BENCH_CACHE_REPO !== '0') {
  log('--cache-repo: cold vs warm from the registry, empty local cache (bench/cache-repo.mjs)');
  try {
    cacheRepo = await cacheRepoBench({ trees: [gotree], rounds: ROUNDS });
  } catch (e) {
    cacheRepo = { error: String(e.message ?? e).split('\n').slice(0, 3).join(' ') };
  }
  writeFileSync(path.join(WORK, 'cache-repo.json'), JSON.stringify(cacheRepo, null, 2) + '\n');
}

// A CPU profile of one cold layer build: where the time goes.
log('profiling one cold build');
const profile = await profileSummary(CLI, ['build', '-f', 'go.yaml', '-o', fresh('profile'), '--no-layer-cache'], WORK, ENV);

writeReport({ cacheRepo, mixed, mixedStats, mixedSweep, mixedProfile, million, layer, warm, sweep, push, canPush, small, profile, digests, zstdDigests, nm, nmSweep, nmProfile, nmStats, nmGenSeconds });
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote docs/bench.md`);

function writeReport(r) {
  const f = (x, d = 2) => x.toFixed(d);
  const mb = (b) => `${f(b / 1e6, 1)} MB`;
  const verdict = (ok) => (ok ? '**met**' : '**missed**');
  const L = r.layer;
  const o = L['ociasm build'];
  const um = L['umoci insert'];
  const pz = L[`tar | pigz -6 -n -p ${CORES}`];
  const warmWall = median(r.warm.map((w) => w.wall));
  const warmRatio = median(r.warm.map((w) => w.ratio));
  const lines = [];
  const row = (cells) => lines.push(`| ${cells.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`);
  lines.push('# Benchmarks', '', '<!-- generated by `npm run bench` (bench/run.mjs); the analysis below comes from bench/analysis.md -->', '');
  lines.push(`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${CORES} cores (${cpuModel()}), ${f(os.totalmem() / 2 ** 30, 0)} GiB. ` +
    `Load average (1/5/15 min) before: ${loadBefore}, after: ${loadAverage()}. ${ROUNDS} rounds, commands alternated, medians shown.`, '');
  lines.push('Tools: ' + Object.entries(versions()).map(([k, v]) => `${k}: ${v}`).join('; ') + '.', '');
  lines.push(`## 1. Layer build: the Go toolchain tree`, '', `${tree.entries} entries, ${tree.files} files, ${mb(tree.bytes)} (Debian golang-go, /usr/lib/go-X with /usr/share/go-X resolved into one tree).`, '');
  row(['command', 'wall s', 'CPU s', 'peak RSS MiB (median / max)', 'compressed', 'wall vs ociasm']);
  row(['---', '---:', '---:', '---:', '---:', '---:']);
  for (const [name, s] of Object.entries(L)) {
    row([name, f(s.wall), f(s.cpu), `${f(s.rss, 0)} / ${f(s.maxRss, 0)}`, mb(s.size), `${f(s.wall / o.wall)}×`]);
  }
  lines.push('', `ociasm's layer digest was the same in every round: ${r.digests.size === 1 ? 'yes' : `NO (${[...r.digests].join(', ')})`}; ` +
    `its zstd layer's too: ${r.zstdDigests.size === 1 ? 'yes' : `NO (${[...r.zstdDigests].join(', ')})`}.`, '');
  const M = r.mixed;
  const mo = M['ociasm build'];
  const mu = M['umoci insert'];
  const mz = M['ociasm build --compression zstd'];
  lines.push(`## 1b. Layer build: a mixed tree`, '', `${r.mixedStats.entries} entries, ${r.mixedStats.files} files, ${mb(r.mixedStats.bytes)}: Python 3 (standard library and dist-packages), GCC's libraries and libexec, the locale catalogues, Perl, valgrind's tools and glibc's i18n data, copied from this machine's Debian (bench/setup.mjs mixedTree). Layer cache off.`, '');
  row(['command', 'wall s', 'CPU s', 'peak RSS MiB (median / max)', 'compressed', 'wall vs umoci']);
  row(['---', '---:', '---:', '---:', '---:', '---:']);
  for (const [name, s] of Object.entries(M)) row([name, f(s.wall), f(s.cpu), `${f(s.rss, 0)} / ${f(s.maxRss, 0)}`, mb(s.size), `${f(s.wall / mu.wall)}×`]);
  const mixedDigests = new Set(mo.extra);
  const mixedZstdDigests = new Set(mz.extra);
  lines.push('', `ociasm's layer digests were the same in every round: gzip ${mixedDigests.size === 1 ? 'yes' : 'NO'}, zstd ${mixedZstdDigests.size === 1 ? 'yes' : 'NO'}.`, '');
  if (r.mixedSweep.length) {
    lines.push('gzip level on this tree (ociasm, one run each, layer cache off; the default is 5):', '');
    row(['level', 'wall s', 'CPU s', 'compressed', 'vs umoci size', 'wall vs umoci']);
    row(['---:', '---:', '---:', '---:', '---:', '---:']);
    for (const s of r.mixedSweep) row([s.level, f(s.wall), f(s.cpu), mb(s.size), `${f(s.size / mu.size, 3)}×`, `${f(s.wall / mu.wall)}×`]);
    lines.push('');
  }
  lines.push(`Profile of one gzip build of this tree (\`node --cpu-prof\`, self time per thread):`, '', ...r.mixedProfile, '');
  lines.push(`## 2. Warm rebuild (nothing changed)`, '', `Median ${f(warmWall)} s, ${f(warmRatio)}× the cold build of the same round (peak RSS ${f(median(r.warm.map((w) => w.rss)), 0)} MiB).`, '');
  lines.push('## 3. Push to a local registry (fresh repository each time)', '');
  let pushOk = null;
  if (r.push?.error) lines.push(`The push case failed: ${r.push.error}`, '');
  else {
    row(['command', 'wall s', 'CPU s', 'peak RSS MiB']);
    row(['---', '---:', '---:', '---:']);
    for (const [name, s] of Object.entries(r.push)) if (name !== 'startup') row([name, f(s.wall), f(s.cpu), f(s.rss, 0)]);
    if (r.push.startup) {
      lines.push('', `Time from process start to the first request (bench/push-startup.mjs, median): ` +
        Object.entries(r.push.startup).map(([k, v]) => `${k} ${f(v * 1000, 0)} ms`).join(', ') + `; Node ${process.version}.`);
    }
    if (!r.canPush) lines.push('', '`ociasm push` is **not available** in this build: only skopeo was measured.');
    else pushOk = r.push['ociasm push'].wall / r.push['skopeo copy'].wall;
    lines.push('');
  }
  const sm = r.small['ociasm build (5 platforms)'];
  lines.push('## 4. Small image end to end', '', `Five platforms, busybox base from a local layout, one 10 MiB binary each: ${f(sm.wall)} s wall, ${f(sm.cpu)} s CPU, ${f(sm.rss, 0)} MiB peak RSS, ${mb(sm.size)} of layers.`, '');
  const N = r.nm;
  const no = N['ociasm build'];
  const nu = N['umoci insert'];
  const nz = N['ociasm build --compression zstd'];
  lines.push(`## 5. Many small files: a node_modules-shaped tree`, '',
    `${r.nmStats.entries} entries, ${r.nmStats.files} files, ${mb(r.nmStats.bytes)} (bench/node-modules-tree.mjs, generated in ${f(r.nmGenSeconds, 0)} s; deterministic).`, '');
  row(['command', 'wall s', 'CPU s', 'peak RSS MiB (median / max)', 'compressed', 'wall vs umoci']);
  row(['---', '---:', '---:', '---:', '---:', '---:']);
  for (const [name, s] of Object.entries(N)) row([name, f(s.wall), f(s.cpu), `${f(s.rss, 0)} / ${f(s.maxRss, 0)}`, mb(s.size), `${f(s.wall / nu.wall)}×`]);
  lines.push('', 'gzip level on this tree (ociasm, one run each, layer cache off):', '');
  row(['level', 'wall s', 'CPU s', 'compressed', 'vs umoci size']);
  row(['---:', '---:', '---:', '---:', '---:']);
  for (const s of r.nmSweep) row([s.level, f(s.wall), f(s.cpu), mb(s.size), `${f(s.size / nu.size, 3)}×`]);
  lines.push('', `Profile of one build of this tree (\`node --cpu-prof\`, self time per thread):`, '', ...r.nmProfile, '');
  lines.push('## 6. A million entries', '');
  if (!r.million) lines.push('Not run (`BENCH_MILLION=0`).', '');
  else if (r.million.error) lines.push(`bench/million.mjs failed: ${r.million.error}`, '');
  else lines.push(`\`node bench/million.mjs\`: ${r.million.entries} entries (700,000 empty files in about 276,000 folders), peak RSS ${f(r.million.peakRssMiB, 0)} MiB against ${f(r.million.tinyBuildRssMiB, 0)} MiB for a one-file build: ${r.million.bytesPerEntry} bytes of RSS per entry; ${f(r.million.wall)} s wall, ${f(r.million.cpu)} s CPU.`, '');
  lines.push('## 7. `--cache-repo`: a warm CI rebuild with an empty local cache', '');
  if (!r.cacheRepo) lines.push('Not run (`BENCH_CACHE_REPO=0`).', '');
  else if (r.cacheRepo.error) lines.push(`bench/cache-repo.mjs failed: ${r.cacheRepo.error}`, '');
  else {
    lines.push('bench/cache-repo.mjs: the same tree built cold (no cache anywhere), built cold with `--cache-repo` on a map holding only another tree (a miss: the diffID pass, the build, the write-back), rebuilt with `--cache-repo` and an empty local cache (a hit: the layer is downloaded, proven and not compressed; the run fails unless `compressedLayers` is 0 and the digest equals the seed build\'s), and the diffID pass alone (tar + sha256 in-process). Loopback docker-registry; medians.', '');
    row(['tree', 'case', 'wall s', 'CPU s', 'peak RSS MiB', 'CPU vs cold']);
    row(['---', '---', '---:', '---:', '---:', '---:']);
    for (const t of r.cacheRepo) {
      const name = path.basename(t.tree);
      for (const [k, label] of [['cold', 'cold build'], ['coldWrite', 'miss (diffID pass + build + write)'], ['warm', 'hit, empty local cache'], ['tarPass', 'diffID pass alone']]) {
        row([name, label, f(t[k].wall), f(t[k].cpu), f(t[k].rss, 0), `${f(t[k].cpu / t.cold.cpu)}×`]);
      }
    }
    lines.push('');
  }
  lines.push('## Compression level (ociasm, one run each)', '');
  row(['level', 'wall s', 'CPU s', 'peak RSS MiB', 'compressed', 'vs umoci size']);
  row(['---:', '---:', '---:', '---:', '---:', '---:']);
  for (const s of r.sweep) row([s.level, f(s.wall), f(s.cpu), f(s.rss, 0), mb(s.size), `${f(s.size / um.size, 3)}×`]);
  lines.push('', '## Targets', '');
  row(['target', 'measured', 'verdict']);
  row(['---', '---', '---']);
  row(['layer build wall ≤ 0.8 × umoci insert', `${f(o.wall / um.wall)}×`, verdict(o.wall / um.wall <= 0.8)]);
  row(['compressed size ≤ umoci\'s', `${mb(o.size)} vs ${mb(um.size)}`, verdict(o.size <= um.size)]);
  row([`layer build wall ≤ 1.0 × tar | pigz -6 -p ${CORES}`, `${f(o.wall / pz.wall)}×`, verdict(o.wall / pz.wall <= 1.0)]);
  row(['peak RSS during the 0.5 GB build ≤ 200 MiB', `${f(o.maxRss, 0)} MiB (max of ${ROUNDS})`, verdict(o.maxRss <= 200)]);
  row(['warm rebuild ≤ 0.25 × cold', `${f(warmRatio)}×`, verdict(warmRatio <= 0.25)]);
  row(['push ≤ 0.9 × skopeo copy', pushOk === null ? 'not available' : `${f(pushOk)}×`, pushOk === null ? '**not measured**' : verdict(pushOk <= 0.9)]);
  row(['small image, five platforms ≤ 1.5 s', `${f(sm.wall)} s`, verdict(sm.wall <= 1.5)]);
  const oz = L['ociasm build --compression zstd'];
  row(['issue 11: 200k-file tree wall ≤ 1.0 × umoci insert', `${f(no.wall / nu.wall)}× (CPU ${f(no.cpu / nu.cpu)}×)`, verdict(no.wall / nu.wall <= 1.0)]);
  row(['issue 11: 200k-file tree size ≤ umoci\'s', `${mb(no.size)} vs ${mb(nu.size)}`, verdict(no.size <= nu.size)]);
  row(['issue 11: 200k-file tree peak RSS ≤ 200 MiB', `${f(no.maxRss, 0)} MiB`, verdict(no.maxRss <= 200)]);
  row(['issue 11: mixed tree gzip wall ≤ 1.0 × umoci, size ≤ umoci\'s', `${f(mo.wall / mu.wall)}× (CPU ${f(mo.cpu / mu.cpu)}×), ${f(mo.size / mu.size, 3)}×`, verdict(mo.wall / mu.wall <= 1.0 && mo.size <= mu.size)]);
  row(['issue 11: Go tree gzip wall ≤ 1.0 × umoci, size ≤ umoci\'s', `${f(o.wall / um.wall)}× (CPU ${f(o.cpu / um.cpu)}×), ${f(o.size / um.size, 3)}×`, verdict(o.wall / um.wall <= 1.0 && o.size <= um.size)]);
  row(['issue 11: zstd layer wall ≤ 0.4 × umoci (gzip), size ≤ 0.85 ×, Go tree', `${f(oz.wall / um.wall)}×, size ${f(oz.size / um.size, 3)}×`, verdict(oz.wall / um.wall <= 0.4 && oz.size / um.size <= 0.85)]);
  row(['issue 11: zstd layer wall ≤ 0.4 × umoci (gzip), size ≤ 0.85 ×, mixed tree', `${f(mz.wall / mu.wall)}×, size ${f(mz.size / mu.size, 3)}×`, verdict(mz.wall / mu.wall <= 0.4 && mz.size / mu.size <= 0.85)]);
  row(['issue 11: zstd layer wall ≤ 0.4 × umoci (gzip), size ≤ 0.85 ×, 200k-file tree', `${f(nz.wall / nu.wall)}×, size ${f(nz.size / nu.size, 3)}×`, verdict(nz.wall / nu.wall <= 0.4 && nz.size / nu.size <= 0.85)]);
  const mil = r.million && !r.million.error ? r.million : null;
  row(['issue 11: 1M-entry tree peak RSS ≤ 400 MiB', mil ? `${f(mil.peakRssMiB, 0)} MiB (${mil.bytesPerEntry} B per entry)` : 'not measured', mil ? verdict(mil.peakRssMiB <= 400) : '**not measured**']);
  const cr = r.cacheRepo && !r.cacheRepo.error ? r.cacheRepo[0] : null;
  row(['issue 11: warm CI rebuild, empty local cache, layer in the registry: not compressed again (--cache-repo)', cr ? `0 layers compressed; ${f(cr.warm.wall / cr.cold.wall)}× wall, ${f(cr.warm.cpu / cr.cold.cpu)}× CPU of a cold build` : 'not measured', cr ? '**met**' : '**not measured**']);
  lines.push('', '## Where the time goes (one cold build, `node --cpu-prof`, self time per thread)', '', ...r.profile, '');
  const analysis = path.join(ROOT, 'bench', 'analysis.md');
  if (existsSync(analysis)) lines.push(readFileSync(analysis, 'utf8'));
  writeFileSync(path.join(ROOT, 'docs', 'bench.md'), lines.join('\n').trimEnd() + '\n');
}
