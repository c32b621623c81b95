/**
 * JSON build lists: a `.json` build file whose top-level `images` array holds
 * one entry per image, each with optional `extra_args` — the build arguments a
 * Docker pipeline passed per image. They become the image's `args` (available
 * as `{{args.NAME}}`, templates allowed). Accepted spellings:
 *   { "KEY": "VAL" }, ["KEY=VAL", ...], ["--build-arg", "KEY=VAL", ...],
 *   "--build-arg KEY=VAL --build-arg K2=V2" (split on whitespace, no quoting).
 */
import { OciasmError } from '../errors.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseExtraArgs(value: unknown, where: string): Record<string, string> {
  const fail = (why: string): never => {
    throw new OciasmError('BUILDFILE_INVALID', `${where}: extra_args: ${why}`);
  };
  if (isObj(value)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail(`"${k}" must be a string`);
      out[k] = String(v);
    }
    return out;
  }
  let tokens: string[];
  if (typeof value === 'string') tokens = value.split(/\s+/).filter((t) => t !== '');
  else if (Array.isArray(value) && value.every((t) => typeof t === 'string')) tokens = value as string[];
  else return fail('must be a mapping, a list of KEY=VAL strings or a string of --build-arg KEY=VAL');
  const out: Record<string, string> = {};
  for (let i = 0; i < tokens.length; i++) {
    let tok = tokens[i]!;
    if (tok === '--build-arg') {
      const next = tokens[++i];
      if (next === undefined) fail('--build-arg at the end has no KEY=VAL');
      tok = next!;
    } else if (tok.startsWith('--build-arg=')) tok = tok.slice('--build-arg='.length);
    else if (tok.startsWith('-')) fail(`"${tok}" is not supported; only build arguments are (KEY=VAL or --build-arg KEY=VAL)`);
    const eq = tok.indexOf('=');
    if (eq <= 0) fail(`"${tok}" is not KEY=VAL`);
    out[tok.slice(0, eq)] = tok.slice(eq + 1);
  }
  return out;
}

/** Returns the raw document with each image's `extra_args` folded into its `args` (JSON files only). */
export function fromJsonBuildList(raw: unknown, file: string): unknown {
  if (!file.toLowerCase().endsWith('.json') || !isObj(raw) || !Array.isArray(raw.images)) return raw;
  const images = raw.images.map((img: unknown, i: number) => {
    if (!isObj(img) || !('extra_args' in img)) return img;
    const { extra_args: extra, ...rest } = img;
    const where = `${file}: images[${i}]${typeof img.name === 'string' ? ` (image "${img.name}")` : ''}`;
    if (rest.args !== undefined && !isObj(rest.args)) throw new OciasmError('BUILDFILE_INVALID', `${where}: args: must be a mapping`);
    const args = { ...(rest.args as Obj | undefined), ...parseExtraArgs(extra, where) };
    return { ...rest, args };
  });
  return { ...raw, images };
}
