/**
 * The folders of src/ follow the data flow one way: no folder may import,
 * through any chain of folders, a folder that imports it. Every relative
 * import counts: value and type imports, re-exports and dynamic import().
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The top folder of a path inside src/ (a file directly in src/ is its own "folder"). */
function folderOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!.replace(/\.[jt]s$/, '');
}

export function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const spec = /(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g;
  for (const file of files(SRC)) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const m of readFileSync(file, 'utf8').matchAll(spec)) {
      const target = path.resolve(path.dirname(file), m[1]!);
      if (!target.startsWith(SRC + path.sep)) continue;
      const to = folderOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, `${path.relative(SRC, file)} → ${m[1]}`);
    }
  }
  return graph;
}

/** Every strongly connected set of more than one folder (Tarjan), each with the import lines that close it. */
export function cycles(graph: Map<string, Map<string, string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) {
        const set = new Set(scc);
        out.push(scc.flatMap((a) => [...(graph.get(a) ?? [])].filter(([b]) => set.has(b)).map(([b, line]) => `${a} → ${b} (${line})`)));
      }
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('src/ folders', () => {
  it('import each other without a cycle', () => {
    expect(cycles(folderGraph())).toEqual([]);
  });

  it('the check finds a cycle when there is one', () => {
    const g = new Map([
      ['a', new Map([['b', 'a/x.ts → ../b/y.js']])],
      ['b', new Map([['c', 'b/y.ts → ../c/z.js']])],
      ['c', new Map([['a', 'c/z.ts → ../a/x.js']])],
      ['d', new Map([['a', 'd/w.ts → ../a/x.js']])],
    ]);
    const found = cycles(g);
    expect(found).toHaveLength(1);
    expect(found[0]!.sort()).toEqual(['a → b (a/x.ts → ../b/y.js)', 'b → c (b/y.ts → ../c/z.js)', 'c → a (c/z.ts → ../a/x.js)']);
  });

  it('sees the real import lines of this tree', () => {
    const g = folderGraph();
    expect(g.get('pipeline')?.has('plan')).toBe(true);
    expect(g.get('codec')?.has('pipeline') ?? false).toBe(false);
  });
});
