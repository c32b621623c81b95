/**
 * One platform of one image: the toolchain step (or its cached outputs), the
 * base squashed, files, paths and accounts applied, the layer, config and
 * manifest written, and the self-check run.
 */
import type { BaseSource } from '../base/source.js';
import type { BlobStore } from '../cas/blob-store.js';
import type { LayoutStore } from '../cas/layout-store.js';
import type { LayerCodec } from '../layer/codecs.js';
import { formatPlatform } from '../codec/platform.js';
import { applyAccounts } from '../accounts/apply.js';
import { imageConfig, imageManifest, jsonBytes, runtimeConfig } from '../image/assemble.js';
import { type LayerReuse, type RemoteLayers, writeLayer } from '../layer/write-layer.js';
import { type Descriptor, MediaType, type Platform } from '../oci/types.js';
import type { ImagePlan, PlatformPlan } from '../plan/plan.js';
import type { Reporter } from '../report/reporter.js';
import { runSelfCheck } from '../selfcheck/run-check.js';
import type { ToolchainCache } from '../toolchain/cache.js';
import { injectOutputs } from '../toolchain/inject.js';
import type { RestoredOutput } from '../toolchain/outputs.js';
import { runBuildStep } from '../toolchain/step.js';
import { applyInjections, squashBase } from './assemble-rootfs.js';
import type { BuildOptions } from './build.js';

export interface PlatformResult {
  platform: string;
  manifest: Descriptor;
  config: Descriptor;
  /**
   * `cached`: the blob was reused from a layer cache, nothing was compressed; `cache` says which:
   * `local` (the fingerprint index) or `registry` (--cache-repo, the blob proven against the tar).
   */
  layer: Descriptor & { diffId: string; uncompressedSize: number; files: number; entries: number; cached: boolean; cache?: 'local' | 'registry' };
  base?: { name: string; digest: string };
}

/**
 * The store with its `put` streams counted: the layer's compressed bytes as
 * they are written, for the progress rows. A Proxy, so it is still the same
 * kind of store (`instanceof LayoutStore` holds for the layer cache's checks).
 */
function countingStore<S extends BlobStore>(store: S, onBytes: (total: number) => void): S {
  async function* tally(data: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let total = 0;
    for await (const chunk of data) {
      total += chunk.length;
      onBytes(total);
      yield chunk;
    }
  }
  return new Proxy(store, {
    get(target, key) {
      if (key === 'put') return (data: AsyncIterable<Uint8Array>, expected?: Parameters<BlobStore['put']>[1]) => target.put(tally(data), expected);
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export interface PlatformCtx {
  store: LayoutStore;
  /** Ready once its self-test has run; started before the bases are squashed. */
  /** The image's layer codec; its pool is started before the bases are squashed. */
  codec: (image: ImagePlan) => Promise<LayerCodec>;
  epoch: number;
  reporter: Reporter;
  opts: BuildOptions;
  cache: ToolchainCache;
  layers?: LayerReuse;
  /** `--cache-repo`: the layer cache in a registry repository (./cache-repo.ts). */
  remote?: RemoteLayers;
}

/** The toolchain step (or its cached outputs), then the platform's image; the outputs' work folder is removed after. */
export async function buildPlatformWithStep(ctx: PlatformCtx, image: ImagePlan, source: BaseSource, plan: PlatformPlan, signal: AbortSignal): Promise<PlatformResult> {
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
  ctx: PlatformCtx, image: ImagePlan, source: BaseSource, plan: PlatformPlan, signal: AbortSignal, outputs?: RestoredOutput[],
): Promise<PlatformResult> {
  const p = formatPlatform(plan.platform);
  const step = (message: string) => ctx.reporter.emit({ type: 'step', image: image.spec.name, platform: p, message });
  step(`resolving base ${source.spec}`);
  const base = await source.resolve(plan.platform, image.spec.baseVariantFallback);
  const rootfs = await squashBase(base, (d) => step(`applying base layer ${d.slice(7, 19)}`), ctx.opts.limits);
  try {
    step('injecting files');
    if (outputs) injectOutputs(rootfs.root, outputs, image.where);
    applyInjections(rootfs.root, plan, image.where);
    const runtimeSpec = await applyAccounts(rootfs.root, plan, image.where);
    step('writing layer');
    const counted = countingStore(ctx.store, (bytes) => ctx.reporter.emit({ type: 'step', image: image.spec.name, platform: p, message: 'writing layer', bytes }));
    const layer = await writeLayer(rootfs.root, ctx.epoch, await ctx.codec(image), counted, ctx.layers, ctx.remote, signal);
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
        ...(layer.cache ? { cache: layer.cache } : {}),
      },
    };
    if (base) result.base = { name: base.name, digest: base.manifestDigest };
    if (plan.test && !ctx.opts.skipTests) {
      await runSelfCheck({
        image: image.spec.name, platform: plan.platform, test: plan.test, root: rootfs.root, reporter: ctx.reporter,
        env: ctx.opts.env, epoch: ctx.epoch, cwd: ctx.opts.buildFile.dir, where: image.where, signal,
        runtime: {
          ...(config.config?.Env ? { env: config.config.Env } : {}),
          ...(config.config?.User ? { user: config.config.User } : {}),
          ...(config.config?.WorkingDir ? { workdir: config.config.WorkingDir } : {}),
        },
      });
    }
    ctx.reporter.emit({ type: 'done', image: image.spec.name, platform: p, message: `${layer.cache === 'registry' ? 'done (layer from the cache repository)' : layer.cached ? 'done (layer cached)' : 'done'} ${manifestBlob.digest.slice(7, 19)}` });
    return result;
  } finally {
    await rootfs.spool?.dispose();
  }
}

export function platformDescriptor(r: PlatformResult, platform: Platform): Descriptor {
  return { mediaType: r.manifest.mediaType, digest: r.manifest.digest, size: r.manifest.size, platform };
}
