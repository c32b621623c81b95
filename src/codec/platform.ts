/** Platform strings (`os/arch[/variant]`): parsing, the canonical OCI form, and docker-library tags. */
import { OciasmError } from '../errors.js';
import type { Platform } from '../oci/types.js';

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386', i686: '386', armhf: 'arm', armel: 'arm',
};
const KNOWN_ARCHES = new Set(['amd64', 'arm64', 'arm', '386', 'ppc64le', 's390x', 'riscv64', 'mips64le', 'loong64']);
const KNOWN_OSES = new Set(['linux', 'windows', 'freebsd', 'darwin']);

/**
 * Parses and canonicalizes a platform string. `linux/arm64` and
 * `linux/arm64/v8` both give arm64 variant v8 (the form docker-library
 * indexes and the image-spec variant table use); `linux/arm` means arm/v7;
 * amd64/v1 drops the variant.
 */
export function parsePlatform(text: string): Platform {
  const fail = (why: string) =>
    new OciasmError('PLATFORM_INVALID', `bad platform "${text}": ${why} (expected os/arch[/variant], e.g. linux/arm/v7)`);
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw fail('wrong number of parts');
  const [os, rawArch, rawVariant] = parts as [string, string, string | undefined];
  if (!KNOWN_OSES.has(os)) throw fail(`unknown os "${os}"`);
  const arch = ARCH_ALIASES[rawArch] ?? rawArch;
  if (!KNOWN_ARCHES.has(arch)) throw fail(`unknown architecture "${rawArch}"`);
  let variant = rawVariant;
  if (variant !== undefined && /^\d+$/.test(variant)) variant = `v${variant}`;
  if (arch === 'arm') {
    variant ??= rawArch === 'armel' ? 'v6' : 'v7';
    if (!['v5', 'v6', 'v7', 'v8'].includes(variant)) throw fail(`unknown arm variant "${variant}"`);
  } else if (arch === 'arm64') {
    variant ??= 'v8';
    if (!/^v8(\.\d)?$|^v9(\.\d)?$/.test(variant)) throw fail(`unknown arm64 variant "${variant}"`);
  } else if (arch === 'amd64') {
    if (variant === 'v1') variant = undefined;
    if (variant !== undefined && !['v2', 'v3', 'v4'].includes(variant)) throw fail(`unknown amd64 variant "${variant}"`);
  } else if (variant !== undefined) {
    throw fail(`architecture ${arch} takes no variant`);
  }
  return variant === undefined ? { os, architecture: arch } : { os, architecture: arch, variant };
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** The docker-library per-architecture name: amd64, arm32v7, arm64v8, i386, ... */
export function platformTag(p: Platform): string {
  switch (p.architecture) {
    case 'arm':
      return `arm32${p.variant ?? 'v7'}`;
    case 'arm64':
      return `arm64${p.variant ?? 'v8'}`;
    case '386':
      return 'i386';
    default:
      return p.variant ? `${p.architecture}${p.variant}` : p.architecture;
  }
}

/**
 * The platforms a base may provide for a build platform, best first. Without
 * fallback only the platform itself; with it, as containerd's matcher allows,
 * an arm/v7 build accepts an arm/v6 or arm/v5 base and arm/v6 accepts arm/v5.
 */
export function baseCandidates(p: Platform, variantFallback: boolean): Platform[] {
  if (!variantFallback || p.architecture !== 'arm') return [p];
  const order = ['v7', 'v6', 'v5'];
  const from = order.indexOf(p.variant ?? 'v7');
  return from < 0 ? [p] : order.slice(from).map((variant) => ({ ...p, variant }));
}

export function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

const NODE_ARCH: Record<string, Platform> = {
  x64: { os: 'linux', architecture: 'amd64' }, arm64: { os: 'linux', architecture: 'arm64' },
  arm: { os: 'linux', architecture: 'arm', variant: 'v7' }, ia32: { os: 'linux', architecture: '386' },
  ppc64: { os: 'linux', architecture: 'ppc64le' }, s390x: { os: 'linux', architecture: 's390x' },
  riscv64: { os: 'linux', architecture: 'riscv64' },
};

/**
 * The OCI platform of a Node `process.arch` (images are Linux images: on any
 * host OS the default is linux/ARCH, as Docker Desktop and skopeo pick it).
 * Pure: the caller passes the arch in.
 */
export function hostPlatform(nodeArch: string): Platform {
  return NODE_ARCH[nodeArch] ?? { os: 'linux', architecture: nodeArch };
}
