/**
 * `ociasm copy SRC DST [--all | --platform P]…`, and `ociasm push DIR[:REF]
 * DEST` as its spelling: one image or index between any two transports,
 * through the one copy (src/copy/copy.ts). Rules (docs/transports.md):
 * - A bare SRC or DST is a registry reference, as in skopeo.
 * - Without --platform an index is copied whole (crane's default; `--all` says
 *   so explicitly); a single-platform destination gets the host's platform
 *   (passed in, never read here) and the result says which.
 * - A registry tag that names a wider index is not narrowed unless
 *   `existingIndex` says merge or replace (src/copy/index-guard.ts).
 */
import { formatPlatform, parsePlatform } from '../codec/platform.js';
import { formatReference, parseReference } from '../codec/reference.js';
import { type CopiedImage, type CopyStats, copyImage, type ExistingIndexPolicy } from '../copy/copy.js';
import { OciasmError } from '../errors.js';
import type { Platform } from '../oci/types.js';
import { type RegistryCliOptions, registryOptionsFromCli } from '../pipeline/registry-session.js';
import type { Reporter } from '../report/reporter.js';
import { commandContext } from '../transports/context.js';
import { openDestination, openSource, splitImageName } from '../transports/index.js';

export interface CopyCommandOptions extends RegistryCliOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  reporter: Reporter;
  /** `--all`: every platform of an index (the default for a multi-platform destination). */
  all?: boolean;
  /** `--platform P` (repeatable). */
  platforms?: string[];
  /** The platform a single-platform destination gets when none is named. */
  hostPlatform?: Platform;
  existingIndex?: ExistingIndexPolicy;
  /** `--referrers`: also copy the image's OCI 1.1 referrers (SBOMs, provenance, signatures; docs/supply-chain.md). */
  referrers?: boolean;
  signal?: AbortSignal;
}

export interface CopyCommandResult {
  source: string;
  images: CopiedImage[];
  stats: CopyStats;
  /** With `referrers`: the digests of the referrers copied. */
  referrers?: string[];
}

/** The registries a name pushes to, for credentials that apply to push registries only. */
function pushRegistry(text: string): string[] {
  const { transport, rest } = splitImageName(text, 'docker');
  return transport === 'docker' ? [parseReference(rest).registry] : [];
}

export async function copyCommand(src: string, dst: string, opts: CopyCommandOptions): Promise<CopyCommandResult> {
  if (opts.all && (opts.platforms?.length ?? 0) > 0) throw new OciasmError('PLATFORM_INVALID', 'copy: --all and --platform exclude each other');
  const platforms = (opts.platforms ?? []).map((p) => parsePlatform(p));
  const ctx = commandContext(opts.cwd, opts.env, registryOptionsFromCli(opts, pushRegistry(dst)));
  const signal = opts.signal ? { signal: opts.signal } : {};
  try {
    const source = await openSource(src, ctx, signal);
    try {
      const destination = await openDestination(dst, ctx, { ...signal, ...(platforms.length === 1 ? { platform: formatPlatform(platforms[0]!) } : {}) });
      try {
        const result = await copyImage(source, destination, {
          ...signal,
          jobs: opts.jobs ?? 4,
          ...(platforms.length ? { platforms } : {}),
          ...(opts.hostPlatform ? { defaultPlatform: opts.hostPlatform } : {}),
          existingIndex: opts.existingIndex ?? 'refuse',
          progress: (message) => opts.reporter.emit({ type: 'step', image: 'copy', message }),
        });
        for (const img of result.images) {
          if (img.platform && platforms.length === 0) {
            opts.reporter.emit({ type: 'warn', message: `${destination.name} holds one platform: copied ${img.platform} (name another with --platform)` });
          }
          for (const m of img.merged ?? []) opts.reporter.emit({ type: 'line', text: `merged into ${destination.name}: ${m.tag} is now ${m.digest}` });
        }
        if (opts.referrers) {
          const { carryReferrers } = await import('./copy-referrers.js');
          const referrers: string[] = [];
          for (const img of result.images) referrers.push(...await carryReferrers(source, destination, img.digest));
          if (referrers.length > 0) opts.reporter.emit({ type: 'line', text: `copied ${referrers.length} referrers` });
          return { source: source.name, ...result, referrers };
        }
        return { source: source.name, ...result };
      } finally {
        await destination.close();
      }
    } finally {
      await source.close();
    }
  } finally {
    await ctx.close();
  }
}

export interface PushResult {
  refs: { ref: string; digest: string; platformTags: string[] }[];
  stats: CopyStats;
  /** The layout's referrers of the image, pushed with it. */
  referrers?: string[];
}

/** `ociasm push DIR[:REF] DEST_REF`: copy from `oci:DIR[:REF]` to `docker://DEST_REF`. */
export async function pushLayout(layoutArg: string, dest: string, opts: CopyCommandOptions): Promise<PushResult> {
  const target = parseReference(dest);
  // A push takes the image's referrers along (docs/supply-chain.md), as build --push does.
  const r = await copyCommand(`oci:${layoutArg}`, `docker://${dest}`, { ...opts, referrers: true });
  const refs = r.images.map((img) => ({ ref: formatReference({ ...target, digest: img.digest }), digest: img.digest, platformTags: [] }));
  for (const ref of refs) opts.reporter.emit({ type: 'line', text: `pushed ${ref.ref}` });
  return { refs, stats: r.stats, ...(r.referrers?.length ? { referrers: r.referrers } : {}) };
}
