/**
 * Build lists (corpusops' IMAGES.json style; YAML or JSON): entries of a
 * top-level `images` list spelled as a Docker pipeline spelled them. Rules:
 * - `tag: "corpusops/ubuntu:18.04"` without `name` is name `corpusops/ubuntu`, tag `18.04`;
 * - `extra_args` (the build arguments the pipeline passed per image) becomes the
 *   image's `args`, available as `{{args.NAME}}`. Spellings:
 *   { "KEY": "VAL" }, ["KEY=VAL", ...], ["--build-arg", "KEY=VAL", ...],
 *   "--build-arg KEY=VAL --build-arg K2=V2" (split on whitespace, no quoting);
 * - keys that describe a Docker or Packer build (`builder_type`, `file`,
 *   `dockerfile`, `working_dir`) have no ociasm equivalent: each is an error
 *   saying which ociasm keys do the same;
 * - problems are returned, not thrown, so validation reports all of them at once.
 */
import { OciasmError } from '../errors.js';

type Obj = Record<string, unknown>;

export interface Problem {
  path: PropertyKey[];
  message: string;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The list format's keys ociasm refuses, with what does the same. */
export const LIST_KEYS_NOT_SUPPORTED: Readonly<Record<string, string>> = {
  builder_type: 'not supported: ociasm is its own builder (no Docker, no Packer); base:, files:, paths:, accounts: and build: do the same',
  file: 'not supported: ociasm reads no Dockerfile; FROM is base:, COPY/ADD are files:, RUN on the host is build:, ENV/USER/CMD are env:, user:, cmd:',
  dockerfile: 'not supported: ociasm reads no Dockerfile; FROM is base:, COPY/ADD are files:, RUN on the host is build:, ENV/USER/CMD are env:, user:, cmd:',
  working_dir: 'not supported: there is no build context; files[].src is relative to the build file\'s folder, build.dir is the toolchain\'s working directory, workdir: the image\'s',
};

const LIST_KEYS = ['extra_args', ...Object.keys(LIST_KEYS_NOT_SUPPORTED)];

function extraArgs(value: unknown): { args: Record<string, string> } | { error: string } {
  if (isObj(value)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return { error: `"${k}" must be a string` };
      out[k] = String(v);
    }
    return { args: out };
  }
  let tokens: string[];
  if (typeof value === 'string') tokens = value.split(/\s+/).filter((t) => t !== '');
  else if (Array.isArray(value) && value.every((t) => typeof t === 'string')) tokens = value as string[];
  else return { error: 'must be a mapping, a list of KEY=VAL strings or a string of --build-arg KEY=VAL' };
  const out: Record<string, string> = {};
  for (let i = 0; i < tokens.length; i++) {
    let tok = tokens[i]!;
    if (tok === '--build-arg') {
      const next = tokens[++i];
      if (next === undefined) return { error: '--build-arg at the end has no KEY=VAL' };
      tok = next;
    } else if (tok.startsWith('--build-arg=')) tok = tok.slice('--build-arg='.length);
    else if (tok.startsWith('-')) return { error: `"${tok}" is not supported; only build arguments are (KEY=VAL or --build-arg KEY=VAL)` };
    const eq = tok.indexOf('=');
    if (eq <= 0) return { error: `"${tok}" is not KEY=VAL` };
    out[tok.slice(0, eq)] = tok.slice(eq + 1);
  }
  return { args: out };
}

export function parseExtraArgs(value: unknown, where: string): Record<string, string> {
  const r = extraArgs(value);
  if ('error' in r) throw new OciasmError('BUILDFILE_INVALID', `${where}: extra_args: ${r.error}`);
  return r.args;
}

/** `corpusops/ubuntu:18.04` → name and tag, when the entry has no name of its own. */
function splitRepoTag(img: Obj): Obj {
  if (img.name !== undefined || typeof img.tag !== 'string') return img;
  const slash = img.tag.lastIndexOf('/');
  const colon = img.tag.lastIndexOf(':');
  if (colon > slash) return { ...img, name: img.tag.slice(0, colon), tag: img.tag.slice(colon + 1) };
  if (slash >= 0) return { ...img, name: img.tag, tag: 'latest' };
  return img;
}

/** The raw document with each list-style image rewritten into ociasm's keys, and what could not be. */
export function fromBuildList(raw: unknown): { doc: unknown; problems: Problem[] } {
  const problems: Problem[] = [];
  if (!isObj(raw) || !Array.isArray(raw.images)) return { doc: raw, problems };
  const images = raw.images.map((img: unknown, i: number) => {
    if (!isObj(img)) return img;
    let out = splitRepoTag(img);
    if (!LIST_KEYS.some((k) => k in out)) return out;
    const { extra_args: extra, ...rest } = out;
    out = rest;
    for (const k of Object.keys(LIST_KEYS_NOT_SUPPORTED)) {
      if (k in out) {
        problems.push({ path: ['images', i, k], message: LIST_KEYS_NOT_SUPPORTED[k]! });
        delete out[k];
      }
    }
    if (extra !== undefined) {
      const r = extraArgs(extra);
      if ('error' in r) problems.push({ path: ['images', i, 'extra_args'], message: r.error });
      else if (rest.args !== undefined && !isObj(rest.args)) problems.push({ path: ['images', i, 'args'], message: 'must be a mapping' });
      else out = { ...out, args: { ...(rest.args as Obj | undefined), ...r.args } };
    }
    return out;
  });
  return { doc: { ...raw, images }, problems };
}
