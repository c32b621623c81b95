/**
 * The build file (`ociasm.yaml`): its ONE definition. The TypeScript types
 * (types.ts), the validation (validate.ts) and the JSON Schema shipped as
 * schema/ociasm.schema.json (json-schema.ts) all come from these zod schemas.
 * Rules:
 * - adding a key is adding it here (with its `.describe()`), nowhere else;
 * - a default lives here (`.default()`), so the types say what the code gets;
 * - checks that need more than one key of one entry are `superRefine`s here;
 *   checks across images (unique names) are in validate.ts.
 */
import * as z from 'zod';
import { AccountsSchema } from './accounts-spec.js';
import { placeholderProblem } from './template.js';
import { bool, str, strict, strList, strMap } from './zod-kit.js';

const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const IMAGE_NAME = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
/** A tag as written: may hold `{{templates}}`; the expanded tag is checked again in the plan. */
const TAG = /^[A-Za-z0-9_{][A-Za-z0-9_.{}-]{0,127}$/;

const argsMap = () =>
  strMap().superRefine((args, ctx) => {
    for (const k of Object.keys(args)) {
      if (!ARG_NAME.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `"${k}" is not a valid arg name` });
    }
  });

const argv = (what: string) =>
  strList().refine((a) => a.length > 0 && a[0] !== '', { error: `must be a non-empty argv list${what}` });

export const FilesEntrySchema = strict({
  src: str().describe('host path, relative to the build file\'s folder; a trailing / copies the directory\'s contents'),
  dest: str().describe('image path'),
  preserveOwner: bool().default(false).describe('keep the host uid/gid (default 0:0)'),
});

export const PATH_TYPES = ['directory', 'file', 'symlink'] as const;

export const PathEntrySchema = strict({
  path: str(),
  type: z.enum(PATH_TYPES).default('directory'),
  owner: str().optional().describe('uid[:gid], numeric'),
  mode: str().optional().describe('octal string, e.g. "0750"'),
  acl: str().optional().describe('POSIX ACL text, e.g. u::rwx,g::r-x,g:2000:rwx,m::rwx,o::---'),
  defaultAcl: str().optional().describe('default ACL (directories only)'),
  target: str().optional().describe('symlink target (symlinks only)'),
  content: str().optional().describe('file content, UTF-8 text (files only)'),
}).superRefine((e, ctx) => {
  const bad = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
  if (e.type === 'symlink' && e.target === undefined) bad('target', 'is required for a symlink');
  if (e.type !== 'symlink' && e.target !== undefined) bad('target', 'is only for symlinks');
  if (e.type !== 'file' && e.content !== undefined) bad('content', 'is only for files');
  if (e.type !== 'directory' && e.defaultAcl !== undefined) bad('defaultAcl', 'is only for directories');
});

export const BuildStepSchema = strict({
  run: argv(', e.g. [go, build, ...]').describe('argv run on the host once per platform, no shell'),
  dir: str().optional().describe('working directory, relative to the build file'),
  env: strMap().default({}),
  platformEnv: z.record(z.string(), strMap(), { error: 'must be a mapping of platform to env mapping' }).default({})
    .describe('per-platform env extras, keyed by the platform as written in platforms'),
  inputs: strList().default([]).describe('globs whose contents key the build cache'),
  outputs: strMap().default({}).describe('host path -> image path'),
}).describe('the host toolchain run once per platform (docs/toolchain.md)');

function compressionEnum() {
  return z.enum(['gzip', 'zstd'], { error: (iss) => `must be gzip or zstd, got ${JSON.stringify(iss.input)}` });
}

export const ImageSpecSchema = strict({
  name: z.string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .regex(IMAGE_NAME, { error: (iss) => `"${String(iss.input)}" is not a valid image name (lowercase letters, digits, . _ - /)` })
    .describe('the layout ref is NAME:TAG; an image is identified by its name and tag'),
  tag: str().pipe(z.string().superRefine((t, ctx) => {
    const problem = placeholderProblem(t) ?? (TAG.test(t) ? undefined : `"${t}" is not a valid tag`);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: t });
  })).default('latest')
    .describe('may use {{args.NAME}}, {{git.*}}, {{sourceDateEpoch}}, {{name}}; a YAML number keeps its text (1.10 stays "1.10")'),
  base: str().default('scratch').describe('scratch | registry reference | oci:PATH[:REF] | image:NAME[:TAG] (another image of this file)'),
  baseVariantFallback: bool().optional().describe('an arm/v7 build may use an arm/v6 or v5 base (and v6 a v5) when the exact variant is missing'),
  platforms: strList().refine((p) => p.length > 0, { error: 'must list at least one platform' }).default(['linux/amd64']),
  files: z.array(FilesEntrySchema).default([]).describe('host trees or files copied in, in order; a later entry wins'),
  paths: z.array(PathEntrySchema).default([]).describe('explicit entries, applied after files'),
  entrypoint: strList().optional(),
  cmd: strList().optional(),
  env: strMap().default({}),
  user: str().optional().describe('uid[:gid] or names resolved from the image\'s /etc/passwd and /etc/group'),
  workdir: str().optional(),
  volumes: strList().default([]),
  ports: strList().default([]),
  labels: strMap().default({}),
  annotations: strMap().default({}).describe('added to every per-platform manifest and to the index'),
  stopSignal: str().optional(),
  args: argsMap().optional().describe('{{args.NAME}} values over the top-level ones'),
  build: BuildStepSchema.optional(),
  test: argv('').optional().describe('self-check argv run on each platform\'s rootfs before any tag is written'),
  accounts: AccountsSchema.optional(),
  push: strList().optional().describe('registry references for ociasm build --push (templated)'),
  platformTags: str().optional().describe('a tag template per platform, e.g. "{{tag}}-{{platformTag}}", pushed beside each push ref'),
  compression: compressionEnum().optional().describe('layer compression of this image, over the top-level one'),
});

export const BuildFileSchema = strict({
  sourceDateEpoch: z.number({ error: 'must be a non-negative whole number of seconds' })
    .int({ error: 'must be a non-negative whole number of seconds' }).min(0, { error: 'must be a non-negative whole number of seconds' })
    .optional().describe('seconds since 1970 for every mtime and created time; SOURCE_DATE_EPOCH wins'),
  args: argsMap().optional().describe('{{args.NAME}} defaults; --build-arg KEY=VAL overrides them'),
  insecureRegistries: strList().optional().describe('host[:port] reached over plain HTTP or unverified TLS'),
  compression: compressionEnum().optional()
    .describe('layer compression: gzip (default) or zstd (docs/zstd-format.md); ociasm build --compression wins'),
  images: z.array(ImageSpecSchema, { error: 'must be a non-empty list' }).min(1, { error: 'must be a non-empty list' }),
});

export type FilesEntry = z.output<typeof FilesEntrySchema>;
export type PathType = (typeof PATH_TYPES)[number];
export type PathEntry = z.output<typeof PathEntrySchema>;
export type BuildStep = z.output<typeof BuildStepSchema>;
export type ImageSpec = z.output<typeof ImageSpecSchema>;
export type BuildFile = z.output<typeof BuildFileSchema> & {
  /** Absolute path of the file it was read from (or a label for embedded input). */
  file: string;
  /** Folder against which relative `src` paths resolve. */
  dir: string;
};
