/**
 * The e2e project's global setup: the tests run the CLI from dist/, so dist/
 * is compiled here when it is missing or older than any source (as
 * bin/ociasm.js does), and `npx vitest run` never tests a stale build.
 * `npm test` builds first (pretest), so this then finds dist/ current.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsStale } from '../../bin/dist-stale.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default function setup(): void {
  if (!distIsStale(ROOT)) return;
  process.stderr.write('e2e: dist/ is older than the sources; compiling it (tsc -p tsconfig.json)\n');
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.json')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('e2e: the TypeScript build failed; the e2e tests would run a stale dist/');
}
