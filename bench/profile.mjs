// Runs ociasm once under `node --cpu-prof` and summarises self time per thread.
import { spawnSync } from 'node:child_process';

/** The node flags on the CLI's `#!/usr/bin/env -S node …` line, so the profile runs as users do. */
function shebangFlags(cli) {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0];
  return first.split(/\s+/).filter((w) => w.startsWith('--'));
}
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function summarise(file, top) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const cf = byId.get(p.samples[i]).callFrame;
    const where = cf.url ? ` (${cf.url.split('/').slice(-2).join('/')})` : '';
    const key = `${cf.functionName || '(anonymous)'}${where}`;
    const dt = p.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const idle = self.get('(idle)') ?? 0;
  const rows = [...self].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  return { total, idle, rows };
}

/** Markdown lines: per thread, busy vs idle and the top functions by self time. */
export async function profileSummary(cli, args, cwd, env) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ociasm-bench-prof-'));
  try {
    const r = spawnSync(process.execPath, [...shebangFlags(cli), '--cpu-prof', '--cpu-prof-dir', dir, cli, ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
    if (r.status !== 0) return [`(profile run failed: ${r.stderr.slice(0, 300)})`];
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
    const lines = [];
    for (const [i, f] of files.entries()) {
      const s = summarise(path.join(dir, f), i === 0 ? 10 : 3);
      const ms = (x) => `${(x / 1000).toFixed(0)} ms`;
      lines.push(`- **${i === 0 ? 'main thread' : `deflate worker ${i}`}**: ${ms(s.total - s.idle)} busy, ${ms(s.idle)} idle of ${ms(s.total)}. ` +
        s.rows.map(([k, t]) => `${k} ${ms(t)}`).join('; '));
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
