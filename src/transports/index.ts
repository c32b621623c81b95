/**
 * The transports, by the names skopeo gives them, and the one place that
 * turns `TRANSPORT:REST` into a source or a destination. Rules:
 * - Adding a transport is one file exporting `transport` and one line in
 *   TRANSPORTS below; each loads only when named (the registry stack, undici
 *   and TLS, is never loaded for a build with local images only).
 * - `docker://REF` is a registry; a value with no known transport prefix is
 *   read with the caller's default (a registry for bases and copy, a layout
 *   for `build -o`), so `busybox:1.36` and `localhost:5000/x` keep working.
 */
import { OciasmError } from '../errors.js';
import type { Registries } from '../registry/registries.js';
import type { ImageDestination, ImageSource, Opts } from './types.js';

export interface TransportContext {
  /** Relative paths in references are resolved against this folder. */
  cwd: string;
  /** The environment given to the library (DOCKER_HOST, TMPDIR, ...); never process.env. */
  env: NodeJS.ProcessEnv;
  /** The run's registry clients (credentials, TLS, retries), made by the caller on first use and closed by it. */
  registries?: () => Promise<Registries>;
  /** Where transports may keep temporary files (archives being written or unpacked). */
  tmpDir?: string;
}

export interface DestinationOptions extends Opts {
  /** The platform a single-platform destination is for; copy picks it from an index. */
  platform?: string;
}

export interface Transport {
  readonly name: string;
  /** How a reference is spelled, for help and errors: `oci:DIR[:REF]`. */
  readonly syntax: string;
  openSource?(rest: string, ctx: TransportContext, opts?: Opts): Promise<ImageSource>;
  openDestination?(rest: string, ctx: TransportContext, opts?: DestinationOptions): Promise<ImageDestination>;
}

const TRANSPORTS: Record<string, () => Promise<Transport>> = {
  oci: async () => (await import('./oci.js')).transport,
  docker: async () => (await import('./docker.js')).transport,
  'oci-archive': async () => (await import('./oci-archive.js')).transport,
  'docker-archive': async () => (await import('./docker-archive.js')).transport,
  'docker-daemon': async () => (await import('./docker-daemon.js')).transport,
  rootfs: async () => (await import('./rootfs.js')).transport,
};

/** skopeo's other transports: named so a user gets "not supported" rather than a registry lookup. */
const FOREIGN = ['containers-storage', 'dir', 'ostree', 'sif', 'tarball'];

export function transportNames(): string[] {
  return Object.keys(TRANSPORTS);
}

export interface ImageName {
  transport: string;
  rest: string;
}

/**
 * Splits `TRANSPORT:REST`. `docker://REF` keeps only REF. A value whose prefix
 * is no transport is `fallback:VALUE` (`docker` or `oci`).
 */
export function splitImageName(text: string, fallback: 'docker' | 'oci'): ImageName {
  const colon = text.indexOf(':');
  const prefix = colon > 0 ? text.slice(0, colon) : '';
  if (prefix === 'docker') {
    if (!text.startsWith('docker://')) throw new OciasmError('REFERENCE_INVALID', `"${text}": a docker: reference starts with docker:// (docker://HOST/REPO:TAG)`);
    return { transport: 'docker', rest: text.slice('docker://'.length) };
  }
  if (prefix in TRANSPORTS) return { transport: prefix, rest: text.slice(colon + 1) };
  if (FOREIGN.includes(prefix)) {
    throw new OciasmError('REFERENCE_INVALID', `"${text}": the ${prefix}: transport is not supported (supported: ${supported()})`);
  }
  return { transport: fallback, rest: text };
}

function supported(): string {
  return [...Object.keys(TRANSPORTS).map((n) => `${n}:`), 'docker://'].filter((v, i, a) => a.indexOf(v) === i).join(', ');
}

async function load(name: string): Promise<Transport> {
  const loader = TRANSPORTS[name];
  if (!loader) throw new OciasmError('REFERENCE_INVALID', `transport "${name}" is not supported (supported: ${supported()})`);
  return loader();
}

export async function openSource(text: string, ctx: TransportContext, opts: Opts & { fallback?: 'docker' | 'oci' } = {}): Promise<ImageSource> {
  const { transport, rest } = splitImageName(text, opts.fallback ?? 'docker');
  const t = await load(transport);
  if (!t.openSource) throw new OciasmError('REFERENCE_INVALID', `"${text}": ${t.name}: can only be written to, not read from`);
  return t.openSource(rest, ctx, opts);
}

export async function openDestination(
  text: string, ctx: TransportContext, opts: DestinationOptions & { fallback?: 'docker' | 'oci' } = {},
): Promise<ImageDestination> {
  const { transport, rest } = splitImageName(text, opts.fallback ?? 'docker');
  const t = await load(transport);
  if (!t.openDestination) throw new OciasmError('REFERENCE_INVALID', `"${text}": ${t.name}: can only be read from (a base), not written to`);
  return t.openDestination(rest, ctx, opts);
}
