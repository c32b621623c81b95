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
import type { InflateLimits } from '../base/layer-stream.js';
import { LayoutStore } from '../cas/layout-store.js';
import { type Compression, LayerCodecs } from '../layer/codecs.js';
import { OciasmError } from '../errors.js';
import type { Reporter } from '../report/reporter.js';
import { LayerCache } from '../cache/layer-cache.js';
import { imageIndex, jsonBytes } from '../image/assemble.js';
import { type Descriptor, MediaType } from '../oci/types.js';
import { type ImagePlan, planBuild } from '../plan/plan.js';
import { buildPlatformWithStep, platformDescriptor, type PlatformCtx, type PlatformResult } from './platform.js';
import { writeRefs } from './tags.js';
import type { InBuildLookup } from '../base/in-build-source.js';
import { IN_BUILD_PREFIX } from '../plan/order.js';
import { defaultCacheDir, ToolchainCache } from '../toolchain/cache.js';
import { gitInfoIfUsed } from '../plan/git-info.js';
import type { PushResult } from '../copy/push.js';
import type { BuildRegistrySession, RegistryCliOptions } from './registry-session.js';
import type { SupplyOptions, Tool } from './attest-step.js';
import type { Artifact } from '../supply/artifact.js';
import type { PushedArtifact } from '../supply/registry-referrers.js';

export interface BuildOptions {
  buildFile: BuildFile;
  outDir: string;
  images?: string[];
  platforms?: string[];
  jobs?: number;
  /** `--compression-level`: the level of whichever compression an image uses (gzip 1-9, zstd 1-19). */
  compressionLevel?: number;
  /** `--compression`: every image's layer compression, over the build file's. */
  compression?: Compression;
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
  /** `--max-layer-size`, `--max-inflate-ratio`: decompression-bomb limits for base layers (docs/security.md). */
  limits?: InflateLimits;
  /** `--lock-timeout`: how long to wait for another process's lock on the layout's index.json (docs/security.md). */
  lockTimeoutMs?: number;
  /** Registry bases, `--push`, `--lock`, TLS and credentials (docs/registries.md). */
  registry?: RegistryCliOptions;
  /** `--sbom`, `--provenance`, `--sign KEY` (docs/supply-chain.md); `tool` names ociasm in SBOMs and provenance. */
  supply?: SupplyOptions & { tool?: Tool };
}

export type { PlatformResult } from './platform.js';

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
  /** The SBOMs, provenance and signatures attached (`--sbom`, `--provenance`, `--sign`). */
  attached?: { image: string; digest: string; artifactType?: string; subject: string }[];
  /** Where `--push` put them. */
  pushedArtifacts?: PushedArtifact[];
}

export function sourceDateEpoch(bf: BuildFile, env: NodeJS.ProcessEnv): number {
  const fromEnv = env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv)) throw new OciasmError('BUILDFILE_INVALID', `SOURCE_DATE_EPOCH="${fromEnv}" is not a whole number of seconds`);
    return Number(fromEnv);
  }
  return bf.sourceDateEpoch ?? 0;
}

const LOCAL_BASE = /^(scratch$|oci:|rootfs:|image:)/;

/**
 * The registry session (and with it undici and the TLS setup) is loaded only
 * when a base is a registry reference, or for --push or --lock.
 */
