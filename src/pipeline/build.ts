/**
 * `ociasm build`: for each planned image and platform, squash the base,
 * inject files, write one layer, the config and the manifest into the work
 * layout (./output.ts); then the image index, and finally the images that
 * succeeded are copied into the destination through the one copy (refs
 * written at its commit), then pushed (./registry-session.ts).
 * A single-platform destination (docker-archive:, docker-daemon:) narrows the
 * build to one platform: the one --platform names, else the image's only
 * one, else the host's (`hostPlatform`, passed in), and says so.
 * With `--cache-repo` (./cache-repo.ts) layers are looked up in a registry
 * repository first; the output and the push mount the blobs it gave, and it
 * is written after them (after the output alone when an image failed).
 */
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { openBaseSource, type PullContext } from '../base/open-source.js';
import { openBlobCache } from '../cache/blob-cache.js';
import { formatPlatform } from '../codec/platform.js';
import { copyImages } from '../copy/copy.js';
import { platformMatches } from '../image/read.js';
import type { Platform } from '../oci/types.js';
import { commandContext } from '../transports/context.js';
import { splitImageName } from '../transports/index.js';
import { parseReference } from '../codec/reference.js';
import type { BaseSource } from '../base/source.js';
import { LayoutImageSource } from '../transports/oci.js';
import { type BuildOutput, openBuildOutput } from './output.js';
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
import type { InBuildLookup } from '../base/in-build-source.js';
import { IN_BUILD_PREFIX } from '../plan/order.js';
import { defaultCacheDir, ToolchainCache } from '../toolchain/cache.js';
import { gitInfoIfUsed } from '../plan/git-info.js';
import { BuildRegistrySession, buildRegistryOptions, type PushResult, type RegistryCliOptions } from './registry-session.js';
import type { SupplyOptions, Tool } from './attest-step.js';
import type { Artifact } from '../supply/artifact.js';
import type { PushedArtifact } from '../supply/registry-referrers.js';
import { BlobLocations } from '../transports/types.js';
import { DOCKER_TRANSPORT } from '../transports/docker.js';
import { CacheRepo, type CacheRepoSummary, parseCacheRepo } from './cache-repo.js';

export interface BuildOptions {
  buildFile: BuildFile;
  /** `-o`: TRANSPORT:… (docs/transports.md), a bare value is a layout directory; default `oci` (the layout ./oci). */
  output?: string;
  /** A layout directory to write, taken as is (no `:REF` parsing); the library's older spelling of `output: 'oci:DIR'`. */
  outDir?: string;
  /** Relative `-o` paths are resolved against this folder (default: the process's). */
  cwd?: string;
  /** The platform a single-platform destination gets when neither --platform nor the image decides. */
  hostPlatform?: Platform;
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
  /** `--no-layer-cache`: always tar and compress (default: reuse an unchanged layer's blob, docs/bench.md); with cacheRepo, it is still written. */
  layerCache?: boolean;
  /** `--cache-repo HOST/REPO`: the layer cache kept in a registry repository (docs/cache-repo.md). */
  cacheRepo?: string;
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
  /** The -o layout, when -o is one. */
  layout?: string;
  /** The destination, transport-qualified. */
  output: string;
  sourceDateEpoch: number;
  images: ImageResult[];
  /** What `--push` pushed. */
  pushed?: PushResult;
  /** The SBOMs, provenance and signatures attached (`--sbom`, `--provenance`, `--sign`). */
  attached?: { image: string; digest: string; artifactType?: string; subject: string }[];
  /** Where `--push` put them. */
  pushedArtifacts?: PushedArtifact[];
  /** `--cache-repo`: hits, misses and entries written; `compressedLayers` counts every layer this build compressed. */
  cacheRepo?: CacheRepoSummary & { compressedLayers: number };
}

export function sourceDateEpoch(bf: BuildFile, env: NodeJS.ProcessEnv): number {
  const fromEnv = env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv)) throw new OciasmError('BUILDFILE_INVALID', `SOURCE_DATE_EPOCH="${fromEnv}" is not a whole number of seconds`);
    return Number(fromEnv);
  }
  return bf.sourceDateEpoch ?? 0;
}

/** A registry base, by its transport: bare values are registry references. */
function isRegistryName(text: string): boolean {
  return text !== 'scratch' && !text.startsWith('image:') && splitImageName(text, 'docker').transport === 'docker';
}

/** `--load` (`-o docker-daemon:` without a name) loads the image under its own NAME:TAG; it builds one image. */
function daemonOutput(output: string, plans: ImagePlan[]): string {
  if (output !== 'docker-daemon:') return output;
  if (plans.length !== 1) {
    throw new OciasmError('REFERENCE_INVALID', `--load loads one image, and the build makes ${plans.length} (${plans.map((p) => p.refName).join(', ')}): name the image to build`);
  }
  return `docker-daemon:${plans[0]!.refName}`;
}

