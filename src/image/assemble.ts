/**
 * Composes the image config, the per-platform manifest and the image index,
 * `mutate`-style: the base config's runtime fields are inherited, then the
 * build file's fields override them.
 */
import type { BaseImage } from './base-image.js';
import type { ImageSpec } from '../buildfile/types.js';
import {
  Annotation, type Descriptor, type Digest, type ImageConfig, type ImageIndex, type ImageManifest,
  MediaType, type Platform, type RuntimeConfig,
} from '../oci/types.js';

/** The build file fields that become the runtime config, after templating. */
export type RuntimeSpec = Pick<ImageSpec, 'entrypoint' | 'cmd' | 'env' | 'user' | 'workdir' | 'volumes' | 'ports' | 'labels' | 'stopSignal'>;

export function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function mergeEnv(base: string[] | undefined, env: Record<string, string>): string[] | undefined {
  const out = new Map<string, string>();
  for (const line of base ?? []) {
    const eq = line.indexOf('=');
    out.set(eq < 0 ? line : line.slice(0, eq), eq < 0 ? '' : line.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(env)) out.set(k, v);
  return out.size === 0 ? undefined : [...out].map(([k, v]) => `${k}=${v}`);
}

function set(names: string[], base?: Record<string, Record<string, never>>): Record<string, Record<string, never>> | undefined {
  const out: Record<string, Record<string, never>> = { ...(base ?? {}) };
  for (const n of names) out[n] = {};
  return Object.keys(out).length === 0 ? undefined : out;
}

export function runtimeConfig(spec: RuntimeSpec, base?: RuntimeConfig): RuntimeConfig {
  const b = base ?? {};
  const entrypoint = spec.entrypoint ?? b.Entrypoint;
  // As in a Dockerfile, a new entrypoint drops the base's cmd unless cmd is given too.
  const cmd = spec.cmd ?? (spec.entrypoint ? undefined : b.Cmd);
  const labels = { ...(b.Labels ?? {}), ...spec.labels };
  const cfg: RuntimeConfig = {};
  const user = spec.user ?? b.User;
  if (user) cfg.User = user;
  const ports = set(spec.ports.map((p) => (p.includes('/') ? p : `${p}/tcp`)), b.ExposedPorts);
  if (ports) cfg.ExposedPorts = ports;
  const env = mergeEnv(b.Env, spec.env);
  if (env) cfg.Env = env;
  if (entrypoint) cfg.Entrypoint = entrypoint;
  if (cmd) cfg.Cmd = cmd;
  const volumes = set(spec.volumes, b.Volumes);
  if (volumes) cfg.Volumes = volumes;
  const workdir = spec.workdir ?? b.WorkingDir;
  if (workdir) cfg.WorkingDir = workdir;
  if (Object.keys(labels).length > 0) cfg.Labels = labels;
  const stop = spec.stopSignal ?? b.StopSignal;
  if (stop) cfg.StopSignal = stop;
  return cfg;
}

export function imageConfig(p: Platform, runtime: RuntimeConfig, diffId: Digest, epoch: number, base?: BaseImage): ImageConfig {
  const created = isoTime(epoch);
  const comment = base ? `squashed onto ${base.name}@${base.manifestDigest}` : 'from scratch';
  return {
    created,
    architecture: p.architecture,
    os: p.os,
    ...(p.variant ? { variant: p.variant } : {}),
    config: runtime,
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: 'ociasm build', comment }],
  };
}

export function imageManifest(
  config: Descriptor, layer: Descriptor, epoch: number, base: BaseImage | undefined, annotations: Record<string, string>,
): ImageManifest {
  const ann: Record<string, string> = { [Annotation.Created]: isoTime(epoch) };
  if (base) {
    ann[Annotation.BaseName] = base.name;
    ann[Annotation.BaseDigest] = base.manifestDigest;
  }
  return {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config,
    layers: [layer],
    annotations: { ...ann, ...annotations },
  };
}

export function imageIndex(manifests: Descriptor[], epoch: number, annotations: Record<string, string>): ImageIndex {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ImageIndex,
    manifests,
    annotations: { [Annotation.Created]: isoTime(epoch), ...annotations },
  };
}

/** Canonical JSON bytes for a blob: insertion-ordered keys, no whitespace. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
