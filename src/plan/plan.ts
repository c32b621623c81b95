/**
 * The plan: which images and platforms to build, with every template
 * expanded per platform and every path resolved.
 */
import path from 'node:path';
import type { BuildFile, FilesEntry, ImageSpec, PathEntry } from '../buildfile/types.js';
import { expandTemplate, type TemplateVars } from '../buildfile/template.js';
import { formatPlatform, parsePlatform, platformTag, samePlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import type { RuntimeSpec } from '../image/assemble.js';
import type { Platform } from '../oci/types.js';

export interface PlatformPlan {
  platform: Platform;
  files: FilesEntry[]; // src absolute, dest templated
  paths: PathEntry[];
  runtime: RuntimeSpec;
  annotations: Record<string, string>;
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
}

function templateVars(spec: ImageSpec, p: Platform): TemplateVars {
  return {
    name: spec.name, tag: spec.tag, os: p.os, arch: p.architecture, variant: p.variant ?? '',
    platform: formatPlatform(p), platformTag: platformTag(p),
  };
}

function expandAll<T>(value: T, vars: TemplateVars, where: string): T {
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
  const wanted = opts.images ?? [];
  for (const name of wanted) {
    if (!bf.images.some((i) => i.name === name)) {
      throw new OciasmError('BUILDFILE_INVALID', `${bf.file}: no image named "${name}" (have: ${bf.images.map((i) => i.name).join(', ')})`);
    }
  }
  const filter = (opts.platforms ?? []).map((t) => parsePlatform(t));
  const plans: ImagePlan[] = [];
  for (const spec of bf.images) {
    if (wanted.length > 0 && !wanted.includes(spec.name)) continue;
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
      refName: `${spec.name}:${spec.tag}`,
      platforms: platforms.map((p) => platformPlan(bf, spec, p, where)),
    });
  }
  return plans;
}

function platformPlan(bf: BuildFile, spec: ImageSpec, p: Platform, where: string): PlatformPlan {
  const vars = templateVars(spec, p);
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
  return {
    platform: p,
    files,
    paths: expandAll(spec.paths, vars, `${where}: paths`),
    runtime,
    annotations: expandAll(spec.annotations, vars, `${where}: annotations`),
  };
}
