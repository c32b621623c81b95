/**
 * `ociasm build`: for each planned image and platform, squash the base,
 * inject files, write one layer, the config and the manifest; then the image
 * index, and finally the refs in index.json (only for images that succeeded).
 */
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { openBaseSource } from '../base/open-source.js';
import type { BuildFile } from '../buildfile/types.js';
import { LayoutStore } from '../cas/layout-store.js';
import { createGzip, gzipSettingsKey } from '../codec/gzip/index.js';
import type { GzipCompressor } from '../codec/gzip/index.js';
import { formatPlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import { imageConfig, imageIndex, imageManifest, jsonBytes, runtimeConfig } from '../image/assemble.js';
import { type Descriptor, MediaType, type Platform } from '../oci/types.js';
import { type ImagePlan, planBuild, type PlatformPlan } from '../plan/plan.js';
import type { Reporter } from '../report/reporter.js';
import type { BaseSource } from '../base/source.js';
import { type LayerReuse, writeLayer } from '../layer/write-layer.js';
import { LayerCache } from '../cache/layer-cache.js';
import { applyInjections, squashBase } from './assemble-rootfs.js';
import { applyAccounts } from '../accounts/apply.js';
import { writeRefs } from './tags.js';
import type { InBuildLookup } from '../base/in-build-source.js';
import { inBuildBaseName } from '../plan/order.js';
import { runSelfCheck } from '../selfcheck/run-check.js';
import { defaultCacheDir, ToolchainCache } from '../toolchain/cache.js';
import { gitInfoIfUsed } from '../toolchain/git-info.js';
import { injectOutputs } from '../toolchain/inject.js';
import type { RestoredOutput } from '../toolchain/outputs.js';
import { runBuildStep } from '../toolchain/step.js';
import type { PushResult } from '../copy/push.js';
import { BuildRegistrySession, type RegistryCliOptions } from '../registry/session.js';

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
  /** `--build-arg KEY=VAL`. */
  buildArgs?: Record<string, string>;
  /** `--extract DIR`: copy each platform's build outputs to DIR/<platformTag>/. */
  extractDir?: string;
  /** `--no-cache`: always run the build step. */
  noCache?: boolean;
  /** `--skip-tests`: do not run the images' self-checks. */
  skipTests?: boolean;
  /** The build cache folder; default OCIASM_CACHE_DIR or ~/.cache/ociasm. */
  cacheDir?: string;
  /** `--no-layer-cache`: always tar and compress (default: reuse an unchanged layer's blob, docs/bench.md). */
  layerCache?: boolean;
  /** Registry bases, `--push`, `--lock`, TLS and credentials (docs/registries.md). */
  registry?: RegistryCliOptions;
}

export interface PlatformResult {
  platform: string;
  manifest: Descriptor;
  config: Descriptor;
  /** `cached`: the blob was reused from the layer cache, nothing was compressed. */
  layer: Descriptor & { diffId: string; uncompressedSize: number; files: number; entries: number; cached: boolean };
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
  /** What `--push` pushed. */
  pushed?: PushResult;
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
  opts: BuildOptions;
  cache: ToolchainCache;
  layers?: LayerReuse;
}

/** The toolchain step (or its cached outputs), then the platform's image; the outputs' work folder is removed after. */
async function buildPlatformWithStep(ctx: Ctx, image: ImagePlan, source: BaseSource, plan: PlatformPlan, signal: AbortSignal): Promise<PlatformResult> {
  if (signal.aborted) throw signal.reason;
  const built = plan.build
    ? await runBuildStep(plan.build, {
      image: image.spec.name, platform: plan.platform, reporter: ctx.reporter, env: ctx.opts.env, epoch: ctx.epoch,
      cache: ctx.cache, noCache: !!ctx.opts.noCache, signal, ...(ctx.opts.extractDir ? { extractDir: ctx.opts.extractDir } : {}),
    })
    : undefined;
  try {
    return await buildPlatform(ctx, image, source, plan, signal, built?.outputs);
  } finally {
    await built?.dispose();
  }
}

