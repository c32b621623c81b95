/**
 * A build's registry side, over the transports: the registry options (TLS,
 * credentials, the registries pushed to), the ociasm.lock pins and what the
 * bases resolved to, and after a successful build the lock update and the
 * push of every image to its `push:` references, through the one copy from
 * the build's work layout. Loads no HTTP code itself (the transport context
 * does, on first use).
 */
import type { BuildFile, ImageSpec } from '../buildfile/types.js';
import { expandTemplate } from '../buildfile/template.js';
import type { LayoutStore } from '../cas/layout-store.js';
import { formatPlatform, parsePlatform, platformTag } from '../codec/platform.js';
import { formatReference, parseReference, type Reference } from '../codec/reference.js';
import { type CopyRequest, type CopyStats, copyImages, type ExistingIndexPolicy } from '../copy/copy.js';
import { OciasmError } from '../errors.js';
import type { Descriptor, Digest } from '../oci/types.js';
import type { Reporter } from '../report/reporter.js';
import { lockPath, readLock, writeLock } from '../registry/lock.js';
import type { RegistryOptions } from '../registry/registries.js';
import { openDestination, type TransportContext } from '../transports/index.js';
import { LayoutImageSource } from '../transports/oci.js';

export interface RegistryCliOptions {
  insecureRegistries?: string[];
  caFiles?: string[];
  creds?: string;
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

/** What a build hands over after it succeeded. */
export interface BuiltImage {
  name: string;
  index: Descriptor;
  platforms: { platform: string; manifest: Descriptor }[];
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

function expand(text: string, vars: Record<string, string>, where: string): string {
  return expandTemplate(text, vars, where);
}

export function pushTargets(spec: ImageSpec, where: string): Reference[] {
  return (spec.push ?? []).map((text, i) => {
    const at = `${where}: push[${i}]`;
    try {
      return parseReference(expand(text, { name: spec.name, tag: spec.tag }, at));
    } catch (e) {
      throw new OciasmError('BUILDFILE_INVALID', `${at}: ${(e as Error).message}`, { cause: e });
    }
  });
}

function platformTagsFor(spec: ImageSpec, img: BuiltImage, where: string): { digest: Digest; tag: string }[] {
  if (!spec.platformTags) return [];
  return img.platforms.map((p) => {
    const pl = parsePlatform(p.platform);
    const vars = {
      name: spec.name, tag: spec.tag, os: pl.os, arch: pl.architecture, variant: pl.variant ?? '',
      platform: formatPlatform(pl), platformTag: platformTag(pl),
    };
    const tag = expand(spec.platformTags!, vars, `${where}: platformTags`);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
      throw new OciasmError('BUILDFILE_INVALID', `${where}: platformTags: "${tag}" (for ${p.platform}) is not a valid tag`);
    }
    return { digest: p.manifest.digest, tag };
  });
}

/** The registry options of a build: the build file's insecure registries, the CLI's, and the registries pushed to. */
export function buildRegistryOptions(bf: BuildFile, opts: RegistryCliOptions = {}, extraPushRegistries: string[] = []): Omit<RegistryOptions, 'env'> {
  const pushRegistries = [
    ...(opts.push ? bf.images.flatMap((spec) => pushTargets(spec, `${bf.file}: image "${spec.name}"`).map((r) => r.registry)) : []),
    ...extraPushRegistries,
  ];
  return {
    pushRegistries,
    insecureRegistries: [...(bf.insecureRegistries ?? []), ...(opts.insecureRegistries ?? [])],
    ...(opts.caFiles ? { caFiles: opts.caFiles } : {}),
    ...(opts.creds ? { creds: opts.creds } : {}),
    ...(opts.maxChunkSize ? { maxChunkSize: opts.maxChunkSize } : {}),
    ...(opts.debug ? { debug: opts.debug } : {}),
  };
}

export class BuildRegistrySession {
  readonly resolved = new Map<string, Digest>();

  private constructor(
    private readonly bf: BuildFile,
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
    return new BuildRegistrySession(bf, opts, lockFile, await readLock(lockFile));
  }

  /** After a successful build: rewrite the lock when asked, then push when asked, from the work layout. */
  async afterBuild(images: BuiltImage[], work: LayoutStore, ctx: TransportContext, reporter: Reporter): Promise<PushResult | undefined> {
    if (this.opts.lock && this.resolved.size > 0) await writeLock(this.lockFile, this.resolved, this.lockPins);
    if (!this.opts.push) return undefined;
    const source = new LayoutImageSource(work);
    const requests: CopyRequest[] = [];
    const targets: Reference[] = [];
    for (const img of images) {
      const spec = this.bf.images.find((s) => s.name === img.name)!;
      const where = `${this.bf.file}: image "${spec.name}"`;
      const refs = pushTargets(spec, where);
      if (refs.length === 0) {
        reporter.emit({ type: 'warn', message: `${where}: --push given but the image has no push: references` });
        continue;
      }
      const childTags = platformTagsFor(spec, img, where);
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
}
