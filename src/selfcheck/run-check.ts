/**
 * The self-check before tagging: the platform's rootfs is written to a temp
 * folder and the image's `test:` command runs INSIDE it (in-image.ts: proot,
 * the image's own loader, libraries and Env; qemu for foreign platforms).
 * A test whose argv names `{{rootfs}}` or `{{qemu}}` is a host check instead:
 * it runs on the host in the build file's folder with the user's environment,
 * the rootfs at `{{rootfs}}`. A non-zero exit fails the image.
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
import { type ImageRuntime, inImageCommand } from './in-image.js';
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
  /** The image config's Env, User and WorkingDir, for a check inside the image. */
  runtime?: ImageRuntime;
  signal?: AbortSignal;
}

/** True when the test looks at the rootfs from the host (`{{rootfs}}`, `{{qemu}}`) rather than running inside it. */
export function isHostCheck(test: readonly string[]): boolean {
  return test.some((a) => RUNTIME_NAME.test(a));
}
const RUNTIME_NAME = /\{\{\s*(rootfs|qemu)\s*\}\}/;

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
  if (!isHostCheck(o.test)) inImageCommand([], '/', o.platform, o.runtime ?? {}, o.env, o.epoch, what); // proot (and qemu) are there before the rootfs is written
  const dir = await makeTempDir(os.tmpdir(), 'ociasm-check-');
  try {
    const rootfs = path.join(dir, 'rootfs');
    o.reporter.emit({ type: 'step', image: o.image, platform: p, message: 'self-check: writing the rootfs' });
    await materialise(o.root, rootfs);
    const host = isHostCheck(o.test);
    o.reporter.emit({ type: 'step', image: o.image, platform: p, message: `self-check: running the test ${host ? 'on the host' : 'inside the image'}` });
    const cmd = host
      ? { argv: fillCheckArgv(o.test, { rootfs, qemu }), env: { ...o.env, SOURCE_DATE_EPOCH: String(o.epoch) } }
      : inImageCommand(o.test, rootfs, o.platform, o.runtime ?? {}, o.env, o.epoch, what);
    await runTool({
      argv: cmd.argv, cwd: host ? o.cwd : dir, env: cmd.env, prefix: `[${o.image} ${p} test]`,
      reporter: o.reporter, what, errorCode: 'SELFCHECK_FAILED', ...(o.signal ? { signal: o.signal } : {}),
    });
  } finally {
    await removeTree(dir);
    untrack(dir);
  }
}
