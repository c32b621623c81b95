// Whether a source checkout's dist/ is missing or older than its sources
// (tsconfig.json, src/, cmd/): bin/ociasm.js compiles it then, and the e2e
// tests' global setup does the same, so neither ever runs a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** @param {string} root the checkout @returns {boolean} */
export function distIsStale(root) {
  const entry = path.join(root, 'dist', 'cmd', 'ociasm.js');
  const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
  const sources = Math.max(statSync(path.join(root, 'tsconfig.json')).mtimeMs, newest(path.join(root, 'src')), newest(path.join(root, 'cmd')));
  return sources > built;
}
