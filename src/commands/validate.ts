/**
 * `ociasm validate` and `ociasm build --dry-run`: the build file is checked
 * and planned exactly as a build plans it (schema, templates, platforms,
 * chains, push references, platform tags, --build-arg), and the plan is
 * returned; nothing is built, no layout is opened, no base is read and
 * nothing goes over the network.
 */
import type { BuildFile } from '../buildfile/types.js';
import { formatPlatform } from '../codec/platform.js';
import { formatReference } from '../codec/reference.js';
import { sourceDateEpoch } from '../pipeline/build.js';
import { gitInfoIfUsed } from '../plan/git-info.js';
import { planBuild } from '../plan/plan.js';

export interface PlannedImage {
  ref: string;
  base: string;
  platforms: { platform: string; pushTag?: string; build?: string[]; test?: string[] }[];
  push: string[];
}

export interface PlanSummary {
  file: string;
  sourceDateEpoch: number;
  images: PlannedImage[];
}

export interface ValidateOptions {
  images?: string[];
  platforms?: string[];
  buildArgs?: Record<string, string>;
  /** The environment to read SOURCE_DATE_EPOCH from. */
  env: NodeJS.ProcessEnv;
}

export async function validatePlan(bf: BuildFile, opts: ValidateOptions): Promise<PlanSummary> {
  const epoch = sourceDateEpoch(bf, opts.env);
  const git = await gitInfoIfUsed(bf);
  const plans = planBuild(bf, {
    images: opts.images ?? [], platforms: opts.platforms ?? [], epoch,
    ...(opts.buildArgs ? { args: opts.buildArgs } : {}), ...(git ? { git } : {}),
  });
  return {
    file: bf.file,
    sourceDateEpoch: epoch,
    images: plans.map((p) => ({
      ref: p.refName,
      base: p.inBuildBase !== undefined ? `image:${p.inBuildBase}` : p.spec.base,
      push: p.push.map(formatReference),
      platforms: p.platforms.map((pp) => ({
        platform: formatPlatform(pp.platform),
        ...(pp.pushTag !== undefined ? { pushTag: pp.pushTag } : {}),
        ...(pp.build ? { build: pp.build.run } : {}),
        ...(pp.test ? { test: pp.test } : {}),
      })),
    })),
  };
}

export function formatPlan(s: PlanSummary): string[] {
  const builds = s.images.reduce((n, i) => n + i.platforms.length, 0);
  const lines = [`${s.file}: valid; ${s.images.length} image${s.images.length === 1 ? '' : 's'}, ${builds} platform build${builds === 1 ? '' : 's'}, sourceDateEpoch ${s.sourceDateEpoch}`];
  for (const img of s.images) {
    lines.push(`${img.ref} on ${img.base}`);
    for (const p of img.platforms) {
      const extra = [p.pushTag !== undefined ? `push tag ${p.pushTag}` : '', p.build ? `build ${JSON.stringify(p.build)}` : '', p.test ? `test ${JSON.stringify(p.test)}` : '']
        .filter((x) => x !== '');
      lines.push(`  ${p.platform}${extra.length ? `: ${extra.join('; ')}` : ''}`);
    }
    for (const r of img.push) lines.push(`  push ${r}`);
  }
  return lines;
}
