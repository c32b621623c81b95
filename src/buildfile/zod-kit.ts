/**
 * The small vocabulary the build-file schema is written in (zod 4). Rules:
 * - every message is a phrase that reads after "FILE: LOCATION: " ("must be a list");
 * - a string field also takes a YAML number or boolean and keeps its text
 *   (load.ts hands over a number whose text would change, like 1.10, as that text);
 * - strict objects list the allowed keys when one is unknown.
 */
import * as z from 'zod';

/** A string; a YAML number or boolean is taken as its text (8080, true). */
export const str = () =>
  z
    .union([z.string(), z.number(), z.boolean()], {
      error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string'),
    })
    .transform((v) => String(v));

/** A list of strings. */
export const strList = () => z.array(str(), { error: (iss) => (iss.input === undefined ? 'is required' : 'must be a list of strings') });

/** A mapping of strings. */
export const strMap = () => z.record(z.string(), str(), { error: 'must be a mapping of strings' });

export const bool = () => z.boolean({ error: 'must be true or false' });

/** A non-negative whole number up to `max`. */
export const wholeNumber = (max: number, what: string) =>
  z.number({ error: (iss) => (iss.input === undefined ? 'is required' : what) }).int({ error: what }).min(0, { error: what }).max(max, { error: what });

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** `did you mean "platforms"?` for a key at most two edits away from an allowed one. */
export function didYouMean(key: string, allowed: readonly string[]): string {
  let best: string | undefined;
  let bestD = 3;
  for (const a of allowed) {
    const d = distance(key, a);
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best === undefined ? '' : `did you mean "${best}"? `;
}

/**
 * A mapping with exactly these keys. An unknown key gives one message per key,
 * joined by newlines in key order (validate.ts splits them to their locations).
 */
export function strict<S extends z.ZodRawShape>(shape: S, what = 'a mapping') {
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') {
        return iss.keys.map((k) => `unknown key "${k}" (${didYouMean(k, allowed)}allowed: ${allowed.join(', ')})`).join('\n');
      }
      if (iss.code === 'invalid_type') return iss.input === undefined ? 'is required' : `must be ${what}`;
      return undefined;
    },
  });
}

/** The fallback phrasing for issues a schema gave no message of its own. */
export function phrase(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      switch (iss.expected) {
        case 'array': return 'must be a list';
        case 'object': case 'record': return 'must be a mapping';
        case 'boolean': return 'must be true or false';
        case 'number': case 'int': return 'must be a number';
        default: return `must be a ${iss.expected}`;
      }
    case 'invalid_value':
      return `must be one of ${iss.values.map((v) => String(v)).join(', ')}`;
    default:
      return undefined;
  }
}
