/**
 * Plans one platform's toolchain step: templates expanded (except `{{out}}`,
 * filled when the step runs), `platformEnv` entries for this platform merged
 * over `env`, host paths resolved against the build file's folder.
 */
import path from 'node:path';
import type { BuildFile, BuildStep, ImageSpec } from '../buildfile/types.js';
import type { TemplateVars } from '../buildfile/template.js';
import { formatPlatform, parsePlatform, samePlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import type { Platform } from '../oci/types.js';
import { expandAll } from './plan.js';

export const OUT = '{{out}}';

export interface PlannedOutput {
  /** The host path as written (templates expanded, `{{out}}` kept). */
  src: string;
  dest: string;
}

export interface PlannedBuildStep {
  run: string[];
  /** Absolute working directory of the command. */
  dir: string;
  /** `env` then this platform's `platformEnv`, templates expanded. */
  env: Record<string, string>;
  /** Glob patterns relative to the build file's folder. */
  inputs: string[];
  outputs: PlannedOutput[];
  /** The build file's folder, against which relative host paths resolve. */
  base: string;
  where: string;
}

function platformEnvFor(spec: ImageSpec, step: BuildStep, p: Platform, where: string): Record<string, string> {
  let env: Record<string, string> = {};
  for (const [key, value] of Object.entries(step.platformEnv)) {
    let q: Platform;
    try {
      q = parsePlatform(key);
    } catch (e) {
      throw new OciasmError('PLATFORM_INVALID', `${where}: build.platformEnv: ${(e as Error).message}`);
    }
    if (!spec.platforms.some((t) => samePlatform(parsePlatform(t), q))) {
      throw new OciasmError('BUILDFILE_INVALID', `${where}: build.platformEnv: ${key} is not one of the image's platforms (${spec.platforms.join(', ')})`);
    }
    if (samePlatform(q, p)) env = { ...env, ...value };
  }
  return env;
}

export function planBuildStep(bf: BuildFile, spec: ImageSpec, step: BuildStep, p: Platform, vars: TemplateVars, where: string): PlannedBuildStep {
  const v = { ...vars, out: OUT };
  const at = `${where}: build`;
  const env = expandAll({ ...step.env, ...platformEnvFor(spec, step, p, where) }, v, `${at}.env (${formatPlatform(p)})`);
  return {
    run: expandAll(step.run, v, `${at}.run`, { strict: false }),
    dir: path.resolve(bf.dir, expandAll(step.dir ?? '.', v, `${at}.dir`)),
    env,
    inputs: expandAll(step.inputs, v, `${at}.inputs`),
    outputs: Object.entries(step.outputs).map(([src, dest]) => ({
      src: expandAll(src, v, `${at}.outputs key "${src}"`),
      dest: expandAll(dest, v, `${at}.outputs["${src}"]`),
    })),
    base: bf.dir,
    where: `${where} [${formatPlatform(p)}]`,
  };
}

/** Fills `{{out}}` (and only it) into a planned string. */
export function fillOut(text: string, out: string): string {
  return text.replace(/\{\{\s*out\s*\}\}/g, out);
}
