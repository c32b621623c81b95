/**
 * `ociasm verify REF [-f ociasm.yaml]`: rebuild the image from its build file
 * into a temporary layout and compare each published platform manifest with
 * the rebuilt one. A match is reported per platform; a mismatch names the
 * first difference that explains it, in this order:
 *   1. the base: the published manifest's base digest annotation against the
 *      rebuilt one (a moved tag, a new base);
 *   2. the config, field by field (rootfs.diff_ids aside);
 *   3. the files: for each path in order, presence, type, content, mode,
 *      owner, xattrs, link target, mtime;
 *   4. the layer bytes (same files, other tar bytes) or only its compression;
 *   5. the manifest's annotations.
 * The rebuild runs every build step afresh (no build or layer cache: a cache
 * hit would prove nothing) and skips self-checks (they do not change bytes).
 * Bases come from the build file and, when present, its ociasm.lock — the
 * pins the publisher recorded (docs/supply-chain.md).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BuildFile } from '../buildfile/types.js';
import { LayoutStore } from '../cas/layout-store.js';
import type { BlobStore } from '../cas/blob-store.js';
import { formatPlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import { readJsonBlob } from '../image/read.js';
import {
  Annotation, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, isIndexMediaType, type Platform,
} from '../oci/types.js';
import { build } from '../pipeline/build.js';
import type { RegistryCliOptions } from '../pipeline/registry-session.js';
import { Registries } from '../registry/registries.js';
import type { Reporter } from '../report/reporter.js';
import { type ImageFile, readImageFiles } from '../supply/image-files.js';
import { type ImageLocation, openImage } from '../supply/image-ref.js';

export interface VerifyOptions {
  buildFile: BuildFile;
  /** The image of the build file to rebuild; default: the only one, or the one the reference names. */
  image?: string;
  buildArgs?: Record<string, string>;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  registry?: RegistryCliOptions;
  cacheDir?: string;
  signal?: AbortSignal;
}

export interface PlatformVerdict {
  platform: string;
  published: string;
  rebuilt?: string;
  match: boolean;
  /** The first difference, in words. */
  difference?: string;
}

export interface VerifyResult {
  image: string;
  match: boolean;
  platforms: PlatformVerdict[];
}

interface Side {
  store: BlobStore;
  digest: string;
  manifest: ImageManifest;
  readManifest: boolean;
}

async function readManifest(loc: ImageLocation | { kind: 'layout'; store: LayoutStore }, d: Descriptor): Promise<ImageManifest> {
  if (loc.kind === 'registry') return JSON.parse((await loc.store.getManifest(d.digest)).bytes.toString('utf8')) as ImageManifest;
  return readJsonBlob<ImageManifest>(loc.store, d, 'manifest');
}

async function platformsOf(loc: ImageLocation): Promise<{ platform: Platform; descriptor: Descriptor }[]> {
  if (isIndexMediaType(loc.root.mediaType)) {
    const index = loc.kind === 'registry'
      ? JSON.parse((await loc.store.getManifest(loc.root.digest)).bytes.toString('utf8')) as ImageIndex
      : await readJsonBlob<ImageIndex>(loc.store, loc.root, 'index');
    return index.manifests.filter((m) => m.platform && m.platform.architecture !== 'unknown').map((m) => ({
      platform: m.platform!, descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.size },
    }));
  }
  const m = await readManifest(loc, loc.root);
  const c = await readJsonBlob<ImageConfig>(loc.store, m.config, 'config');
  return [{ platform: { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) }, descriptor: loc.root }];
}

function pickImage(bf: BuildFile, loc: ImageLocation, wanted?: string): string {
  const names = bf.images.map((i) => i.name);
  if (wanted) {
    if (!names.includes(wanted)) throw new OciasmError('BUILDFILE_INVALID', `${bf.file} has no image "${wanted}"; it has: ${names.join(', ')}`);
    return wanted;
  }
  if (names.length === 1) return names[0]!;
  const last = loc.name.split('/').pop()!.split(':')[0]!;
  if (names.includes(last)) return last;
  throw new OciasmError('BUILDFILE_INVALID', `${bf.file} has ${names.length} images; name the one ${loc.text} is with --image (${names.join(', ')})`);
}

