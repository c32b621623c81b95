/**
 * The library's public entry (`import { build } from 'ociasm'`). Rules: only
 * what docs/library.md documents is exported here; everything takes its
 * environment as an argument (no process.env inside); errors are
 * OciasmError with a stable `code`.
 */
export { build, sourceDateEpoch } from './pipeline/build.js';
export type { BuildOptions, BuildResult, ImageResult, PlatformResult } from './pipeline/build.js';
export { loadBuildFile, parseBuildFile } from './buildfile/load.js';
export type { LoadOptions } from './buildfile/load.js';
export { validateBuildFile } from './buildfile/validate.js';
export { buildFileJsonSchema } from './buildfile/json-schema.js';
export type { BuildFile, ImageSpec } from './buildfile/types.js';
export { validatePlan, formatPlan } from './commands/validate.js';
export type { PlanSummary, ValidateOptions } from './commands/validate.js';
export { inspectImage, inspectRaw, inspectConfig, formatInspect } from './commands/inspect.js';
export type { InspectOptions, InspectResult } from './commands/inspect.js';
export { copyCommand, pushLayout } from './commands/copy.js';
export type { CopyCommandOptions, CopyCommandResult, PushResult } from './commands/copy.js';
export { tagLayout, untagLayout } from './commands/tag.js';
export type { TagResult, UntagResult } from './commands/tag.js';
export { createReporter, pickProgress } from './report/reporter.js';
export type { Reporter, ReportEvent, ReporterOptions, ProgressMode } from './report/reporter.js';
export { OciasmError, isOciasmError } from './errors.js';
export type { ErrorCode } from './errors.js';
