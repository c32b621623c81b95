/**
 * The self-check before tagging: the platform's rootfs is written to a temp
 * folder (`{{rootfs}}`) and the image's `test:` command runs on the host,
 * under `{{qemu}}` for foreign platforms. A non-zero exit fails the image.
 * An argv element that only held templates expanding to nothing (`{{qemu}}`
 * on the host's platform) is dropped.
 */
import os from 'node:os';
import path from 'node:path';
import { makeTempDir, untrack } from '../cas/temp-files.js';
import { formatPlatform } from '../codec/platform.js';
import type { Platform } from '../oci/types.js';
import type { Reporter } from '../report/reporter.js';
import type { DirNode } from '../rootfs/tree.js';
import { removeTree } from '../toolchain/fs-util.js';
import { runTool } from '../toolchain/run-tool.js';
import { materialise } from './materialise.js';
import { qemuFor } from './qemu.js';

export interface SelfCheckOptions {
  image: string;
  platform: Platform;
  /** The planned argv, `{{rootfs}}` and `{{qemu}}` still to fill. */
  test: string[];
  root: DirNode;
  reporter: Reporter;
  env: NodeJS.ProcessEnv;
  epoch: number;
  /** Where the command runs: the build file's folder. */
  cwd: string;
  where: string;
  signal?: AbortSignal;
}

const RUNTIME = /\{\{\s*(rootfs|qemu)\s*\}\}/g;

export function fillCheckArgv(test: string[], vars: { rootfs: string; qemu: string }): string[] {
  const out: string[] = [];
  for (const arg of test) {
    const filled = arg.replace(RUNTIME, (_, name: 'rootfs' | 'qemu') => vars[name]);
    if (filled === '' && arg !== '') continue;
    out.push(filled);
  }
  return out;
}

export async function runSelfCheck(o: SelfCheckOptions): Promise<void> {
  const p = formatPlatform(o.platform);
  const what = `${o.where} [${p}]: test`;
  const qemu = o.test.some((a) => /\{\{\s*qemu\s*\}\}/.test(a)) ? qemuFor(o.platform, o.env, what) : '';
  const dir = await makeTempDir(os.tmpdir(), 'ociasm-check-');
  try {
    const rootfs = path.join(dir, 'rootfs');
    o.reporter.emit({ type: 'step', image: o.image, platform: p, message: 'self-check: writing the rootfs' });
    await materialise(o.root, rootfs);
    o.reporter.emit({ type: 'step', image: o.image, platform: p, message: 'self-check: running the test' });
    await runTool({
      argv: fillCheckArgv(o.test, { rootfs, qemu }), cwd: o.cwd,
      env: { ...o.env, SOURCE_DATE_EPOCH: String(o.epoch) }, prefix: `[${o.image} ${p} test]`,
      reporter: o.reporter, what, errorCode: 'SELFCHECK_FAILED', ...(o.signal ? { signal: o.signal } : {}),
    });
  } finally {
    await removeTree(dir);
    untrack(dir);
  }
}
