/**
 * Credentials as Docker and Podman users already have them, looked up per
 * registry in this order:
 * 1. `--creds [HOST[:PORT]=]USER:PASS` (repeatable: one HOST= per registry,
 *    at most one without), then `OCIASM_USERNAME`/`OCIASM_PASSWORD`
 *    (without HOST=, for the registries pushed to only);
 * 2. `$REGISTRY_AUTH_FILE`, then Podman's `$XDG_RUNTIME_DIR/containers/auth.json`
 *    and `$XDG_CONFIG_HOME/containers/auth.json`;
 * 3. `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `credHelpers`,
 *    then `auths` (`auth`, `identitytoken`), then `credsStore`.
 * Docker Hub is found under `https://index.docker.io/v1/` as well as its host names.
 * The `source` names where credentials came from, never what they are.
 * Credential helpers are run with execa, imported only when one is named.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DOCKER_HUB } from '../codec/reference.js';
import { OciasmError, parseJsonText } from '../errors.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`). */
  identityToken?: string;
  /** Where these came from, for messages: "--creds", "/root/.docker/config.json (credHelpers: pass)", … */
  source: string;
}

export interface CredentialOptions {
  /** `--creds` as given, once or repeated: `USER:PASS` or `HOST[:PORT]=USER:PASS`. */
  creds?: string | string[];
  /** Registries that plain `--creds` and OCIASM_USERNAME apply to (the push destinations). */
  pushRegistries?: string[];
  env: NodeJS.ProcessEnv;
}

const HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1'];

/** Docker's convertToHostname: drops a scheme and a path. */
function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//, '').split('/')[0]!.toLowerCase();
}

function keysFor(registry: string): (key: string) => boolean {
  const r = registry.toLowerCase();
  if (r === DOCKER_HUB) return (k) => HUB_KEYS.includes(k) || HUB_KEYS.includes(keyHost(k));
  return (k) => keyHost(k) === r;
}

function splitUserPass(text: string, where: string, source = where): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new OciasmError('CREDENTIALS_INVALID', `${where}: expected USER:PASSWORD`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1), source };
}

async function readJson(file: string): Promise<Record<string, any> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  // The message never quotes the text: it holds base64 user:password.
  return parseJsonText(text, file, 'CREDENTIALS_INVALID') as Record<string, any>;
}

function fromAuthEntry(entry: Record<string, unknown> | undefined, source: string): Credentials | undefined {
  if (!entry) return undefined;
  const out: Credentials = { source };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    Object.assign(out, splitUserPass(decoded, `${source} (auth)`), { source });
  } else if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    Object.assign(out, { username: entry.username, password: entry.password });
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') out.identityToken = entry.identitytoken;
  return out.username || out.identityToken ? out : undefined;
}

function authsLookup(doc: Record<string, any> | undefined, registry: string, source: string): Credentials | undefined {
  const auths = doc?.auths;
  if (!auths || typeof auths !== 'object') return undefined;
  const key = Object.keys(auths).find(keysFor(registry));
  return key === undefined ? undefined : fromAuthEntry(auths[key], `${source} (auths "${key}")`);
}

async function runHelper(helper: string, registry: string, source: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const server = registry === DOCKER_HUB ? HUB_KEYS[0]! : registry;
  const bin = `docker-credential-${helper}`;
  // execa (about 100 modules) is loaded only when a credential helper is actually run: a push without one never pays for it.
  const { execa } = await import('execa');
  const r = await execa(bin, ['get'], { input: server, reject: false, timeout: 30_000, env, extendEnv: false });
  if (r.exitCode !== 0) {
    if (/credentials not found/i.test(`${r.stdout}`)) return undefined;
    const why = (r as { code?: string }).code === 'ENOENT' ? 'not found on PATH' : `exited ${r.exitCode}`;
    throw new OciasmError('CREDENTIALS_INVALID', `${source}: ${bin} get for ${registry} ${why}`);
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new OciasmError('CREDENTIALS_INVALID', `${source}: ${bin} get for ${registry} did not print JSON`);
  }
  if (!parsed.Secret) return undefined;
  return parsed.Username === '<token>'
    ? { identityToken: parsed.Secret, source }
    : { username: parsed.Username ?? '', password: parsed.Secret, source };
}

