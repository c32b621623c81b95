/**
 * A build's registry session: the pull context for registry bases (shared
 * clients, the blob cache, ociasm.lock pins), and after a successful build
 * the lock update and the push to every image's `push:` references.
 */
import path from 'node:path';
import type { BuildFile } from '../buildfile/types.js';
import { openBlobCache, PullThroughStore } from '../cache/blob-cache.js';
import type { BlobStore } from '../cas/blob-store.js';
import type { LayoutStore } from '../cas/layout-store.js';
import { pushImages, type PushRequest, type PushResult } from '../copy/push.js';
import type { Reference } from '../codec/reference.js';
import type { Descriptor, Digest } from '../oci/types.js';
import type { PullContext } from '../base/registry-source.js';
import type { ImagePlan } from '../plan/plan.js';
import type { Reporter } from '../report/reporter.js';
import type { Artifact } from '../supply/artifact.js';
import type { PushedArtifact } from '../supply/registry-referrers.js';
import { lockPath, readLock, writeLock } from '../registry/lock.js';
import type { NetworkLimits } from '../registry/limits.js';
import { Registries, type RegistryOptions } from '../registry/registries.js';

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
}

/** What a build hands over after it succeeded: the image as built and its plan (push targets, platform tags). */
export interface BuiltImage {
  index: Descriptor;
  platforms: { platform: string; manifest: Descriptor }[];
  plan: ImagePlan;
}

function platformTagsFor(img: BuiltImage): { digest: Digest; tag: string }[] {
  return img.platforms.flatMap((p, i) => {
    const tag = img.plan.platforms[i]?.pushTag;
    return tag === undefined ? [] : [{ digest: p.manifest.digest, tag }];
  });
}

export class BuildRegistrySession {
  readonly registries: Registries;
  readonly pull: PullContext;
  private readonly resolved = new Map<string, Digest>();
  private cache?: Promise<LayoutStore>;

  private constructor(
    private readonly opts: RegistryCliOptions,
    private readonly lockFile: string,
    private readonly pins: Record<string, Digest> | undefined,
    registryOptions: RegistryOptions,
    cacheDir: string,
  ) {
    this.registries = new Registries(registryOptions);
    this.pull = {
      registries: this.registries,
      cache: () => (this.cache ??= openBlobCache(cacheDir)),
      makeStore: (cache, fetch, label) => new PullThroughStore(cache, fetch, label),
      resolved: this.resolved,
      ...(pins && !opts.lock ? { pins } : {}),
    };
  }

  static async open(
    bf: BuildFile, plans: readonly ImagePlan[], opts: RegistryCliOptions = {}, env: NodeJS.ProcessEnv, buildCacheDir: string,
  ): Promise<BuildRegistrySession> {
    const pushRegistries = opts.push ? [...new Set(plans.flatMap((p) => p.push.map((r) => r.registry)))] : [];
    const lockFile = lockPath(bf.dir);
    const pins = await readLock(lockFile);
    const registryOptions: RegistryOptions = {
      env, pushRegistries,
      insecureRegistries: [...(bf.insecureRegistries ?? []), ...(opts.insecureRegistries ?? [])],
      ...(opts.caFiles ? { caFiles: opts.caFiles } : {}),
      ...(opts.creds ? { creds: opts.creds } : {}),
      ...(opts.maxChunkSize ? { maxChunkSize: opts.maxChunkSize } : {}),
      ...(opts.debug ? { debug: opts.debug } : {}),
      ...(opts.warn ? { warn: opts.warn } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
    };
    return new BuildRegistrySession(opts, lockFile, pins, registryOptions, opts.cacheDir ?? path.join(buildCacheDir, 'registry'));
  }

  /** After a successful build: rewrite the lock when asked, then push when asked. */
  async afterBuild(images: BuiltImage[], store: BlobStore, reporter: Reporter): Promise<PushResult | undefined> {
    if (this.opts.lock && this.resolved.size > 0) await writeLock(this.lockFile, this.resolved, this.pins);
    if (!this.opts.push) return undefined;
    const requests: PushRequest[] = [];
    for (const img of images) {
      const targets = img.plan.push;
      if (targets.length === 0) {
        reporter.emit({ type: 'warn', message: `${img.plan.where}: --push given but the image has no push: references` });
        continue;
      }
      requests.push({ source: store, root: img.index, targets, platformTags: platformTagsFor(img) });
    }
    const result = await pushImages(this.registries, requests, {
      jobs: this.opts.jobs ?? 4,
      progress: (message) => reporter.emit({ type: 'step', image: 'push', message }),
    });
    for (const r of result.refs) reporter.emit({ type: 'line', text: `pushed ${r.ref}${r.platformTags.length ? ` (+ ${r.platformTags.length} platform tags)` : ''}` });
    return result;
  }

  /** After the images: their referrers (SBOMs, provenance, signatures) to every push: reference's repository. */
  async pushArtifacts(images: BuiltImage[], artifacts: Map<string, Artifact[]>, reporter: Reporter): Promise<PushedArtifact[]> {
    const { pushArtifact } = await import('../supply/registry-referrers.js');
    const out: PushedArtifact[] = [];
    for (const img of images) {
      const list = artifacts.get(img.plan.refName) ?? [];
      if (list.length === 0) continue;
      const repos = new Map<string, Reference>();
      for (const t of img.plan.push) repos.set(`${t.registry}/${t.repository}`, t);
      for (const [label, t] of repos) {
        const repo = this.registries.repository(t.registry, t.repository);
        for (const a of list) out.push(await pushArtifact(repo, a));
        reporter.emit({ type: 'line', text: `pushed ${list.length} referrers of ${img.plan.refName} to ${label}` });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.registries.close();
  }
}
