#!/usr/bin/env node
// Peak RSS of `ociasm build` on a multi-layer base of 1 GiB or more
// (uncompressed), measured by GNU time (not by us). Not part of `npm test`:
//   npx tsc -p tsconfig.json && node bench/squash-memory.mjs [--layers plain|gzip|zstd] [--keep]
// The base: layer 1 = 80 files of 8 MiB and one 256 MiB file, layer 2 =
// 48 files of 8 MiB of which 16 overwrite layer-1 files, plus a whiteout.
// Exits 1 when the peak is 300 MiB or more.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { encodeHeader, padding, END_OF_ARCHIVE } = await import(path.join(root, 'dist/src/codec/tar/encode.js'));
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const compression = args.includes('--layers') ? args[args.indexOf('--layers') + 1] : 'plain';
const COMPRESS = {
  plain: { suffix: '', mediaType: 'application/vnd.oci.image.layer.v1.tar' },
  gzip: { cmd: ['pigz', '-1', '-n', '-T'], suffix: '.gz', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
  zstd: { cmd: ['zstd', '-q', '-1', '--rm'], suffix: '.zst', mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' },
}[compression];
if (!COMPRESS) throw new Error(`--layers ${compression}: use plain, gzip or zstd`);
const MiB = 1 << 20;
const LIMIT_MIB = 300;
// Half random, half zeros: gzip has real work to do, and the numbers look like a real base.
const chunk = Buffer.concat([randomBytes(MiB / 2), Buffer.alloc(MiB / 2)]);

async function writeLayer(file, entries) {
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  let size = 0;
  const put = async (buf) => {
    hash.update(buf);
    size += buf.length;
    if (!out.write(buf)) await once(out, 'drain');
  };
  for (const e of entries) {
    await put(encodeHeader({ type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: e.mib * MiB, ...e.header }));
    for (let i = 0; i < e.mib; i++) {
      chunk.writeUInt32BE(i, 0); // every MiB differs a little
      await put(chunk);
    }
    if (e.mib === 0) await put(padding(0));
  }
  await put(END_OF_ARCHIVE);
  out.end();
  await once(out, 'finish');
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

function readFileDigest(file) {
  const out = execFileSync('sha256sum', [file], { encoding: 'utf8' });
  return { digest: `sha256:${out.split(' ')[0]}`, size: statSync(file).size };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'ociasm-bench-'));
try {
  const layout = path.join(dir, 'base');
  const blobs = path.join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layer1 = [...Array.from({ length: 80 }, (_, i) => ({ header: { path: `data/f${i}` }, mib: 8 })), { header: { path: 'data/huge' }, mib: 256 }];
  const layer2 = [
    ...Array.from({ length: 48 }, (_, i) => ({ header: { path: `data/f${i * 3}` }, mib: 8 })),
    { header: { path: 'data/.wh.f1' }, mib: 0 },
  ];
  const layers = [];
  for (const [i, entries] of [layer1, layer2].entries()) {
    const tmp = path.join(dir, `layer${i}.tar`);
    const diffId = await writeLayer(tmp, entries);
    if (COMPRESS.cmd) execFileSync(COMPRESS.cmd[0], [...COMPRESS.cmd.slice(1), tmp]);
    const blob = readFileDigest(tmp + COMPRESS.suffix);
    execFileSync('mv', [tmp + COMPRESS.suffix, path.join(blobs, blob.digest.slice(7))]);
    layers.push({ mediaType: COMPRESS.mediaType, ...blob, diffId: diffId.digest, uncompressed: diffId.size });
  }
  const put = (obj) => {
    const buf = Buffer.from(JSON.stringify(obj));
    const digest = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
    writeFileSync(path.join(blobs, digest.slice(7)), buf);
    return { digest, size: buf.length };
  };
  const config = put({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } });
  const manifest = put({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  });
  writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'big' } }],
  }));
  writeFileSync(path.join(dir, 'ociasm.yaml'), 'images:\n  - { name: big, base: "oci:base:big" }\n');
  const baseBytes = layers.reduce((n, l) => n + l.uncompressed, 0);

  const started = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'peak_rss_kib=%M', process.execPath, path.join(root, 'dist/cmd/ociasm.js'),
    'build', '-f', path.join(dir, 'ociasm.yaml'), '-o', path.join(dir, 'out'), '--json'], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const seconds = (Date.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`ociasm build failed:\n${r.stderr}`);
  const peakMiB = Number(/peak_rss_kib=(\d+)/.exec(r.stderr)[1]) / 1024;
  const layer = JSON.parse(r.stdout).images[0].platforms[0].layer;
  const result = {
    node: process.version, cpus: os.availableParallelism(),
    baseLayers: `${layers.length} (${compression})`, baseUncompressedMiB: +(baseBytes / MiB).toFixed(1),
    squashedUncompressedMiB: +(layer.uncompressedSize / MiB).toFixed(1), squashedGzipMiB: +(layer.size / MiB).toFixed(1),
    peakRssMiB: +peakMiB.toFixed(1), limitMiB: LIMIT_MIB, seconds,
  };
  console.log(JSON.stringify(result, null, 2));
  if (keep) console.log(`kept ${dir}`);
  if (peakMiB >= LIMIT_MIB) process.exitCode = 1;
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
