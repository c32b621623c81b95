/**
 * `--cache-repo` against Debian's docker-registry, checked with skopeo:
 * a first build writes the map and the layer blobs into REPO; a second build
 * with an EMPTY local cache and a fresh output takes every layer from REPO
 * (proven by digest and diffID), compresses nothing (counted by the codecs,
 * and the --debug line) and gives the identical image digest; a push mounts
 * the blob from REPO; a poisoned map is caught and the layer built instead,
 * with a warning naming REPO; an unreachable REPO is a warning and a normal
 * build.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/cas/blob-store.js';
import { cacheTag } from '../../src/cache/cache-map.js';
import { GZIP_FORMAT, gzipSettingsKey } from '../../src/codec/gzip/index.js';
import { ZSTD_FORMAT } from '../../src/codec/zstd/format.js';
import { zstdSettingsKey } from '../../src/codec/zstd/index.js';
import { freePort, startRegistry, type TestRegistry } from '../harness/registry.js';
import { blobPath, must, ociasm, refDescriptor, ROOT, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-cache-repo-');
const file = path.join(tmp.dir, 'ociasm.yaml');
const GZIP = gzipSettingsKey({ level: GZIP_FORMAT.defaultLevel });
const TAG = cacheTag(GZIP);
let reg: TestRegistry;
let first: any;
let runs = 0;

const skopeo = (...args: string[]) => must('skopeo', [...args.slice(0, 1), '--tls-verify=false', ...args.slice(1)]);

/** A build with a fresh, empty local cache folder and a fresh output layout. */
async function build(extra: string[], name = `run${++runs}`): Promise<{ code: number; json: any; stderr: string; layout: string }> {
  const layout = path.join(tmp.dir, name, 'oci');
  const env = { ...process.env, OCIASM_CACHE_DIR: path.join(tmp.dir, name, 'cache') };
  const r = await ociasm(['build', '-f', file, '-o', layout, '--json', '--insecure-registry', reg.host, ...extra], { cwd: tmp.dir, env });
  return { code: r.code, json: r.code === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr, layout };
}

