/**
 * One platform's toolchain step: skipped on a cache hit, otherwise run in
 * the build file's environment plus `env`/`platformEnv` and SOURCE_DATE_EPOCH;
 * its outputs are stored in the cache, restored into a work folder with their
 * modes and, with `--extract`, copied to `DIR/<platformTag>/`.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatPlatform, platformTag } from '../codec/platform.js';
import { makeTempDir, untrack } from '../cas/temp-files.js';
import { OciasmError } from '../errors.js';
import type { Platform } from '../oci/types.js';
import type { Reporter } from '../report/reporter.js';
import { cacheKey, type ToolchainCache } from './cache.js';
import { checkExtractName, extractOutputs } from './extract.js';
import { removeTree } from './fs-util.js';
import { hashInputs } from './inputs.js';
import { collectOutputs, extractNameOf, type RestoredOutput, restoreOutputs } from './outputs.js';
import { fillOut, type PlannedBuildStep } from '../plan/build-step.js';
import { runTool } from './run-tool.js';

export interface StepContext {
  image: string;
  platform: Platform;
  reporter: Reporter;
  /** The user's environment, which the command inherits. */
  env: NodeJS.ProcessEnv;
  epoch: number;
  cache: ToolchainCache;
  noCache: boolean;
  extractDir?: string;
  signal?: AbortSignal;
}

export interface StepResult {
  outputs: RestoredOutput[];
  cached: boolean;
  /** Removes the work folder; call once the outputs are in the layer. */
  dispose(): Promise<void>;
}

async function stepKey(step: PlannedBuildStep, ctx: StepContext): Promise<string | undefined> {
  if (step.inputs.length === 0) return undefined; // without declared inputs a step always runs
  return cacheKey({
    v: 1,
    platform: formatPlatform(ctx.platform),
    run: step.run,
    dir: path.relative(step.base, step.dir),
    env: Object.entries(step.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    epoch: ctx.epoch,
    inputs: await hashInputs(step.base, step.inputs, step.where),
    outputs: step.outputs,
  });
}

export async function runBuildStep(step: PlannedBuildStep, ctx: StepContext): Promise<StepResult> {
  if (ctx.extractDir) for (const o of step.outputs) checkExtractName(extractNameOf(o.src), `${step.where}: build.outputs "${o.src}"`, ctx.extractDir);
  const p = formatPlatform(ctx.platform);
  const say = (message: string) => ctx.reporter.emit({ type: 'step', image: ctx.image, platform: p, message });
  const work = await makeTempDir(os.tmpdir(), 'ociasm-build-');
  const removeWork = () => removeTree(work).then(() => untrack(work));
  try {
    const key = await stepKey(step, ctx);
    let outputs: RestoredOutput[] | undefined;
    const entry = key && !ctx.noCache ? await ctx.cache.readEntry(key) : undefined;
    if (entry) outputs = await restoreOutputs(step, entry.outputs, ctx.cache, path.join(work, 'cached'));
    const cached = outputs !== undefined;
    if (cached) say('build step unchanged: outputs from the cache');
    else {
      const out = path.join(work, 'out');
      await mkdir(out);
      say(`running ${step.run[0]}`);
      const env: NodeJS.ProcessEnv = { ...ctx.env };
      for (const [k, v] of Object.entries(step.env)) env[k] = fillOut(v, out);
      env.SOURCE_DATE_EPOCH = String(ctx.epoch);
      await runTool({
        argv: step.run.map((a) => fillOut(a, out)), cwd: step.dir, env, prefix: `[${ctx.image} ${p}]`,
        reporter: ctx.reporter, what: `${step.where}: build.run`, errorCode: 'TOOLCHAIN_FAILED',
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const collected = await collectOutputs(step, out, ctx.cache);
      if (key) await ctx.cache.writeEntry(key, { outputs: collected });
      outputs = await restoreOutputs(step, collected, ctx.cache, path.join(work, 'outputs'));
      if (!outputs) throw new OciasmError('IO', `${step.where}: build outputs vanished from the cache ${ctx.cache.dir}`);
    }
    if (ctx.extractDir) await extractOutputs(ctx.extractDir, platformTag(ctx.platform), outputs!, step.where);
    return { outputs: outputs!, cached, dispose: removeWork };
  } catch (e) {
    await removeWork();
    throw e;
  }
}
