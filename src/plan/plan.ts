/**
 * The plan: which images and platforms to build, with every template
 * expanded per platform and every path resolved.
 */
import path from 'node:path';
import type { Accounts, BuildFile, FilesEntry, ImageSpec, PathEntry } from '../buildfile/types.js';
import { expandTemplate, type TemplateVars } from '../buildfile/template.js';
import { formatPlatform, parsePlatform, platformTag, samePlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import type { RuntimeSpec } from '../image/assemble.js';
import type { Platform } from '../oci/types.js';
import { planBuildStep, type PlannedBuildStep } from './build-step.js';
import type { GitInfo } from './git-info.js';
import { orderImages } from './order.js';

export interface PlatformPlan {
  platform: Platform;
  files: FilesEntry[]; // src absolute, dest templated
  paths: PathEntry[];
  runtime: RuntimeSpec;
  annotations: Record<string, string>;
  /** `accounts:`, templated; applied after `files` and `paths`. */
  accounts?: Accounts;
  /** The toolchain step; `{{out}}` is still a template, filled when it runs. */
  build?: PlannedBuildStep;
  /** The self-check argv; `{{rootfs}}` and `{{qemu}}` are filled when it runs. */
  test?: string[];
}

export interface ImagePlan {
  spec: ImageSpec;
  /** `file: image "name"` — the prefix of every message about this image. */
  where: string;
  refName: string;
  platforms: PlatformPlan[];
}

export interface PlanOptions {
  images?: string[];
  platforms?: string[];
  /** The source date epoch, for `{{sourceDateEpoch}}`. */
  epoch?: number;
  /** `--build-arg KEY=VAL` values; they override the build file's args. */
  args?: Record<string, string>;
  git?: GitInfo;
}

/** Go's GOARCH/GOARM for a platform: arm/v5 -> arm + 5, arm64/v8 -> arm64 + '', 386 -> 386. */
function goArm(p: Platform): string {
  if (p.architecture !== 'arm') return '';
  const v = (p.variant ?? 'v7').slice(1);
  return v === '8' ? '7' : v;
}

/** The tag with the platform-independent templates expanded: {{args.NAME}}, {{git.*}}, {{sourceDateEpoch}}, {{name}}. */
function imageTag(bf: BuildFile, spec: ImageSpec, opts: PlanOptions, where: string): string {
  if (!spec.tag.includes('{{')) return spec.tag;
  const vars: Record<string, string> = {
    name: spec.name, sourceDateEpoch: String(opts.epoch ?? bf.sourceDateEpoch ?? 0),
    'git.commit': opts.git?.commit ?? '', 'git.branch': opts.git?.branch ?? '', 'git.tag': opts.git?.tag ?? '',
  };
  for (const [k, v] of Object.entries({ ...bf.args, ...spec.args, ...opts.args })) vars[`args.${k}`] = v;
  const tag = expandTemplate(spec.tag, vars, `${where}: tag`);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
    throw new OciasmError('BUILDFILE_INVALID', `${where}: tag "${spec.tag}" gives "${tag}", which is not a valid tag`);
  }
  return tag;
}

function templateVars(bf: BuildFile, spec: ImageSpec, p: Platform, opts: PlanOptions, where: string): TemplateVars {
  const vars: Record<string, string> = {
    name: spec.name, tag: imageTag(bf, spec, opts, where), os: p.os, arch: p.architecture, variant: p.variant ?? '',
    platform: formatPlatform(p), platformTag: platformTag(p), goarch: p.architecture, goarm: goArm(p),
    sourceDateEpoch: String(opts.epoch ?? bf.sourceDateEpoch ?? 0),
    'git.commit': opts.git?.commit ?? '', 'git.branch': opts.git?.branch ?? '', 'git.tag': opts.git?.tag ?? '',
  };
  const args = { ...expandAll(bf.args ?? {}, vars, `${bf.file}: args`), ...expandAll(spec.args ?? {}, vars, `${where}: args`) };
  for (const [k, v] of Object.entries({ ...args, ...opts.args })) vars[`args.${k}`] = v;
  return vars;
}

