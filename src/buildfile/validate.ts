/**
 * Strict validation of the build file: an unknown key, a wrong type or a bad
 * value is an error naming the file, the image and the key.
 */
import { parseAccounts } from './accounts-spec.js';
import { OciasmError } from '../errors.js';
import { fromJsonBuildList } from './json-list.js';
import type { BuildFile, BuildStep, FilesEntry, ImageSpec, PathEntry, PathType } from './types.js';

type Obj = Record<string, unknown>;

class Ctx {
  constructor(readonly file: string, readonly where: string) {}
  at(where: string): Ctx {
    return new Ctx(this.file, this.where ? `${this.where}.${where}` : where);
  }
  fail(msg: string): never {
    throw new OciasmError('BUILDFILE_INVALID', `${this.file}: ${this.where ? `${this.where}: ` : ''}${msg}`);
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, ctx: Ctx, allowed: readonly string[]): Obj {
  if (!isObj(v)) ctx.fail('must be a mapping');
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key)) ctx.at(key).fail(`unknown key "${key}" (allowed: ${allowed.join(', ')})`);
  }
  return v;
}

function str(v: unknown, ctx: Ctx): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v !== 'string') ctx.fail('must be a string');
  return v;
}

function optStr(v: unknown, ctx: Ctx): string | undefined {
  return v === undefined || v === null ? undefined : str(v, ctx);
}

function strList(v: unknown, ctx: Ctx): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) ctx.fail('must be a list of strings');
  return v.map((item, i) => str(item, ctx.at(String(i))));
}

function optStrList(v: unknown, ctx: Ctx): string[] | undefined {
  return v === undefined || v === null ? undefined : strList(v, ctx);
}

function strMap(v: unknown, ctx: Ctx): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) ctx.fail('must be a mapping of strings');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) out[k] = str(val, ctx.at(k));
  return out;
}

const IMAGE_KEYS = [
  'name', 'tag', 'base', 'platforms', 'files', 'paths', 'entrypoint', 'cmd', 'env', 'user',
  'workdir', 'volumes', 'ports', 'labels', 'annotations', 'stopSignal', 'args', 'build', 'test', 'accounts',
  'push', 'platformTags', 'baseVariantFallback',
] as const;
const BUILD_KEYS = ['run', 'dir', 'env', 'platformEnv', 'inputs', 'outputs'] as const;

function argsMap(v: unknown, ctx: Ctx): Record<string, string> {
  const args = strMap(v, ctx);
  for (const k of Object.keys(args)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) ctx.at(k).fail(`"${k}" is not a valid arg name`);
  return args;
}

function buildStep(v: unknown, ctx: Ctx): BuildStep {
  const o = obj(v, ctx, BUILD_KEYS);
  const run = strList(o.run, ctx.at('run'));
  if (run.length === 0 || run[0] === '') ctx.at('run').fail('must be a non-empty argv list, e.g. [go, build, ...]');
  const platformEnv: BuildStep['platformEnv'] = {};
  if (o.platformEnv !== undefined && o.platformEnv !== null) {
    if (!isObj(o.platformEnv)) ctx.at('platformEnv').fail('must be a mapping of platform to env mapping');
    for (const [p, env] of Object.entries(o.platformEnv)) {
      platformEnv[p] = strMap(env, ctx.at(`platformEnv.${p}`));
    }
  }
  const step: BuildStep = {
    run, env: strMap(o.env, ctx.at('env')), platformEnv,
    inputs: strList(o.inputs, ctx.at('inputs')), outputs: strMap(o.outputs, ctx.at('outputs')),
  };
  const dir = optStr(o.dir, ctx.at('dir'));
  if (dir !== undefined) step.dir = dir;
  return step;
}
const FILES_KEYS = ['src', 'dest', 'preserveOwner'] as const;
const PATH_KEYS = ['path', 'type', 'owner', 'mode', 'acl', 'defaultAcl', 'target', 'content'] as const;
const PATH_TYPES: readonly PathType[] = ['directory', 'file', 'symlink'];

function filesEntry(v: unknown, ctx: Ctx): FilesEntry {
  const o = obj(v, ctx, FILES_KEYS);
  if (o.src === undefined) ctx.at('src').fail('is required');
  if (o.dest === undefined) ctx.at('dest').fail('is required');
  const preserveOwner = o.preserveOwner ?? false;
  if (typeof preserveOwner !== 'boolean') return ctx.at('preserveOwner').fail('must be true or false');
  return { src: str(o.src, ctx.at('src')), dest: str(o.dest, ctx.at('dest')), preserveOwner };
}

function pathEntry(v: unknown, ctx: Ctx): PathEntry {
  const o = obj(v, ctx, PATH_KEYS);
  if (o.path === undefined) ctx.at('path').fail('is required');
  const type = str(o.type ?? 'directory', ctx.at('type')) as PathType;
  if (!PATH_TYPES.includes(type)) ctx.at('type').fail(`must be one of ${PATH_TYPES.join(', ')}`);
  const entry: PathEntry = { path: str(o.path, ctx.at('path')), type };
  for (const key of ['owner', 'mode', 'acl', 'defaultAcl', 'target', 'content'] as const) {
    const value = optStr(o[key], ctx.at(key));
    if (value !== undefined) entry[key] = value;
  }
  if (type === 'symlink' && entry.target === undefined) ctx.at('target').fail('is required for a symlink');
  if (type !== 'symlink' && entry.target !== undefined) ctx.at('target').fail('is only for symlinks');
  if (type !== 'file' && entry.content !== undefined) ctx.at('content').fail('is only for files');
  if (type !== 'directory' && entry.defaultAcl !== undefined) ctx.at('defaultAcl').fail('is only for directories');
  return entry;
}

