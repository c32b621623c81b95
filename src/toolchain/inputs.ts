/**
 * The build cache's view of `inputs`: glob patterns relative to the build
 * file's folder (`*` and `?` within a name, `**` for any depth), each match
 * hashed by content. A pattern that matches nothing is an error, so a typo
 * cannot make the cache blind to a change.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { compareNames } from '../rootfs/tree.js';
import { ioError, OciasmError } from '../errors.js';

const WILD = /[*?]/;

function componentRegex(c: string): string {
  return c.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
}

/** A pattern as a regex over `/`-separated paths relative to the build file's folder. */
export function globRegex(pattern: string): RegExp {
  const parts = pattern.split('/').filter((c) => c !== '' && c !== '.');
  let re = '';
  parts.forEach((c, i) => {
    const last = i === parts.length - 1;
    if (c === '**') re += last ? '.*' : '(?:[^/]+/)*';
    else re += componentRegex(c) + (last ? '' : '/');
  });
  return new RegExp(`^${re}$`);
}

function walk(abs: string, rel: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(abs).sort(compareNames);
  } catch (e) {
    throw ioError('cannot list', abs, e);
  }
  for (const name of names) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(path.join(abs, name));
    if (st.isDirectory()) walk(path.join(abs, name), childRel, out);
    else if (st.isFile() || st.isSymbolicLink()) out.push(childRel);
  }
}

/** Files matched by `pattern`, as paths relative to `base`, sorted. */
export function matchInputs(base: string, pattern: string, where: string): string[] {
  const parts = pattern.split('/').filter((c) => c !== '' && c !== '.');
  const fixed: string[] = [];
  for (const c of parts) {
    if (WILD.test(c)) break;
    fixed.push(c);
  }
  const prefix = fixed.join('/');
  if (fixed.length === parts.length) {
    let st;
    try {
      st = statSync(path.resolve(base, prefix));
    } catch {
      throw new OciasmError('SOURCE_MISSING', `${where}: input "${pattern}" does not exist`);
    }
    if (!st.isDirectory()) return [prefix];
  }
  const found: string[] = [];
  const root = path.resolve(base, prefix);
  try {
    if (statSync(root).isDirectory()) walk(root, '', found);
  } catch (e) {
    if (!(e instanceof OciasmError)) throw new OciasmError('SOURCE_MISSING', `${where}: input "${pattern}": ${prefix} does not exist`);
    throw e;
  }
  const rel = found.map((f) => (prefix === '' ? f : `${prefix}/${f}`));
  // A plain directory means everything below it.
  const re = fixed.length === parts.length ? null : globRegex(parts.join('/'));
  const hits = re ? rel.filter((f) => re.test(f)) : rel;
  if (hits.length === 0) throw new OciasmError('SOURCE_MISSING', `${where}: input "${pattern}" matches no file`);
  return hits;
}

async function hashFile(file: string): Promise<string> {
  const st = lstatSync(file);
  const h = createHash('sha256');
  if (st.isSymbolicLink()) h.update(`symlink:${readlinkSync(file)}`);
  else for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** [relative path, sha256, executable bit] for every input, sorted and deduplicated. */
export async function hashInputs(base: string, patterns: string[], where: string): Promise<[string, string, boolean][]> {
  const files = [...new Set(patterns.flatMap((p, i) => matchInputs(base, p, `${where}: build.inputs[${i}]`)))].sort(compareNames);
  const out: [string, string, boolean][] = [];
  for (const f of files) {
    const abs = path.resolve(base, f);
    out.push([f, await hashFile(abs), (lstatSync(abs).mode & 0o111) !== 0]);
  }
  return out;
}