/** One platform per image for a single-platform destination (see the header). */
function narrowToOne(plans: ImagePlan[], named: boolean, host: Platform | undefined, dest: string, reporter: BuildOptions['reporter']): ImagePlan[] {
  return plans.map((plan) => {
    if (plan.platforms.length <= 1) return plan;
    if (named) throw new OciasmError('PLATFORM_INVALID', `${plan.where}: ${dest} holds one platform; --platform names ${plan.platforms.length}`);
    const hit = host ? plan.platforms.find((p) => platformMatches(host, p.platform)) : undefined;
    if (!hit) {
      throw new OciasmError(
        'PLATFORM_INVALID',
        `${plan.where}: ${dest} holds one platform, and the image has ${plan.platforms.map((p) => formatPlatform(p.platform)).join(', ')}` +
          `${host ? `, not the host's ${formatPlatform(host)}` : ''}: name one with --platform`,
      );
    }
    reporter.emit({ type: 'warn', message: `${plan.where}: ${dest} holds one platform: building ${formatPlatform(hit.platform)} (the host's; name another with --platform)` });
    return { ...plan, platforms: [hit] };
  });
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const bf = opts.buildFile;
  const epoch = sourceDateEpoch(bf, opts.env);
  let plans = planBuild(bf, {
    images: opts.images, platforms: opts.platforms, epoch,
    ...(opts.buildArgs ? { args: opts.buildArgs } : {}),
    ...(await gitInfoIfUsed(bf).then((git) => (git ? { git } : {}))),
  });
  // CLI over image over file; gzip by default. Levels are checked before anything is written.
  const compressionOf = (img: ImagePlan): Compression => opts.compression ?? img.spec.compression ?? bf.compression ?? 'gzip';
  const codecs = await LayerCodecs.prepare(plans.map(compressionOf), opts.compressionLevel);
  // Images are identified by NAME:TAG (their refName); an image: base is resolved to one by the plan.
  const results = new Map<string, Promise<ImageResult>>();
  let store: LayoutStore | undefined;
  const inBuild: InBuildLookup = async (refName) => {
    const r = await results.get(refName)!;
    return { refName: r.ref, index: r.index, store: store! };
  };
  const supply = opts.supply;
  const attest = supply && (supply.sbom || supply.provenance || supply.signKey) ? await import('./attest-step.js') : undefined;
  const key = await attest?.loadBuildKey(supply, opts.env); // a wrong password fails before anything is built
  const baseOf = (img: ImagePlan) => (img.inBuildBase !== undefined ? `${IN_BUILD_PREFIX}${img.inBuildBase}` : img.spec.base);
  const cacheRoot = opts.cacheDir ?? defaultCacheDir(opts.env);
  if (opts.output !== undefined && opts.outDir !== undefined) throw new OciasmError('REFERENCE_INVALID', 'build: give output or outDir, not both');
  const outputName = opts.outDir !== undefined ? { layout: opts.outDir } : daemonOutput(opts.output ?? 'oci', plans);
  const out = typeof outputName === 'string' ? splitImageName(outputName, 'oci') : { transport: 'oci', rest: '' };
  const cacheRef = opts.cacheRepo !== undefined ? parseCacheRepo(opts.cacheRepo) : undefined;
  const outRegistry = [...(out.transport === 'docker' ? [parseReference(out.rest).registry] : []), ...(cacheRef ? [cacheRef.registry] : [])];
  // Registry clients (undici, TLS) are made on first use only: a build with local images only never loads them.
  const transports = commandContext(opts.cwd ?? process.cwd(), opts.env, buildRegistryOptions(bf, plans, opts.registry, outRegistry));
  const needsSession = !!opts.registry?.push || !!opts.registry?.lock || plans.some((p) => isRegistryName(baseOf(p)));
  const lock = opts.lockTimeoutMs !== undefined ? { timeoutMs: opts.lockTimeoutMs } : {};
  let output: BuildOutput | undefined;
  const warn = (message: string) => opts.reporter.emit({ type: 'warn', message });
  const cacheRepo = cacheRef ? new CacheRepo(cacheRef, transports.registries!, warn, opts.layerCache !== false, opts.registry?.debug) : undefined;
  try {
    const registry = needsSession ? await BuildRegistrySession.open(bf, opts.registry) : undefined;
    let blobCache: Promise<LayoutStore> | undefined;
    const pull: PullContext = {
      ctx: { ...transports, cwd: bf.dir },
      cache: () => (blobCache ??= openBlobCache(opts.registry?.cacheDir ?? path.join(cacheRoot, 'registry'))),
      ...(registry?.pins ? { pins: registry.pins } : {}),
      ...(registry ? { resolved: registry.resolved } : {}),
    };
    const sources = new Map(plans.map((img) => [img.refName, openBaseSource(baseOf(img), `${img.where}`, pull, inBuild)]));
    const named = opts.platforms?.length === 1 ? opts.platforms[0] : undefined;
    output = await openBuildOutput(outputName, transports, path.join(cacheRoot, 'work'), plans.length, { ...(named ? { platform: named } : {}), lock });
    if (!output.destination.capabilities.multiPlatform) {
      plans = narrowToOne(plans, (opts.platforms?.length ?? 0) > 0, opts.hostPlatform, output.destination.name, opts.reporter);
    }
    store = output.work;
    const { images: built, failures } = await buildAll(opts, plans, sources, store, results, epoch, codecs, compressionOf, cacheRepo);
    // The blobs the cache repository gave are mounted from it rather than uploaded (same registry).
    const locations = new BlobLocations();
    for (const d of cacheRepo?.hitBlobs ?? []) locations.add(d, { transport: DOCKER_TRANSPORT, location: cacheRepo!.label });
    // The images that succeeded are written even when others failed; nothing is attached or pushed then.
    if (built.length > 0) await writeOutput(opts, built, output, locations);
    for (const e of failures.slice(1)) opts.reporter.emit({ type: 'warn', message: `also failed: ${e instanceof Error ? e.message : String(e)}` });
    if (failures.length > 0) {
      await cacheRepo?.flush(store, locations);
      throw failures[0];
    }
    let artifacts: Map<string, Artifact[]> | undefined;
    if (attest && built.length > 0) {
      opts.reporter.emit({ type: 'step', image: 'supply', message: 'attaching SBOMs, provenance and signatures' });
      artifacts = await attest.attachSupplyChain(store, bf, plans, built, supply!, key, {
        epoch, args: { ...(bf.args ?? {}), ...(opts.buildArgs ?? {}) }, tool: supply!.tool ?? { name: 'ociasm', version: '0.0.0' }, lock,
      });
    }
    const byRef = new Map(plans.map((p) => [p.refName, p]));
    const withPlans = built.map((i) => ({ ...i, plan: byRef.get(i.ref)! }));
    const pushed = await registry?.afterBuild(withPlans, output.work, transports, opts.reporter, locations);
    const pushedArtifacts = pushed && artifacts ? await registry!.pushArtifacts(withPlans, artifacts, transports, opts.reporter) : undefined;
    const attached = artifacts
      ? [...artifacts].flatMap(([image, list]) => list.map((a) => ({
        image, digest: a.descriptor.digest, subject: a.manifest.subject!.digest, ...(a.manifest.artifactType ? { artifactType: a.manifest.artifactType } : {}),
      })))
      : undefined;
    await cacheRepo?.flush(store, locations);
    return {
      ...(output.layout ? { layout: output.layout } : {}), output: output.destination.name, sourceDateEpoch: epoch, images: built,
      ...(pushed ? { pushed } : {}), ...(attached ? { attached } : {}), ...(pushedArtifacts ? { pushedArtifacts } : {}),
      ...(cacheRepo ? { cacheRepo: { ...cacheRepo.summary(), compressedLayers: codecs.compressedLayers } } : {}),
    };
  } finally {
    await output?.close();
    await transports.close();
  }
}

