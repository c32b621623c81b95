/**
 * A build's registry side, over the transports: the registry options (TLS,
 * credentials, the registries pushed to), the ociasm.lock pins and what the
 * bases resolved to, and after a successful build the lock update and the
 * push of every image to its `push:` references, through the one copy from
 * the build's work layout. Loads no HTTP code itself (the transport context
 * does, on first use).
 */
import type { BuildFile } from '../buildfile/types.js';
import type { LayoutStore } from '../cas/layout-store.js';
import { formatReference, type Reference } from '../codec/reference.js';
import { type CopyRequest, type CopyStats, copyImages, type ExistingIndexPolicy } from '../copy/copy.js';
import { OciasmError } from '../errors.js';
import type { Descriptor, Digest } from '../oci/types.js';
import type { ImagePlan } from '../plan/plan.js';
import type { Reporter } from '../report/reporter.js';
import type { Artifact } from '../supply/artifact.js';
import type { PushedArtifact } from '../supply/registry-referrers.js';
import { lockPath, readLock, writeLock } from '../registry/lock.js';
import type { NetworkLimits } from '../registry/limits.js';
import type { RegistryOptions } from '../registry/registries.js';
import { openDestination, type TransportContext } from '../transports/index.js';
import { LayoutImageSource } from '../transports/oci.js';
import type { BlobLocations } from '../transports/types.js';

export interface RegistryCliOptions {
  insecureRegistries?: string[];
  caFiles?: string[];
  /** `--creds`, repeatable: `USER:PASS` (push registries) or `HOST[:PORT]=USER:PASS`. */
  creds?: string | string[];
  /** Warnings from the registry client (a token realm on another host). */
  warn?: (message: string) => void;
  /** Size caps, deadlines and stall limits (docs/security.md); `--request-timeout` sets `requestTimeoutMs`. */
  limits?: Partial<NetworkLimits>;
  /** `--push`: push every built image to its `push:` references. */
  push?: boolean;
  /** `--lock`: resolve registry bases afresh and rewrite ociasm.lock. */
  lock?: boolean;
  /** Parallel blob uploads (default 4). */
  jobs?: number;
  maxChunkSize?: number;
  debug?: (message: string) => void;
  /** The blob cache folder (an OCI layout); default `<build cache>/registry`. */
  cacheDir?: string;
  /** A registry tag naming a wider index: refuse (default), merge into it, or replace it (docs/transports.md). */
  existingIndex?: ExistingIndexPolicy;
}

/** What a build hands over after it succeeded: the image as built and its plan (push targets, platform tags). */
export interface BuiltImage {
  index: Descriptor;
  platforms: { platform: string; manifest: Descriptor }[];
  plan: ImagePlan;
}

export interface PushedRef {
  ref: string;
  digest: Digest;
  platformTags: string[];
  /** Set when --merge-index put the image into a wider published index: the digest the tag names now. */
  merged?: Digest;
}

export interface PushResult {
  refs: PushedRef[];
  stats: CopyStats;
}

function platformTagsFor(img: BuiltImage): { digest: Digest; tag: string }[] {
  return img.platforms.flatMap((p, i) => {
    const tag = img.plan.platforms[i]?.pushTag;
    return tag === undefined ? [] : [{ digest: p.manifest.digest, tag }];
  });
}

/** What the CLI's registry flags mean to the registry clients; `pushRegistries` get plain --creds (docs/registries.md). */
export function registryOptionsFromCli(cli: RegistryCliOptions, pushRegistries: string[] = [], extraInsecure: string[] = []): Omit<RegistryOptions, 'env'> {
  return {
    pushRegistries,
    insecureRegistries: [...extraInsecure, ...(cli.insecureRegistries ?? [])],
    ...(cli.caFiles ? { caFiles: cli.caFiles } : {}),
    ...(cli.creds ? { creds: cli.creds } : {}),
    ...(cli.maxChunkSize ? { maxChunkSize: cli.maxChunkSize } : {}),
    ...(cli.debug ? { debug: cli.debug } : {}),
    ...(cli.warn ? { warn: cli.warn } : {}),
    ...(cli.limits ? { limits: cli.limits } : {}),
  };
}

/** The registry options of a build: the build file's insecure registries, the CLI's, and the registries pushed to. */
export function buildRegistryOptions(
  bf: BuildFile, plans: readonly ImagePlan[], opts: RegistryCliOptions = {}, extraPushRegistries: string[] = [],
): Omit<RegistryOptions, 'env'> {
  const pushRegistries = [...new Set([...(opts.push ? plans.flatMap((p) => p.push.map((r) => r.registry)) : []), ...extraPushRegistries])];
  return registryOptionsFromCli(opts, pushRegistries, bf.insecureRegistries ?? []);
}

