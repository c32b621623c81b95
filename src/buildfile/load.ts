/**
 * Reads `ociasm.yaml` (JSON is YAML too) and validates it into a BuildFile.
 * A plain YAML number whose value would not print as written (`1.0`, `1.10`,
 * `0x1F`, `1e3`) is handed to validation as the text written: a string field
 * keeps it (`tag: 1.10` is the tag "1.10"), a number field refuses it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument, visit } from 'yaml';
import { OciasmError } from '../errors.js';
import type { BuildFile } from './types.js';
import { validateBuildFile } from './validate.js';

export interface LoadOptions {
  /** For `-f -`: the stream to read the build file from (the CLI passes its stdin). */
  stdin?: AsyncIterable<string | Uint8Array>;
  /** The folder relative paths of a build file read from stdin resolve against (default: the process's). */
  cwd?: string;
}

/** The label of a build file read from stdin. */
export const STDIN_LABEL = '<stdin>';

async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/** `file` is a path, or `-` for `opts.stdin` (relative paths in it resolve against `opts.cwd`). */
export async function loadBuildFile(file: string, opts: LoadOptions = {}): Promise<BuildFile> {
  if (file === '-') {
    if (!opts.stdin) throw new OciasmError('BUILDFILE_NOT_FOUND', 'build file "-": no standard input to read it from');
    const bf = parseBuildFile(await readAll(opts.stdin), STDIN_LABEL);
    return { ...bf, dir: path.resolve(opts.cwd ?? '.') };
  }
  const abs = path.resolve(opts.cwd ?? '.', file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new OciasmError('BUILDFILE_NOT_FOUND', `cannot read build file ${abs}: ${(e as NodeJS.ErrnoException).code ?? e}`, { cause: e });
  }
  return parseBuildFile(text, abs);
}

export function parseBuildFile(text: string, file: string): BuildFile {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new OciasmError('BUILDFILE_PARSE', `${file}: ${first.message.split('\n')[0]}`);
  }
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && node.source !== undefined && String(node.value) !== node.source) node.value = node.source;
    },
  });
  let raw: unknown;
  try {
    // Aliases are expanded at most 100 times over: a "billion laughs" file is a parse error, not an out-of-memory.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new OciasmError('BUILDFILE_PARSE', `${file}: ${(e as Error).message.split('\n')[0]} (YAML aliases may expand at most 100 times)`, { cause: e });
  }
  return validateBuildFile(raw, file, path.dirname(file));
}