async function openRegistrySession(bf: BuildFile, plans: ImagePlan[], opts: BuildOptions): Promise<BuildRegistrySession | undefined> {
  const needed = !!opts.registry?.push || !!opts.registry?.lock || plans.some((p) => !LOCAL_BASE.test(p.spec.base));
  if (!needed) return undefined;
  const { BuildRegistrySession } = await import('./registry-session.js');
  return BuildRegistrySession.open(bf, plans, opts.registry, opts.env, opts.cacheDir ?? defaultCacheDir(opts.env));
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const bf = opts.buildFile;
  const epoch = sourceDateEpoch(bf, opts.env);
  const plans = planBuild(bf, {
    images: opts.images, platforms: opts.platforms, epoch,
    ...(opts.buildArgs ? { args: opts.buildArgs } : {}),
    ...(await gitInfoIfUsed(bf).then((git) => (git ? { git } : {}))),
  });
  // CLI over image over file; gzip by default. Levels are checked before anything is written.
  const compressionOf = (img: ImagePlan): Compression => opts.compression ?? img.spec.compression ?? bf.compression ?? 'gzip';
  const codecs = await LayerCodecs.prepare(plans.map(compressionOf), opts.compressionLevel);
  // Images are identified by NAME:TAG (their refName); an image: base is resolved to one by the plan.
  const results = new Map<string, Promise<ImageResult>>();
  const inBuild: InBuildLookup = async (refName) => {
    const r = await results.get(refName)!;
    return { refName: r.ref, index: r.index, store };
  };
  const supply = opts.supply;
  const attest = supply && (supply.sbom || supply.provenance || supply.signKey) ? await import('./attest-step.js') : undefined;
  const key = await attest?.loadBuildKey(supply, opts.env); // a wrong password fails before anything is built
  const registry = await openRegistrySession(bf, plans, opts);
  const baseOf = (img: ImagePlan) => (img.inBuildBase !== undefined ? `${IN_BUILD_PREFIX}${img.inBuildBase}` : img.spec.base);
  const sources = new Map(plans.map((img) => [img.refName, openBaseSource(baseOf(img), bf.dir, `${img.where}`, inBuild, registry?.pull)]));
  const lock = opts.lockTimeoutMs !== undefined ? { timeoutMs: opts.lockTimeoutMs } : {};
  const store = await LayoutStore.open(opts.outDir, true, lock).catch(async (e: unknown) => {
    await registry?.close();
    throw e;
  });
  // Each compression's pool (and gzip's self-test) starts now, while the first bases are squashed.
  for (const img of plans) void codecs.get(compressionOf(img));
  const limit = pLimit(Math.max(1, opts.jobs ?? os.availableParallelism()));
  const cache = new ToolchainCache(opts.cacheDir ?? defaultCacheDir(opts.env));
  const ctx: PlatformCtx = { store, codec: (img) => codecs.get(compressionOf(img)), epoch, reporter: opts.reporter, opts, cache };
  if (opts.layerCache !== false) ctx.layers = { index: new LayerCache(path.join(cache.dir, 'layers')) };
  const images: ImageResult[] = [];
  const failures: unknown[] = [];
  let artifacts: Map<string, Artifact[]> | undefined;
  try {
    // Images start in dependency order; one whose base is image:NAME waits for NAME (outside the job limit).
    const buildImage = async (image: ImagePlan): Promise<ImageResult> => {
      const dep = image.inBuildBase;
      if (dep !== undefined) {
        await results.get(dep)!.catch((e: unknown) => {
          throw new OciasmError('BASE_FAILED', `${image.where}: not built because its base image "${dep}" failed`, { cause: e });
        });
      }
      if (image.platforms[0]?.test && opts.skipTests) opts.reporter.emit({ type: 'warn', message: `${image.where}: self-check skipped (--skip-tests)` });
      const source = sources.get(image.refName)!;
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
    for (const image of plans) results.set(image.refName, buildImage(image));
    const built = await Promise.allSettled(plans.map((image) => results.get(image.refName)!));
    for (const r of built) {
      if (r.status === 'fulfilled') images.push(r.value);
      else failures.push(r.reason);
    }
    if (images.length > 0) await writeRefs(store, images.map((i) => ({ refName: i.ref, descriptor: i.index })), lock);
    if (attest && images.length > 0 && failures.length === 0) {
      opts.reporter.emit({ type: 'step', image: 'supply', message: 'attaching SBOMs, provenance and signatures' });
      artifacts = await attest.attachSupplyChain(store, bf, plans, images, supply!, key, {
        epoch, args: { ...(bf.args ?? {}), ...(opts.buildArgs ?? {}) }, tool: supply!.tool ?? { name: 'ociasm', version: '0.0.0' },
      });
    }
  } finally {
    await codecs.closeAll();
    if (failures.length > 0) await registry?.close();
  }
  for (const e of failures.slice(1)) opts.reporter.emit({ type: 'warn', message: `also failed: ${e instanceof Error ? e.message : String(e)}` });
  if (failures.length > 0) throw failures[0];
  let pushed: PushResult | undefined;
  let pushedArtifacts: PushedArtifact[] | undefined;
  try {
    const byRef = new Map(plans.map((p) => [p.refName, p]));
    pushed = await registry?.afterBuild(images.map((i) => ({ ...i, plan: byRef.get(i.ref)! })), store, opts.reporter);
    if (pushed && artifacts) pushedArtifacts = await registry!.pushArtifacts(images.map((i) => ({ ...i, plan: byRef.get(i.ref)! })), artifacts, opts.reporter);
  } finally {
    await registry?.close();
  }
  const attached = artifacts
    ? [...artifacts].flatMap(([image, list]) => list.map((a) => ({
      image, digest: a.descriptor.digest, subject: a.manifest.subject!.digest, ...(a.manifest.artifactType ? { artifactType: a.manifest.artifactType } : {}),
    })))
    : undefined;
  return {
    layout: store.dir, sourceDateEpoch: epoch, images, ...(pushed ? { pushed } : {}),
    ...(attached ? { attached } : {}), ...(pushedArtifacts ? { pushedArtifacts } : {}),
  };
}
