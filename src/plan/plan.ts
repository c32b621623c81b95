/**
 * The plan: which images and platforms to build, with every template
 * expanded per platform and every path resolved.
 */
import path from 'node:path';
import type { Accounts, BuildFile, FilesEntry, ImageSpec, PathEntry } from '../buildfile/types.js';
import { expandTemplate, type TemplateVars } from '../buildfile/template.js';
import { formatPlatform, parsePlatform, platformTag, samePlatform } from '../codec/platform.js';
import { parseReference, type Reference } from '../codec/reference.js';
import { OciasmError } from '../errors.js';
import type { RuntimeSpec } from '../image/assemble.js';
import type { Platform } from '../oci/types.js';
import { planBuildStep, type PlannedBuildStep } from './build-step.js';
import type { GitInfo } from './git-info.js';
import { orderImages } from './order.js';

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

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
  /** `platformTags:` expanded for this platform: the tag its manifest also gets in every push repository. */
  pushTag?: string;
}

export interface ImagePlan {
  spec: ImageSpec;
  /** `file: image "name"` — the prefix of every message about this image. */
  where: string;
  /** `NAME:TAG` with the tag expanded: the image's identity and its layout ref. */
  refName: string;
  /** The tag, expanded. */
  tag: string;
  /** The refName of the image it builds on (`base: image:NAME[:TAG]`). */
  inBuildBase?: string;
  /** `push:` expanded and parsed: where `--push` sends the image. */
  push: Reference[];
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

/** The platform-independent variables: name, the epoch, git, and the args that need no platform variable. */
function imageVars(bf: BuildFile, spec: ImageSpec, opts: PlanOptions): Record<string, string> {
  const vars: Record<string, string> = {
    name: spec.name, sourceDateEpoch: String(opts.epoch ?? bf.sourceDateEpoch ?? 0),
    'git.commit': opts.git?.commit ?? '', 'git.branch': opts.git?.branch ?? '', 'git.tag': opts.git?.tag ?? '',
  };
  const base = { ...vars };
  for (const [k, v] of Object.entries({ ...bf.args, ...spec.args, ...opts.args })) {
    try {
      vars[`args.${k}`] = expandTemplate(v, base, '');
    } catch {
      // uses a platform variable: not available to tag and push
    }
  }
  return vars;
}

/** The tag with the platform-independent templates expanded: {{args.NAME}}, {{git.*}}, {{sourceDateEpoch}}, {{name}}. */
function imageTag(bf: BuildFile, spec: ImageSpec, opts: PlanOptions, where: string): string {
  if (!spec.tag.includes('{{')) return spec.tag;
  const tag = expandTemplate(spec.tag, imageVars(bf, spec, opts), `${where}: tag`);
  if (!TAG.test(tag)) {
    throw new OciasmError('BUILDFILE_INVALID', `${where}: tag "${spec.tag}" gives "${tag}", which is not a valid tag`);
  }
  return tag;
}

/** `push:` with {{name}}, {{tag}} (expanded), {{args.*}}, {{git.*}}, {{sourceDateEpoch}}; each must be a reference. */
function pushTargets(bf: BuildFile, spec: ImageSpec, tag: string, opts: PlanOptions, where: string): Reference[] {
  const vars = { ...imageVars(bf, spec, opts), tag };
  return (spec.push ?? []).map((text, i) => {
    const at = `${where}: push[${i}]`;
    const ref = expandTemplate(text, vars, at);
    try {
      return parseReference(ref);
    } catch (e) {
      throw new OciasmError('BUILDFILE_INVALID', `${at}: "${text}" gives ${(e as Error).message.replace(/^bad image reference /, 'the bad reference ')}`, { cause: e });
    }
  });
}

function templateVars(bf: BuildFile, spec: ImageSpec, tag: string, p: Platform, opts: PlanOptions, where: string): TemplateVars {
  const vars: Record<string, string> = {
    name: spec.name, tag, os: p.os, arch: p.architecture, variant: p.variant ?? '',
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

/** Expands every string in `value`; `strict: false` keeps other brace syntax (argv, file contents). */
export function expandAll<T>(value: T, vars: TemplateVars, where: string, opts: { strict?: boolean } = {}): T {
  if (typeof value === 'string') return expandTemplate(value, vars, where, opts) as T;
  if (Array.isArray(value)) return value.map((v, i) => expandAll(v, vars, `${where}[${i}]`, opts)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandAll(v, vars, `${where}.${k}`, opts)])) as T;
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
  const names = new Map<string, number>();
  for (const i of bf.images) names.set(i.name, (names.get(i.name) ?? 0) + 1);
  const whereOf = (spec: ImageSpec) => `${bf.file}: image "${names.get(spec.name)! > 1 ? `${spec.name}:${spec.tag}` : spec.name}"`;
  const tags = bf.images.map((spec) => imageTag(bf, spec, opts, whereOf(spec)));
  const plans: ImagePlan[] = [];
  for (const img of orderImages(bf, opts.images ?? [], tags)) {
    const { spec, tag } = img;
    const where = whereOf(spec);
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
      refName: img.key,
      tag,
      ...(img.inBuildBase !== undefined ? { inBuildBase: img.inBuildBase } : {}),
      push: pushTargets(bf, spec, tag, opts, where),
      platforms: platforms.map((p) => platformPlan(bf, spec, tag, p, where, opts)),
    });
    const pushTags = plans[plans.length - 1]!.platforms.map((p) => p.pushTag);
    const twice = pushTags.find((t, i) => t !== undefined && pushTags.indexOf(t) !== i);
    if (twice !== undefined) {
      throw new OciasmError('BUILDFILE_INVALID', `${where}: platformTags: "${spec.platformTags}" gives "${twice}" for two platforms; use {{platformTag}}`);
    }
  }
  return plans;
}

function platformPlan(bf: BuildFile, spec: ImageSpec, tag: string, p: Platform, where: string, opts: PlanOptions): PlatformPlan {
  const vars = templateVars(bf, spec, tag, p, opts, where);
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
    paths: spec.paths.map((e, i) => {
      const { content, ...rest } = e;
      const at = `${where}: paths[${i}]`;
      return { ...expandAll(rest, vars, at), ...(content !== undefined ? { content: expandTemplate(content, vars, `${at}.content`, { strict: false }) } : {}) };
    }),
    runtime,
    annotations: expandAll(spec.annotations, vars, `${where}: annotations`),
  };
  if (spec.accounts) plan.accounts = expandAll(spec.accounts, vars, `${where}: accounts`);
  if (spec.build) plan.build = planBuildStep(bf, spec, spec.build, p, vars, where);
  if (spec.test) plan.test = expandAll(spec.test, { ...vars, rootfs: '{{rootfs}}', qemu: '{{qemu}}' }, `${where}: test`, { strict: false });
  if (spec.platformTags !== undefined) {
    const t = expandTemplate(spec.platformTags, vars, `${where}: platformTags`);
    if (!TAG.test(t)) throw new OciasmError('BUILDFILE_INVALID', `${where}: platformTags: "${spec.platformTags}" gives "${t}" for ${formatPlatform(p)}, which is not a valid tag`);
    plan.pushTag = t;
  }
  return plan;
}
