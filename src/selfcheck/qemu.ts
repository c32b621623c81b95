/**
 * `{{qemu}}`: empty on the host's own platform; elsewhere the absolute path
 * of `qemu-<arch>-static` found on PATH (qemu-user runs static foreign
 * binaries directly, no binfmt needed). Missing qemu is a clear error.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { formatPlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import type { Platform } from '../oci/types.js';

const NODE_TO_OCI: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
const QEMU_ARCH: Record<string, string> = {
  amd64: 'x86_64', arm64: 'aarch64', arm: 'arm', '386': 'i386', ppc64le: 'ppc64le', s390x: 's390x',
  riscv64: 'riscv64', mips64le: 'mips64el', loong64: 'loongarch64',
};

/** True when binaries of `p` run natively here (same OS and architecture; arm variants are not told apart). */
export function isHostPlatform(p: Platform, nodeArch = process.arch, nodeOs = process.platform): boolean {
  return p.os === nodeOs && NODE_TO_OCI[nodeArch] === p.architecture;
}

export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** The value of `{{qemu}}` for `p`; throws QEMU_MISSING when qemu is needed and not installed. */
export function qemuFor(p: Platform, env: NodeJS.ProcessEnv, where: string): string {
  if (isHostPlatform(p)) return '';
  const arch = QEMU_ARCH[p.architecture];
  const name = `qemu-${arch ?? p.architecture}-static`;
  const found = arch ? findOnPath(name, env) : undefined;
  if (!found) {
    throw new OciasmError(
      'QEMU_MISSING',
      `${where}: the self-check of ${formatPlatform(p)} needs ${name}, which is not on PATH (Debian: apt-get install qemu-user-static); or pass --skip-tests`,
    );
  }
  return found;
}
