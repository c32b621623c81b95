/**
 * Validation of the build file against the one schema (schema.ts). Rules:
 * - every error names the file, the image and the key;
 * - ALL errors of a file are reported at once, one line each, in file order;
 * - a key given as YAML null (`env:` with nothing after it) is as if absent.
 */
import type * as z from 'zod';
import { OciasmError } from '../errors.js';
import { fromBuildList, type Problem } from './json-list.js';
import { BuildFileSchema, IMAGE_NAME, type BuildFile } from './schema.js';
import { phrase } from './zod-kit.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drops mapping keys whose value is null, at every depth. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
}

function rawImages(raw: unknown): unknown[] {
  return isObj(raw) && Array.isArray(raw.images) ? raw.images : [];
}

function rawTag(img: Obj): string {
  return img.tag === undefined ? 'latest' : String(img.tag);
}

/**
 * The label an image's messages start with: `image "app"`; `image "app:1.0"`
 * when several images share the name; `images[2]` while it has no valid name.
 */
function imageLabel(raw: unknown, i: number): string {
  const images = rawImages(raw);
  const img: unknown = images[i];
  if (!isObj(img) || typeof img.name !== 'string' || !IMAGE_NAME.test(img.name)) return `images[${i}]`;
  const shared = images.filter((o) => isObj(o) && o.name === img.name).length > 1;
  return `image "${shared ? `${img.name}:${rawTag(img)}` : img.name}"`;
}

function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/** `image "app": files[0].src` for a zod path. */
export function locate(raw: unknown, path: readonly PropertyKey[]): string {
  if (path[0] === 'images' && typeof path[1] === 'number') {
    const rest = keyPath(path.slice(2));
    return rest ? `${imageLabel(raw, path[1])}: ${rest}` : imageLabel(raw, path[1]);
  }
  return keyPath(path);
}

function problems(issues: readonly z.core.$ZodIssue[]): Problem[] {
  const out: Problem[] = [];
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      const lines = iss.message.split('\n');
      iss.keys.forEach((k, i) => out.push({ path: [...iss.path, k], message: lines[i] ?? `unknown key "${k}"` }));
    } else if (iss.code === 'invalid_key') {
      out.push({ path: [...iss.path], message: iss.issues[0]?.message ?? iss.message });
    } else {
      out.push({ path: [...iss.path], message: iss.message });
    }
  }
  return out;
}

/** An image is its name and tag: each NAME:TAG appears once. */
function crossImageProblems(raw: unknown): Problem[] {
  const out: Problem[] = [];
  const first = new Map<string, number>();
  rawImages(raw).forEach((img: unknown, i: number) => {
    if (!isObj(img) || typeof img.name !== 'string') return;
    const key = `${img.name}:${rawTag(img)}`;
    const at = first.get(key);
    if (at !== undefined) out.push({ path: ['images', i, 'tag'], message: `${key} appears twice (images[${at}] and images[${i}]); an image is its name and tag` });
    else first.set(key, i);
  });
  return out;
}

/** Orders two paths as their keys appear in the document (a missing key sorts after its siblings). */
function documentOrder(doc: unknown, a: PropertyKey[], b: PropertyKey[]): number {
  let node: unknown = doc;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) {
      if (typeof x === 'number' && typeof y === 'number') return x - y;
      const keys = isObj(node) ? Object.keys(node) : [];
      const pos = (k: PropertyKey) => (keys.indexOf(String(k)) + keys.length + 1) % (keys.length + 1);
      return pos(x) - pos(y);
    }
    node = isObj(node) || Array.isArray(node) ? (node as Obj)[x as string] : undefined;
  }
  return a.length - b.length;
}

export function validateBuildFile(raw: unknown, file: string, dir: string): BuildFile {
  const written = dropNulls(raw ?? {});
  const list = fromBuildList(written);
  const doc = list.doc;
  const r = BuildFileSchema.safeParse(doc, { error: (iss) => phrase(iss) });
  const found = [...list.problems, ...(r.success ? [] : problems(r.error.issues)), ...crossImageProblems(doc)];
  if (found.length > 0) {
    // In document order (stable: one key's problems stay as zod found them).
    found.sort((a, b) => documentOrder(written, a.path, b.path));
    const lines = found.map((p) => {
      const where = locate(doc, p.path);
      return where ? `${where}: ${p.message}` : p.message;
    });
    const message = lines.length === 1 ? `${file}: ${lines[0]}` : `${file}: ${lines.length} errors:\n${lines.map((l) => `  ${l}`).join('\n')}`;
    throw new OciasmError('BUILDFILE_INVALID', message);
  }
  return { ...r.data!, file, dir };
}