/** A `HOST[:PORT]=` prefix: a host name, an IPv4 address or a bracketed IPv6 address, an optional port. */
const HOST_PREFIX = /^((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?)=/;

export interface ParsedCreds {
  /** `--creds USER:PASS`: for the registries pushed to. */
  plain?: Credentials;
  /** `--creds HOST[:PORT]=USER:PASS`, by lowercased host[:port]. */
  byHost: Map<string, Credentials>;
}

/**
 * `--creds` values. Text before the first `=` is a registry when it is a
 * host[:port] (so `127.0.0.1:5000=u:p` names a registry and `u:pa=ss` is a
 * user and a password); never quotes the value in an error.
 */
export function parseCreds(values: string | string[] | undefined): ParsedCreds {
  const out: ParsedCreds = { byHost: new Map() };
  for (const [i, value] of (values === undefined ? [] : Array.isArray(values) ? values : [values]).entries()) {
    const where = `--creds (${ordinal(i + 1)})`;
    const m = HOST_PREFIX.exec(value);
    if (m) {
      const host = m[1]!.toLowerCase();
      if (out.byHost.has(host)) throw new OciasmError('CREDENTIALS_INVALID', `--creds is given twice for ${host}`);
      out.byHost.set(host, splitUserPass(value.slice(m[0].length), where, '--creds'));
    } else {
      if (out.plain) throw new OciasmError('CREDENTIALS_INVALID', `--creds is given twice without HOST=; name the registry: --creds HOST[:PORT]=USER:PASS`);
      out.plain = splitUserPass(value, where, '--creds');
    }
  }
  return out;
}

function ordinal(n: number): string {
  return n === 1 ? 'first' : n === 2 ? 'second' : n === 3 ? 'third' : `#${n}`;
}

export class CredentialStore {
  private readonly cache = new Map<string, Promise<Credentials | undefined>>();
  private readonly creds: ParsedCreds;
  constructor(private readonly opts: CredentialOptions) {
    this.creds = parseCreds(opts.creds);
  }

  /** Credentials for a registry, or undefined for anonymous access. */
  get(registry: string): Promise<Credentials | undefined> {
    let p = this.cache.get(registry);
    if (!p) {
      p = this.lookup(registry);
      this.cache.set(registry, p);
    }
    return p;
  }

  private async lookup(registry: string): Promise<Credentials | undefined> {
    const { env } = this.opts;
    const isPush = (this.opts.pushRegistries ?? []).includes(registry);
    const forHost = this.creds.byHost.get(registry.toLowerCase());
    if (forHost) return forHost;
    if (isPush && this.creds.plain) return this.creds.plain;
    if (isPush && env.OCIASM_USERNAME && env.OCIASM_PASSWORD !== undefined) {
      return { username: env.OCIASM_USERNAME, password: env.OCIASM_PASSWORD, source: 'OCIASM_USERNAME/OCIASM_PASSWORD' };
    }
    const home = env.HOME ?? os.homedir();
    const containerFiles = [
      env.REGISTRY_AUTH_FILE,
      env.XDG_RUNTIME_DIR && path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'),
      path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'containers', 'auth.json'),
    ].filter((f): f is string => !!f);
    for (const file of containerFiles) {
      const found = authsLookup(await readJson(file), registry, file);
      if (found) return found;
    }
    const dockerFile = path.join(env.DOCKER_CONFIG || path.join(home, '.docker'), 'config.json');
    const doc = await readJson(dockerFile);
    if (!doc) return undefined;
    const helpers = (doc.credHelpers ?? {}) as Record<string, string>;
    const helperKey = Object.keys(helpers).find(keysFor(registry));
    if (helperKey !== undefined) return runHelper(helpers[helperKey]!, registry, `${dockerFile} (credHelpers: ${helpers[helperKey]})`, env);
    const found = authsLookup(doc, registry, dockerFile);
    if (found) return found;
    if (typeof doc.credsStore === 'string' && doc.credsStore !== '') {
      return runHelper(doc.credsStore, registry, `${dockerFile} (credsStore: ${doc.credsStore})`, env);
    }
    return undefined;
  }
}