beforeAll(async () => {
  reg = await startRegistry({ proxy: true });
  // Enough content that compression is real work: a tree of text and incompressible bytes.
  const tree = path.join(tmp.dir, 'tree');
  mkdirSync(tree);
  let seed = 7;
  for (let i = 0; i < 40; i++) {
    const bytes = Buffer.alloc(20_000 + i * 500);
    for (let j = 0; j < bytes.length; j++) bytes[j] = i % 2 ? (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24 : 97 + (j % 23);
    writeFileSync(path.join(tree, `f${i}`), bytes);
  }
  writeFileSync(file, `
sourceDateEpoch: 1700000000
images:
  - name: app
    tag: "1"
    platforms: [linux/amd64, linux/arm64]
    files: [{ src: tree, dest: /srv/tree }]
    paths: [{ path: /etc/which, type: file, content: "{{platform}}\\n" }]
    push: ["${reg.host}/app/img:1"]
`);
});
afterAll(async () => {
  await reg?.stop();
  tmp.cleanup();
});

describe('--cache-repo', () => {
  it('a first build writes the map and its blobs into REPO (skopeo reads and copies them)', async () => {
    const r = await build(['--cache-repo', `${reg.host}/team/cache`, '--debug']);
    expect(r.code, r.stderr).toBe(0);
    first = r.json;
    // An empty repository cannot hit: no diffID pass, straight to compression.
    expect(r.stderr).toContain(`cache-repo: no entries for ${GZIP} in ${reg.host}/team/cache: compressing, no diffID pass`);
    expect(first.cacheRepo).toEqual({ repository: `${reg.host}/team/cache`, hits: 0, misses: 2, written: 2, compressedLayers: 2 });
    const layers = first.images[0].platforms.map((p: any) => p.layer);
    expect(layers.map((l: any) => [l.cached, l.cache])).toEqual([[false, undefined], [false, undefined]]);

    const raw = JSON.parse(await skopeo('inspect', '--raw', `docker://${reg.host}/team/cache:${TAG}`));
    expect(raw.artifactType).toBe('application/vnd.ociasm.layer-cache.v1+json');
    expect(raw.config.mediaType).toBe('application/vnd.ociasm.layer-cache.v1+json');
    expect(raw.layers.map((l: any) => l.digest).sort()).toEqual(layers.map((l: any) => l.digest).sort());

    // A tool not ours copies the whole artifact out: the map and both layer blobs are really in REPO.
    const out = path.join(tmp.dir, 'skopeo-copy');
    await skopeo('copy', `docker://${reg.host}/team/cache:${TAG}`, `oci:${out}:cache`);
    const map = JSON.parse(readFileSync(blobPath(out, raw.config.digest), 'utf8'));
    expect(map.settings).toBe(GZIP);
    expect(map.entries.map((e: any) => [e.diffId, e.digest]).sort()).toEqual(layers.map((l: any) => [l.diffId, l.digest]).sort());
    for (const l of layers) expect(sha256(readFileSync(blobPath(out, l.digest)))).toBe(l.digest);
  });

  it('a second build with an empty local cache takes every layer from REPO, compresses nothing, and gives the same digests', async () => {
    const r = await build(['--cache-repo', `${reg.host}/team/cache`, '--debug']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.cacheRepo).toEqual({ repository: `${reg.host}/team/cache`, hits: 2, misses: 0, written: 0, compressedLayers: 0 });
    expect(r.json.images[0].platforms.map((p: any) => [p.layer.cached, p.layer.cache])).toEqual([[true, 'registry'], [true, 'registry']]);
    expect(r.json.images[0].index.digest).toBe(first.images[0].index.digest);
    const check = new Ajv2020({ allErrors: true }).compile(JSON.parse(readFileSync(path.join(ROOT, 'docs/schema/build-result.schema.json'), 'utf8')));
    expect(check(r.json), JSON.stringify(check.errors)).toBe(true);
    expect(check(first), JSON.stringify(check.errors)).toBe(true);
    expect(r.stderr).toMatch(/cache-repo: hit sha256:[a-f0-9]{64} → sha256:[a-f0-9]{64} .*proven .*nothing compressed/);
    expect(r.stderr).not.toMatch(/cache-repo: miss/);
    // skopeo reads the fresh layout's image as the first build's, byte for byte.
    const digest = refDescriptor(r.layout, 'app:1').digest;
    expect(sha256(Buffer.from(await skopeo('inspect', '--raw', `oci:${r.layout}:app:1`)))).toBe(digest);
    expect(digest).toBe(first.images[0].index.digest);
  });

  it('a push with an empty local cache mounts the layer blobs from REPO instead of uploading them', async () => {
    const before = reg.proxy!.requests.length;
    const r = await build(['--cache-repo', `${reg.host}/team/cache`, '--push']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.cacheRepo.hits).toBe(2);
    expect(r.json.cacheRepo.compressedLayers).toBe(0);
    // The registry's own access log: a mount of each layer from team/cache, and no layer bytes sent to app/img.
    const log = reg.log();
    for (const p of first.images[0].platforms) {
      const d = `sha256(?::|%3A)${p.layer.digest.slice(7)}`;
      expect(log).toMatch(new RegExp(`POST /v2/app/img/blobs/uploads/\\?[^ "]*(from=team%2Fcache[^ "]*mount=${d}|mount=${d}[^ "]*from=team%2Fcache)[^"]*" 201`));
    }
    const sent = reg.proxy!.requests.slice(before).filter((q) => q.path.startsWith('/v2/app/img/blobs/uploads')).reduce((n, q) => n + q.bytes, 0);
    expect(sent).toBeLessThan(Math.min(...first.images[0].platforms.map((p: any) => p.layer.size)));
    expect(sha256(Buffer.from(await skopeo('inspect', '--raw', `docker://${reg.host}/app/img:1`)))).toBe(first.images[0].index.digest);
  });

  it('a poisoned map (an entry naming a blob with other content) is caught: a warning naming REPO, the layer built, the same digest', async () => {
    // The map says amd64's diffID is arm64's blob: a real gzip layer, of another tar.
    const [amd, arm] = first.images[0].platforms.map((p: any) => p.layer);
    const poison = path.join(tmp.dir, 'poison');
    mkdirSync(path.join(poison, 'blobs', 'sha256'), { recursive: true });
    const put = (bytes: Buffer) => {
      const d = sha256(bytes);
      writeFileSync(blobPath(poison, d), bytes);
      return { digest: d, size: bytes.length };
    };
    copyFileSync(blobPath(path.join(tmp.dir, 'run1', 'oci'), arm.digest), blobPath(poison, arm.digest));
    const map = Buffer.from(JSON.stringify({
      settings: GZIP,
      entries: [{ diffId: amd.diffId, uncompressedSize: amd.uncompressedSize, digest: arm.digest, size: arm.size, mediaType: arm.mediaType }],
    }));
    const config = put(map);
    const manifest = put(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.ociasm.layer-cache.v1+json',
      config: { mediaType: 'application/vnd.ociasm.layer-cache.v1+json', ...config },
      layers: [{ mediaType: arm.mediaType, digest: arm.digest, size: arm.size }],
    })));
    writeFileSync(path.join(poison, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(path.join(poison, 'index.json'), JSON.stringify({
      schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': TAG } }],
    }));
    await skopeo('copy', `oci:${poison}:${TAG}`, `docker://${reg.host}/evil/cache:${TAG}`);

    const r = await build(['--cache-repo', `${reg.host}/evil/cache`, '--platform', 'linux/amd64']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`--cache-repo ${reg.host}/evil/cache: blob ${arm.digest} for diffID ${amd.diffId} cannot be used`);
    expect(r.stderr).toContain('decompresses to');
    expect(r.json.cacheRepo).toMatchObject({ hits: 0, misses: 1, compressedLayers: 1 });
    const p = r.json.images[0].platforms[0];
    expect([p.layer.digest, p.layer.diffId, p.layer.cached]).toEqual([amd.digest, amd.diffId, false]);
    expect(p.manifest.digest).toBe(first.images[0].platforms[0].manifest.digest);
    // Nothing of the poison was kept in the output layout.
    expect(() => readFileSync(blobPath(r.layout, arm.digest))).toThrow();
  });

  it('an unreachable REPO is a warning and a normal build', async () => {
    const port = await freePort();
    const r = await build(['--cache-repo', `127.0.0.1:${port}/team/cache`, '--insecure-registry', `127.0.0.1:${port}`, '--platform', 'linux/amd64']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`--cache-repo 127.0.0.1:${port}/team/cache: cannot read the layer cache`);
    expect(r.json.cacheRepo).toMatchObject({ hits: 0, misses: 1, written: 0, compressedLayers: 1 });
    expect(r.json.images[0].platforms[0].manifest.digest).toBe(first.images[0].platforms[0].manifest.digest);
  });

  it('zstd layers: their own map, and a hit proven through zstd decompression gives the same digest', async () => {
    const a = await build(['--cache-repo', `${reg.host}/team/cache`, '--compression', 'zstd', '--platform', 'linux/amd64']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.json.cacheRepo).toMatchObject({ hits: 0, misses: 1, written: 1, compressedLayers: 1 });
    const raw = JSON.parse(await skopeo('inspect', '--raw', `docker://${reg.host}/team/cache:${cacheTag(zstdSettingsKey({ level: ZSTD_FORMAT.defaultLevel }))}`));
    expect(raw.layers).toEqual([{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: a.json.images[0].platforms[0].layer.digest, size: a.json.images[0].platforms[0].layer.size }]);
    const b = await build(['--cache-repo', `${reg.host}/team/cache`, '--compression', 'zstd', '--platform', 'linux/amd64']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.json.cacheRepo).toMatchObject({ hits: 1, misses: 0, written: 0, compressedLayers: 0 });
    expect(b.json.images[0].index.digest).toBe(a.json.images[0].index.digest);
  });

  it('a cache that cannot be written is a warning; the build stands', async () => {
    reg.proxy!.faults.push({ method: 'PUT', path: /\/v2\/ro\/cache\/manifests\//, times: 10, fault: { kind: 'status', status: 403 } });
    const r = await build(['--cache-repo', `${reg.host}/ro/cache`, '--platform', 'linux/amd64']);
    reg.proxy!.faults.length = 0;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`--cache-repo ${reg.host}/ro/cache: cannot write the layer cache`);
    expect(r.json.cacheRepo).toMatchObject({ misses: 1, written: 0, compressedLayers: 1 });
    expect(r.json.images[0].platforms[0].manifest.digest).toBe(first.images[0].platforms[0].manifest.digest);
  });

  it('a tag or digest in --cache-repo is refused before anything is built', async () => {
    const r = await build(['--cache-repo', `${reg.host}/team/cache:latest`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('name a repository (HOST/REPO) without a tag or digest');
  });
});
