/**
 * `ociasm build`: for each planned image and platform, squash the base,
 * inject files, write one layer, the config and the manifest; then the image
 * index, and finally the refs in index.json (only for images that succeeded).
 */
import os from 'node:os';
import pLimit from 'p-limit';
import { openBaseSource } from '../base/open-source.js';
import type { BuildFile } from '../buildfile/types.js';
import { LayoutStore } from '../cas/layout-store.js';
import { createGzip } from '../codec/gzip/index.js';
import type { GzipCompressor } from '../codec/gzip/index.js';
import { formatPlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import { imageConfig, imageIndex, imageManifest, jsonBytes, runtimeConfig } from '../image/assemble.js';
import { type Descriptor, MediaType, type Platform } from '../oci/types.js';
import { type ImagePlan, planBuild, type PlatformPlan } from '../plan/plan.js';
import type { Reporter } from '../report/reporter.js';
import type { BaseSource } from '../base/source.js';
import { writeLayer } from '../layer/write-layer.js';
import { applyInjections, squashBase } from './assemble-rootfs.js';
import { writeRefs } from './tags.js';

export interface BuildOptions {
  buildFile: BuildFile;
  outDir: string;
  images?: string[];
  platforms?: string[];
  jobs?: number;
  compressionLevel?: number;
  /** The environment to read SOURCE_DATE_EPOCH from. */
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
}

export interface PlatformResult {
  platform: string;
  manifest: Descriptor;
  config: Descriptor;
  layer: Descriptor & { diffId: string; uncompressedSize: number; files: number; entries: number };
  base?: { name: string; digest: string };
}

export interface ImageResult {
  name: string;
  ref: string;
  index: Descriptor;
  platforms: PlatformResult[];
}

export interface BuildResult {
  layout: string;
  sourceDateEpoch: number;
  images: ImageResult[];
}

export function sourceDateEpoch(bf: BuildFile, env: NodeJS.ProcessEnv): number {
  const fromEnv = env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv)) throw new OciasmError('BUILDFILE_INVALID', `SOURCE_DATE_EPOCH="${fromEnv}" is not a whole number of seconds`);
    return Number(fromEnv);
  }
  return bf.sourceDateEpoch ?? 0;
}

interface Ctx {
  store: LayoutStore;
  gzip: GzipCompressor;
  epoch: number;
  reporter: Reporter;
}

async function buildPlatform(ctx: Ctx, image: ImagePlan, source: BaseSource, plan: PlatformPlan): Promise<PlatformResult> {
  const p = formatPlatform(plan.platform);
  const step = (message: string) => ctx.reporter.emit({ type: 'step', image: image.spec.name, platform: p, message });
  step(`resolving base ${source.spec}`);
  const base = await source.resolve(plan.platform);
  const rootfs = await squashBase(base, (d) => step(`applying base layer ${d.slice(7, 19)}`));
  try {
    step('injecting files');
    applyInjections(rootfs.root, plan, image.where);
    step('writing layer');
    const layer = await writeLayer(rootfs.root, ctx.epoch, ctx.gzip, ctx.store);
    const runtime = runtimeConfig(plan.runtime, base?.config.config);
    const config = imageConfig(plan.platform, runtime, layer.diffId, ctx.epoch, base);
    const configBlob = await ctx.store.putBytes(jsonBytes(config));
    const configDesc: Descriptor = { mediaType: MediaType.ImageConfig, ...configBlob };
    const manifest = imageManifest(configDesc, layer.descriptor, ctx.epoch, base, plan.annotations);
    const manifestBlob = await ctx.store.putBytes(jsonBytes(manifest));
    const result: PlatformResult = {
      platform: p,
      manifest: { mediaType: MediaType.ImageManifest, ...manifestBlob },
      config: configDesc,
      layer: {
        ...layer.descriptor, diffId: layer.diffId, uncompressedSize: layer.uncompressedSize,
        files: layer.stats.files, entries: layer.stats.entries,
      },
    };
    if (base) result.base = { name: base.name, digest: base.manifestDigest };
    return result;
  } finally {
    await rootfs.spool?.dispose();
  }
}

function platformDescriptor(r: PlatformResult, platform: Platform): Descriptor {
  return { mediaType: r.manifest.mediaType, digest: r.manifest.digest, size: r.manifest.size, platform };
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const bf = opts.buildFile;
  const epoch = sourceDateEpoch(bf, opts.env);
  const plans = planBuild(bf, { images: opts.images, platforms: opts.platforms });
  const sources = new Map(plans.map((img) => [img.spec.name, openBaseSource(img.spec.base, bf.dir, `${img.where}`)]));
  const store = await LayoutStore.open(opts.outDir, true);
  const gzip = await createGzip({ level: opts.compressionLevel ?? 6 });
  const limit = pLimit(Math.max(1, opts.jobs ?? os.availableParallelism()));
  const ctx: Ctx = { store, gzip, epoch, reporter: opts.reporter };
  const images: ImageResult[] = [];
  const failures: unknown[] = [];
  try {
    const built = await Promise.allSettled(
      plans.map(async (image): Promise<ImageResult> => {
        const source = sources.get(image.spec.name)!;
        const platforms = await Promise.all(image.platforms.map((pp) => limit(() => buildPlatform(ctx, image, source, pp))));
        const manifests = platforms.map((r, i) => platformDescriptor(r, image.platforms[i]!.platform));
        const annotations = image.platforms[0]!.annotations;
        const indexBlob = await store.putBytes(jsonBytes(imageIndex(manifests, epoch, annotations)));
        return { name: image.spec.name, ref: image.refName, index: { mediaType: MediaType.ImageIndex, ...indexBlob }, platforms };
      }),
    );
    for (const r of built) {
      if (r.status === 'fulfilled') images.push(r.value);
      else failures.push(r.reason);
    }
    if (images.length > 0) await writeRefs(store, images.map((i) => ({ refName: i.ref, descriptor: i.index })));
  } finally {
    await gzip.close();
  }
  if (failures.length > 0) throw failures[0];
  return { layout: store.dir, sourceDateEpoch: epoch, images };
}