const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

/** The first differing path of two JSON values, as `a.b[2]`. */
function firstJsonDifference(a: unknown, b: unknown, at: string): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b) && !Array.isArray(a)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])];
    for (const k of keys) {
      const d = firstJsonDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
  }
  return `${at}: published ${show(a)}, rebuilt ${show(b)}`;
}

function xattrText(f: ImageFile): string {
  return JSON.stringify([...(f.header.xattrs ?? new Map())].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, v.toString('base64')]));
}

function fileDifference(p: string, a: ImageFile | undefined, b: ImageFile | undefined): string | undefined {
  const name = `/${p}`;
  if (!a) return `${name}: only in the rebuilt image`;
  if (!b) return `${name}: only in the published image`;
  const ha = a.header;
  const hb = b.header;
  if (ha.type !== hb.type) return `${name}: a ${ha.type} in the published image, a ${hb.type} in the rebuilt one`;
  if (a.sha256 !== b.sha256) return `${name}: content differs (sha256 ${a.sha256} published, ${b.sha256} rebuilt; ${ha.size} and ${hb.size} bytes)`;
  if (ha.mode !== hb.mode) return `${name}: mode ${ha.mode.toString(8).padStart(4, '0')} published, ${hb.mode.toString(8).padStart(4, '0')} rebuilt`;
  if (ha.uid !== hb.uid || ha.gid !== hb.gid) return `${name}: owner ${ha.uid}:${ha.gid} published, ${hb.uid}:${hb.gid} rebuilt`;
  if (xattrText(a) !== xattrText(b)) {
    const ka = new Map(ha.xattrs ?? []);
    const kb = new Map(hb.xattrs ?? []);
    const key = [...new Set([...ka.keys(), ...kb.keys()])].sort().find((k) => !ka.get(k)?.equals(kb.get(k) ?? Buffer.alloc(0)) || !kb.has(k));
    return `${name}: xattr ${key} differs`;
  }
  if ((ha.linkname ?? '') !== (hb.linkname ?? '')) return `${name}: link target ${show(ha.linkname)} published, ${show(hb.linkname)} rebuilt`;
  if (ha.mtime !== hb.mtime) return `${name}: mtime ${ha.mtime} published, ${hb.mtime} rebuilt`;
  if ((ha.devmajor ?? 0) !== (hb.devmajor ?? 0) || (ha.devminor ?? 0) !== (hb.devminor ?? 0)) return `${name}: device numbers differ`;
  return undefined;
}

/** The first difference between a published and a rebuilt platform image. */
export async function explainDifference(pub: Side, re: Side, signal?: AbortSignal): Promise<string> {
  const pa = pub.manifest.annotations ?? {};
  const ra = re.manifest.annotations ?? {};
  if (pa[Annotation.BaseDigest] !== ra[Annotation.BaseDigest] || pa[Annotation.BaseName] !== ra[Annotation.BaseName]) {
    return `base digest moved: published ${pa[Annotation.BaseName] ?? '(no base)'}@${pa[Annotation.BaseDigest] ?? '-'}, rebuilt ${ra[Annotation.BaseName] ?? '(no base)'}@${ra[Annotation.BaseDigest] ?? '-'}`;
  }
  const pc = await readJsonBlob<ImageConfig>(pub.store, pub.manifest.config, 'config');
  const rc = await readJsonBlob<ImageConfig>(re.store, re.manifest.config, 'config');
  const strip = (c: ImageConfig) => ({ ...c, rootfs: { ...c.rootfs, diff_ids: undefined } });
  const cfg = firstJsonDifference(strip(pc), strip(rc), '');
  if (cfg) return `config field ${cfg}`;
  const pf = await readImageFiles(pub.store, pub.manifest, signal);
  const rf = await readImageFiles(re.store, re.manifest, signal);
  const paths = [...new Set([...pf.files.keys(), ...rf.files.keys()])].sort();
  for (const p of paths) {
    const d = fileDifference(p, pf.files.get(p), rf.files.get(p));
    if (d) return `file ${d}`;
  }
  if (JSON.stringify(pc.rootfs.diff_ids) !== JSON.stringify(rc.rootfs.diff_ids)) {
    return `the layer's tar bytes differ (diff_id ${pc.rootfs.diff_ids.join(',')} published, ${rc.rootfs.diff_ids.join(',')} rebuilt) with the same files and metadata: entry order or header encoding`;
  }
  const pl = pub.manifest.layers.map((l) => l.digest).join(',');
  const rl = re.manifest.layers.map((l) => l.digest).join(',');
  if (pl !== rl) return `only the compressed layer differs (${pl} published, ${rl} rebuilt; same uncompressed content): gzip level or compressor`;
  const ann = firstJsonDifference(pa, ra, 'annotations');
  if (ann) return `manifest ${ann}`;
  return 'the manifests differ in encoding only (same fields)';
}

