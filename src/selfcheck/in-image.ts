/**
 * Running `test:` inside the image's root filesystem, without root, with the
 * image's own loader and libraries: `proot -r ROOTFS` (Debian's proot, ptrace
 * based, needs no privilege), and for a foreign platform `proot -q
 * qemu-<arch>-static`, which runs every foreign program the test starts
 * (children too) under qemu with paths resolved inside the rootfs. Rules:
 * - the test sees the materialised rootfs as `/` plus the host's /dev, /proc and
 *   /sys; not the build file's folder, not the host's /tmp (it writes to a
 *   throwaway copy of the image's tree, never to the image);
 * - environment: the image config's Env, PATH defaulting to Docker's, HOME=/ when
 *   unset, SOURCE_DATE_EPOCH, and the host's PROOT_* settings; nothing else of the host;
 * - identity: a numeric config User (`uid[:gid]`) is faked with `proot -i`, else root
 *   (`proot -0`); owners, ACLs and other xattrs are not in the copy (that needs root);
 * - working directory: the config's WorkingDir, else `/`.
 */
import { formatPlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import type { Platform } from '../oci/types.js';
import { findOnPath, isHostPlatform, qemuFor } from './qemu.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ImageRuntime {
  /** The image config's Env, `KEY=VAL`. */
  env?: string[];
  user?: string;
  workdir?: string;
}

export interface InImageCommand {
  argv: string[];
  env: NodeJS.ProcessEnv;
}

/** The environment of the test: the image's, not the host's. */
export function imageEnv(runtime: ImageRuntime, hostEnv: NodeJS.ProcessEnv, epoch: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(hostEnv)) if (k.startsWith('PROOT_') && v !== undefined) env[k] = v;
  for (const kv of runtime.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  env.PATH ??= DEFAULT_PATH;
  env.HOME ??= '/';
  env.SOURCE_DATE_EPOCH = String(epoch);
  return env;
}

/** The proot command line that runs `test` inside `rootfs` for platform `p`. */
export function inImageCommand(
  test: string[], rootfs: string, p: Platform, runtime: ImageRuntime, hostEnv: NodeJS.ProcessEnv, epoch: number, what: string,
): InImageCommand {
  const proot = findOnPath('proot', hostEnv);
  if (!proot) {
    throw new OciasmError(
      'TOOL_MISSING',
      `${what}: running the self-check inside the ${formatPlatform(p)} image needs proot, which is not on PATH (Debian: apt-get install proot); or pass --skip-tests`,
    );
  }
  const argv = [proot, '-r', rootfs, '-b', '/dev', '-b', '/proc', '-b', '/sys', '-w', runtime.workdir || '/'];
  const user = /^(\d+)(?::(\d+))?$/.exec(runtime.user ?? '');
  if (user) argv.push('-i', `${user[1]}:${user[2] ?? '0'}`);
  else argv.push('-0');
  if (!isHostPlatform(p)) argv.push('-q', qemuFor(p, hostEnv, what));
  return { argv: [...argv, ...test], env: imageEnv(runtime, hostEnv, epoch) };
}
