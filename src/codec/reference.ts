/**
 * Image references spelled as Docker spells them (distribution/reference's
 * normalisation): `busybox` is `docker.io/library/busybox:latest`; the first
 * component is a registry host only when it holds a `.` or a `:` or is
 * `localhost`; `index.docker.io` is `docker.io`; a reference may carry a tag,
 * a digest, or both. Pure: no I/O.
 */
import { OciasmError } from '../errors.js';

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

export interface Reference {
  /** Registry host as written, normalised (`docker.io`, `localhost:5000`, `[::1]:5000`). */
  registry: string;
  /** Repository path, e.g. `library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$/;

function bad(text: string, why: string): OciasmError {
  return new OciasmError('REFERENCE_INVALID', `bad image reference "${text}": ${why}`);
}

/** Parses a reference; without tag or digest the tag is `latest` unless `defaultTag` is false. */
export function parseReference(text: string, opts: { defaultTag?: boolean } = {}): Reference {
  let rest = text.trim();
  if (rest === '') throw bad(text, 'empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(text, `"${digest}" is not a sha256 digest (sha256: and 64 lowercase hex digits)`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(text, `"${tag}" is not a valid tag`);
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const first = rest.indexOf('/');
  if (first >= 0) {
    const head = rest.slice(0, first);
    if (head.includes('.') || head.includes(':') || head === 'localhost' || head.startsWith('[')) {
      if (!HOST.test(head)) throw bad(text, `"${head}" is not a valid registry host`);
      registry = head === 'index.docker.io' ? DOCKER_HUB : head;
      repository = rest.slice(first + 1);
    }
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (repository === '') throw bad(text, 'no repository name');
  for (const comp of repository.split('/')) {
    if (!COMPONENT.test(comp)) {
      const hint = comp !== comp.toLowerCase() ? ' (repository names must be lowercase)' : '';
      throw bad(text, `"${comp}" is not a valid repository component${hint}`);
    }
  }
  if (registry.length + 1 + repository.length > 255) throw bad(text, 'name longer than 255 characters');
  if (tag === undefined && digest === undefined && opts.defaultTag !== false) tag = 'latest';
  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `registry/repository` — the name without tag or digest. */
export function referenceName(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The fully qualified form: `docker.io/library/busybox:latest@sha256:…`. */
export function formatReference(ref: Reference): string {
  return `${referenceName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** What to ask the registry for: the digest when pinned, else the tag. */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** The host that serves the registry API: Docker Hub is served at registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** The host name without port or brackets. */
export function hostName(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/** localhost, 127.0.0.0/8 and ::1: allowed over plain HTTP by default, as Docker allows them. */
export function isLoopback(registry: string): boolean {
  const host = hostName(registry).toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