async function buildPlatform(
  ctx: Ctx, image: ImagePlan, source: BaseSource, plan: PlatformPlan, signal: AbortSignal, outputs?: RestoredOutput[],
): Promise<PlatformResult> {
  const p = formatPlatform(plan.platform);
  const step = (message: string) => ctx.reporter.emit({ type: 'step', image: image.spec.name, platform: p, message });
  step(`resolving base ${source.spec}`);
  const base = await source.resolve(plan.platform, image.spec.baseVariantFallback);
  const rootfs = await squashBase(base, (d) => step(`applying base layer ${d.slice(7, 19)}`));
  try {
    step('injecting files');
    if (outputs) injectOutputs(rootfs.root, outputs, image.where);
    applyInjections(rootfs.root, plan, image.where);
    const runtimeSpec = await applyAccounts(rootfs.root, plan, image.where);
    step('writing layer');
    const layer = await writeLayer(rootfs.root, ctx.epoch, ctx.gzip, ctx.store, ctx.layers);
    const runtime = runtimeConfig(runtimeSpec, base?.config.config);
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
        files: layer.stats.files, entries: layer.stats.entries, cached: layer.cached,
      },
    };
    if (base) result.base = { name: base.name, digest: base.manifestDigest };
    if (plan.test && !ctx.opts.skipTests) {
      await runSelfCheck({
        image: image.spec.name, platform: plan.platform, test: plan.test, root: rootfs.root, reporter: ctx.reporter,
        env: ctx.opts.env, epoch: ctx.epoch, cwd: ctx.opts.buildFile.dir, where: image.where, signal,
      });
    }
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
  const plans = planBuild(bf, {
    images: opts.images, platforms: opts.platforms, epoch,
    ...(opts.buildArgs ? { args: opts.buildArgs } : {}),
    ...(await gitInfoIfUsed(bf).then((git) => (git ? { git } : {}))),
  });
  const results = new Map<string, Promise<ImageResult>>();
  const inBuild: InBuildLookup = async (name) => {
    const r = await results.get(name)!;
    return { refName: r.ref, index: r.index, store };
  };
  const registry = await BuildRegistrySession.open(bf, opts.registry, opts.env, opts.cacheDir ?? defaultCacheDir(opts.env));
  const sources = new Map(plans.map((img) => [img.spec.name, openBaseSource(img.spec.base, bf.dir, `${img.where}`, inBuild, registry.pull)]));
  const store = await LayoutStore.open(opts.outDir, true);
  const gzip = await createGzip({ level: opts.compressionLevel ?? 6 });
  const limit = pLimit(Math.max(1, opts.jobs ?? os.availableParallelism()));
  const cache = new ToolchainCache(opts.cacheDir ?? defaultCacheDir(opts.env));
  const ctx: Ctx = { store, gzip, epoch, reporter: opts.reporter, opts, cache };
  if (opts.layerCache !== false) ctx.layers = { index: new LayerCache(path.join(cache.dir, 'layers')), settings: gzipSettingsKey(gzip) };
  const images: ImageResult[] = [];
  const failures: unknown[] = [];
  try {
    // Images start in dependency order; one whose base is image:NAME waits for NAME (outside the job limit).
    const buildImage = async (image: ImagePlan): Promise<ImageResult> => {
      const dep = inBuildBaseName(image.spec.base);
      if (dep !== undefined) {
        await results.get(dep)!.catch((e: unknown) => {
          throw new OciasmError('BASE_FAILED', `${image.where}: not built because its base image "${dep}" failed`, { cause: e });
        });
      }
      if (image.platforms[0]?.test && opts.skipTests) opts.reporter.emit({ type: 'warn', message: `${image.where}: self-check skipped (--skip-tests)` });
      const source = sources.get(image.spec.name)!;
      // The first failing platform cancels the image's running steps and the ones not started.
      const abort = new AbortController();
      const settled = await Promise.allSettled(image.platforms.map((pp) => limit(async () => {
        try {
          return await buildPlatformWithStep(ctx, image, source, pp, abort.signal);
        } catch (e) {
          if (!abort.signal.aborted) abort.abort(e);
          throw e;
        }
      })));
      if (abort.signal.aborted) throw abort.signal.reason;
      const platforms = settled.map((r) => (r as PromiseFulfilledResult<PlatformResult>).value);
      const manifests = platforms.map((r, i) => platformDescriptor(r, image.platforms[i]!.platform));
      const annotations = image.platforms[0]!.annotations;
      const indexBlob = await store.putBytes(jsonBytes(imageIndex(manifests, epoch, annotations)));
      return { name: image.spec.name, ref: image.refName, index: { mediaType: MediaType.ImageIndex, ...indexBlob }, platforms };
    };
    for (const image of plans) results.set(image.spec.name, buildImage(image));
    const built = await Promise.allSettled(plans.map((image) => results.get(image.spec.name)!));
    for (const r of built) {
      if (r.status === 'fulfilled') images.push(r.value);
      else failures.push(r.reason);
    }
    if (images.length > 0) await writeRefs(store, images.map((i) => ({ refName: i.ref, descriptor: i.index })));
  } finally {
    await gzip.close();
    if (failures.length > 0) await registry.close();
  }
  for (const e of failures.slice(1)) opts.reporter.emit({ type: 'warn', message: `also failed: ${e instanceof Error ? e.message : String(e)}` });
  if (failures.length > 0) throw failures[0];
  let pushed: PushResult | undefined;
  try {
    pushed = await registry.afterBuild(images, store, opts.reporter);
  } finally {
    await registry.close();
  }
  return { layout: store.dir, sourceDateEpoch: epoch, images, ...(pushed ? { pushed } : {}) };
}