/** Copies the built images from the work layout into the destination (refs at its commit). */
async function writeOutput(opts: BuildOptions, images: ImageResult[], output: BuildOutput, locations: BlobLocations): Promise<void> {
  const source = new LayoutImageSource(output.work);
  const requests = await Promise.all(images.map(async (img) => ({
    source,
    from: { descriptor: { mediaType: img.index.mediaType, digest: img.index.digest, size: img.index.size }, bytes: await output.work.readBytes(img.index.digest) },
    destination: output.destination,
    tags: output.tagsFor(img.ref),
  })));
  await copyImages(requests, {
    jobs: opts.registry?.jobs ?? 4,
    existingIndex: opts.registry?.existingIndex ?? 'refuse',
    progress: (message) => opts.reporter.emit({ type: 'step', image: 'output', message }),
    locations,
  });
}

async function buildAll(
  opts: BuildOptions, plans: ImagePlan[], sources: Map<string, BaseSource>, store: LayoutStore,
  results: Map<string, Promise<ImageResult>>, epoch: number, codecs: LayerCodecs, compressionOf: (img: ImagePlan) => Compression,
  cacheRepo: CacheRepo | undefined,
): Promise<{ images: ImageResult[]; failures: unknown[] }> {
  // Each compression's pool (and gzip's self-test) starts now, while the first bases are squashed;
  // with a cache repository to look in, only when a layer needs it.
  if (!cacheRepo?.lookups) for (const img of plans) void codecs.get(compressionOf(img));
  const limit = pLimit(Math.max(1, opts.jobs ?? os.availableParallelism()));
  const cache = new ToolchainCache(opts.cacheDir ?? defaultCacheDir(opts.env));
  const codec = cacheRepo?.lookups ? (img: ImagePlan) => codecs.lazy(compressionOf(img)) : (img: ImagePlan) => codecs.get(compressionOf(img));
  const ctx: PlatformCtx = { store, codec, epoch, reporter: opts.reporter, opts, cache };
  if (opts.layerCache !== false) ctx.layers = { index: new LayerCache(path.join(cache.dir, 'layers')) };
  if (cacheRepo) ctx.remote = cacheRepo;
  const images: ImageResult[] = [];
  const failures: unknown[] = [];
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
  } finally {
    await codecs.closeAll();
  }
  return { images, failures };
}