export class BuildRegistrySession {
  readonly resolved = new Map<string, Digest>();

  private constructor(
    private readonly opts: RegistryCliOptions,
    private readonly lockFile: string,
    private readonly lockPins: Record<string, Digest> | undefined,
  ) {}

  /** The pins bases use: none with --lock (everything is resolved afresh). */
  get pins(): Record<string, Digest> | undefined {
    return this.opts.lock ? undefined : this.lockPins;
  }

  static async open(bf: BuildFile, opts: RegistryCliOptions = {}): Promise<BuildRegistrySession> {
    const lockFile = lockPath(bf.dir);
    return new BuildRegistrySession(opts, lockFile, await readLock(lockFile));
  }

  /** After a successful build: rewrite the lock when asked, then push when asked, from the work layout. */
  /** `locations`: where blobs are known to be already (the cache repository's), to mount from. */
  async afterBuild(images: BuiltImage[], work: LayoutStore, ctx: TransportContext, reporter: Reporter, locations?: BlobLocations): Promise<PushResult | undefined> {
    if (this.opts.lock && this.resolved.size > 0) await writeLock(this.lockFile, this.resolved, this.lockPins);
    if (!this.opts.push) return undefined;
    const source = new LayoutImageSource(work);
    const requests: CopyRequest[] = [];
    const targets: Reference[] = [];
    for (const img of images) {
      const refs = img.plan.push;
      if (refs.length === 0) {
        reporter.emit({ type: 'warn', message: `${img.plan.where}: --push given but the image has no push: references` });
        continue;
      }
      const childTags = platformTagsFor(img);
      const bytes = await work.readBytes(img.index.digest);
      const from = { descriptor: { mediaType: img.index.mediaType, digest: img.index.digest, size: img.index.size }, bytes };
      for (const ref of refs) {
        const destination = await openDestination(`docker://${formatReference(ref)}`, ctx);
        requests.push({ source, from, destination, childTags });
        targets.push(ref);
      }
    }
    const result = await copyImages(requests, {
      jobs: this.opts.jobs ?? 4,
      existingIndex: this.opts.existingIndex ?? 'refuse',
      progress: (message) => reporter.emit({ type: 'step', image: 'push', message }),
      ...(locations ? { locations } : {}),
    });
    const refs = result.images.map((img, i): PushedRef => {
      const ref = targets[i]!;
      const merged = img.merged?.find((m) => m.tag === ref.tag)?.digest;
      return {
        ref: formatReference({ ...ref, digest: img.digest }),
        digest: img.digest,
        platformTags: (requests[i]!.childTags ?? []).map((p) => `${ref.registry}/${ref.repository}:${p.tag}`),
        ...(merged ? { merged } : {}),
      };
    });
    for (const r of refs) {
      const extra = r.platformTags.length ? ` (+ ${r.platformTags.length} platform tags)` : '';
      reporter.emit({ type: 'line', text: `pushed ${r.ref}${extra}${r.merged ? `; merged into the published index, now ${r.merged}` : ''}` });
    }
    return { refs, stats: result.stats };
  }

  /** After the images: their referrers (SBOMs, provenance, signatures) to every push: reference's repository. */
  async pushArtifacts(images: BuiltImage[], artifacts: Map<string, Artifact[]>, ctx: TransportContext, reporter: Reporter): Promise<PushedArtifact[]> {
    if (!ctx.registries) throw new OciasmError('INTERNAL', 'pushing referrers needs a registry session');
    const registries = await ctx.registries();
    const { pushArtifact } = await import('../supply/registry-referrers.js');
    const out: PushedArtifact[] = [];
    for (const img of images) {
      const list = artifacts.get(img.plan.refName) ?? [];
      if (list.length === 0) continue;
      const repos = new Map<string, Reference>();
      for (const t of img.plan.push) repos.set(`${t.registry}/${t.repository}`, t);
      for (const [label, t] of repos) {
        const repo = registries.repository(t.registry, t.repository);
        for (const a of list) out.push(await pushArtifact(repo, a));
        reporter.emit({ type: 'line', text: `pushed ${list.length} referrers of ${img.plan.refName} to ${label}` });
      }
    }
    return out;
  }
}