function imageSpec(v: unknown, ctx: Ctx): ImageSpec {
  if (!isObj(v)) return ctx.fail('must be a mapping');
  if (v.name === undefined) ctx.at('name').fail('is required');
  const name = str(v.name, ctx.at('name'));
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(name)) {
    ctx.at('name').fail(`"${name}" is not a valid image name (lowercase letters, digits, . _ - /)`);
  }
  ctx = new Ctx(ctx.file, `image "${name}"`);
  const o = obj(v, ctx, IMAGE_KEYS);
  const tag = str(o.tag ?? 'latest', ctx.at('tag'));
  if (!/^[A-Za-z0-9_{][A-Za-z0-9_.{}-]{0,127}$/.test(tag)) ctx.at('tag').fail(`"${tag}" is not a valid tag`);
  const platforms = o.platforms === undefined ? ['linux/amd64'] : strList(o.platforms, ctx.at('platforms'));
  if (platforms.length === 0) ctx.at('platforms').fail('must list at least one platform');
  const listOf = <T>(key: string, fn: (x: unknown, c: Ctx) => T): T[] => {
    const value = o[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return ctx.at(key).fail('must be a list');
    return value.map((item, i) => fn(item, ctx.at(`${key}[${i}]`)));
  };
  const spec: ImageSpec = {
    name,
    tag,
    base: str(o.base ?? 'scratch', ctx.at('base')),
    platforms,
    files: listOf('files', filesEntry),
    paths: listOf('paths', pathEntry),
    env: strMap(o.env, ctx.at('env')),
    volumes: strList(o.volumes, ctx.at('volumes')),
    ports: strList(o.ports, ctx.at('ports')),
    labels: strMap(o.labels, ctx.at('labels')),
    annotations: strMap(o.annotations, ctx.at('annotations')),
  };
  const entrypoint = optStrList(o.entrypoint, ctx.at('entrypoint'));
  if (entrypoint) spec.entrypoint = entrypoint;
  const cmd = optStrList(o.cmd, ctx.at('cmd'));
  if (cmd) spec.cmd = cmd;
  for (const key of ['user', 'workdir', 'stopSignal'] as const) {
    const value = optStr(o[key], ctx.at(key));
    if (value !== undefined) spec[key] = value;
  }
  if (o.args !== undefined) spec.args = argsMap(o.args, ctx.at('args'));
  if (o.build !== undefined) spec.build = buildStep(o.build, ctx.at('build'));
  if (o.test !== undefined) {
    spec.test = strList(o.test, ctx.at('test'));
    if (spec.test.length === 0) ctx.at('test').fail('must be a non-empty argv list');
  }
  if (o.accounts !== undefined && o.accounts !== null) {
    spec.accounts = parseAccounts(o.accounts, (where, msg) => ctx.at(where).fail(msg));
  }
  if (o.push !== undefined && o.push !== null) spec.push = strList(o.push, ctx.at('push'));
  if (o.baseVariantFallback !== undefined) {
    if (typeof o.baseVariantFallback !== 'boolean') return ctx.at('baseVariantFallback').fail('must be true or false');
    spec.baseVariantFallback = o.baseVariantFallback;
  }
  const platformTags = optStr(o.platformTags, ctx.at('platformTags'));
  if (platformTags !== undefined) spec.platformTags = platformTags;
  return spec;
}

export function validateBuildFile(raw: unknown, file: string, dir: string): BuildFile {
  const ctx = new Ctx(file, '');
  const o = obj(fromJsonBuildList(raw ?? {}, file), ctx, ['sourceDateEpoch', 'args', 'insecureRegistries', 'images']);
  const result: BuildFile = { file, dir, images: [] };
  if (o.args !== undefined) result.args = argsMap(o.args, ctx.at('args'));
  if (o.insecureRegistries !== undefined) result.insecureRegistries = strList(o.insecureRegistries, ctx.at('insecureRegistries'));
  if (o.sourceDateEpoch !== undefined) {
    const epoch = o.sourceDateEpoch;
    if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) {
      return ctx.at('sourceDateEpoch').fail('must be a non-negative whole number of seconds');
    }
    result.sourceDateEpoch = epoch;
  }
  const images = o.images;
  if (!Array.isArray(images) || images.length === 0) return ctx.at('images').fail('must be a non-empty list');
  result.images = images.map((img, i) => imageSpec(img, ctx.at(`images[${i}]`)));
  const seen = new Set<string>();
  for (const img of result.images) {
    if (seen.has(img.name)) ctx.at('images').fail(`image name "${img.name}" appears twice`);
    seen.add(img.name);
  }
  return result;
}