export async function verifyImage(ref: string, opts: VerifyOptions): Promise<VerifyResult> {
  let registries: Registries | undefined;
  const regs = () => (registries ??= new Registries({
    env: opts.env,
    insecureRegistries: [...(opts.buildFile.insecureRegistries ?? []), ...(opts.registry?.insecureRegistries ?? [])],
    ...(opts.registry?.caFiles ? { caFiles: opts.registry.caFiles } : {}),
    ...(opts.registry?.creds ? { creds: opts.registry.creds } : {}),
    ...(opts.registry?.debug ? { debug: opts.registry.debug } : {}),
  }));
  const tmp = await mkdtemp(path.join(opts.env.TMPDIR ?? os.tmpdir(), 'ociasm-verify-'));
  try {
    const loc = await openImage(ref, regs);
    const name = pickImage(opts.buildFile, loc, opts.image);
    const published = await platformsOf(loc);
    const rebuiltResult = await build({
      buildFile: opts.buildFile, output: `oci:${path.join(tmp, 'oci')}`, images: [name], platforms: published.map((p) => formatPlatform(p.platform)),
      env: opts.env, reporter: opts.reporter, noCache: true, layerCache: false, skipTests: true,
      ...(opts.buildArgs ? { buildArgs: opts.buildArgs } : {}),
      ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
      registry: { ...(opts.registry ?? {}), push: false, lock: false },
    });
    const rebuilt = rebuiltResult.images[0]!;
    const store = await LayoutStore.open(path.join(tmp, 'oci'), false);
    const platforms: PlatformVerdict[] = [];
    for (const p of published) {
      const label = formatPlatform(p.platform);
      const mine = rebuilt.platforms.find((r) => r.platform === label);
      if (!mine) {
        platforms.push({ platform: label, published: p.descriptor.digest, match: false, difference: 'the build file does not build this platform' });
        continue;
      }
      if (mine.manifest.digest === p.descriptor.digest) {
        platforms.push({ platform: label, published: p.descriptor.digest, rebuilt: mine.manifest.digest, match: true });
        continue;
      }
      const difference = await explainDifference(
        { store: loc.store, digest: p.descriptor.digest, manifest: await readManifest(loc, p.descriptor), readManifest: true },
        { store, digest: mine.manifest.digest, manifest: await readJsonBlob<ImageManifest>(store, mine.manifest, 'manifest'), readManifest: true },
        opts.signal,
      );
      platforms.push({ platform: label, published: p.descriptor.digest, rebuilt: mine.manifest.digest, match: false, difference });
    }
    const indexMatch = !isIndexMediaType(loc.root.mediaType) || rebuilt.index.digest === loc.root.digest;
    if (!indexMatch && platforms.every((p) => p.match)) {
      platforms.push({ platform: 'index', published: loc.root.digest, rebuilt: rebuilt.index.digest, match: false, difference: 'every platform matches, but the index differs (its annotations or platform list)' });
    }
    return { image: ref, match: platforms.every((p) => p.match), platforms };
  } finally {
    await registries?.close();
    await rm(tmp, { recursive: true, force: true });
  }
}