function checkBuildArgs(bf: BuildFile, args: Record<string, string> | undefined): void {
  const declared = new Set([...Object.keys(bf.args ?? {}), ...bf.images.flatMap((i) => Object.keys(i.args ?? {}))]);
  for (const k of Object.keys(args ?? {})) {
    if (!declared.has(k)) {
      throw new OciasmError('BUILDFILE_INVALID', `--build-arg ${k}: ${bf.file} declares no arg "${k}" (declared: ${[...declared].join(', ') || 'none'})`);
    }
  }
}

export function expandAll<T>(value: T, vars: TemplateVars, where: string): T {
  if (typeof value === 'string') return expandTemplate(value, vars, where) as T;
  if (Array.isArray(value)) return value.map((v, i) => expandAll(v, vars, `${where}[${i}]`)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandAll(v, vars, `${where}.${k}`)])) as T;
  }
  return value;
}

function platformsOf(spec: ImageSpec, where: string): Platform[] {
  const out: Platform[] = [];
  spec.platforms.forEach((text, i) => {
    let p: Platform;
    try {
      p = parsePlatform(text);
    } catch (e) {
      throw new OciasmError('PLATFORM_INVALID', `${where}: platforms[${i}]: ${(e as Error).message}`);
    }
    if (out.some((q) => samePlatform(p, q))) {
      throw new OciasmError('BUILDFILE_INVALID', `${where}: platforms[${i}]: ${formatPlatform(p)} is listed twice`);
    }
    out.push(p);
  });
  return out;
}

export function planBuild(bf: BuildFile, opts: PlanOptions = {}): ImagePlan[] {
  checkBuildArgs(bf, opts.args);
  const filter = (opts.platforms ?? []).map((t) => parsePlatform(t));
  const plans: ImagePlan[] = [];
  for (const spec of orderImages(bf, opts.images ?? [])) {
    const where = `${bf.file}: image "${spec.name}"`;
    let platforms = platformsOf(spec, where);
    if (filter.length > 0) {
      platforms = platforms.filter((p) => filter.some((f) => samePlatform(f, p)));
      if (platforms.length === 0) {
        throw new OciasmError('PLATFORM_INVALID', `${where}: none of its platforms matches --platform ${filter.map(formatPlatform).join(', ')}`);
      }
    }
    plans.push({
      spec,
      where,
      refName: `${spec.name}:${imageTag(bf, spec, opts, where)}`,
      platforms: platforms.map((p) => platformPlan(bf, spec, p, where, opts)),
    });
  }
  return plans;
}

function platformPlan(bf: BuildFile, spec: ImageSpec, p: Platform, where: string, opts: PlanOptions): PlatformPlan {
  const vars = templateVars(bf, spec, p, opts, where);
  const files = expandAll(spec.files, vars, `${where}: files`).map((f) => ({
    ...f,
    src: path.resolve(bf.dir, f.src) + (f.src.endsWith('/') ? '/' : ''),
  }));
  const runtime: RuntimeSpec = expandAll(
    {
      env: spec.env, volumes: spec.volumes, ports: spec.ports, labels: spec.labels,
      ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd ? { cmd: spec.cmd } : {}),
      ...(spec.user !== undefined ? { user: spec.user } : {}),
      ...(spec.workdir !== undefined ? { workdir: spec.workdir } : {}),
      ...(spec.stopSignal !== undefined ? { stopSignal: spec.stopSignal } : {}),
    },
    vars,
    where,
  );
  const plan: PlatformPlan = {
    platform: p,
    files,
    paths: expandAll(spec.paths, vars, `${where}: paths`),
    runtime,
    annotations: expandAll(spec.annotations, vars, `${where}: annotations`),
  };
  if (spec.accounts) plan.accounts = expandAll(spec.accounts, vars, `${where}: accounts`);
  if (spec.build) plan.build = planBuildStep(bf, spec, spec.build, p, vars, where);
  if (spec.test) plan.test = expandAll(spec.test, { ...vars, rootfs: '{{rootfs}}', qemu: '{{qemu}}' }, `${where}: test`);
  return plan;
}
