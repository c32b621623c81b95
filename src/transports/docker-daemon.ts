/**
 * `docker-daemon:NAME[:TAG]`: a running Docker Engine (or podman's
 * Docker-compatible service) over its API socket. Rules:
 * - The socket is DOCKER_HOST from the context's env (`unix://PATH` only;
 *   tcp:// and ssh:// are refused by name), else /var/run/docker.sock.
 * - Destination: one platform (capabilities.multiPlatform false). Blobs are
 *   staged as a docker save archive in a temp folder (the context's tmpDir,
 *   else the env's TMPDIR, else /tmp); commit() streams the archive to
 *   `POST /images/load`, reads the daemon's JSON-lines answer and fails on
 *   its first error. Nothing is sent before commit(); close() removes the
 *   temp folder. Read-back: `GET /images/NAME/json` must show the config
 *   digest as the image ID.
 * - Source: `GET /images/NAME/get` (a docker save archive) is spooled to a
 *   temp file and read as docker-archive:; NAME may also be an image ID.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, type Dispatcher, request } from 'undici';
import { parsePlatform } from '../codec/platform.js';
import { isOciasmError, OciasmError } from '../errors.js';
import type { Digest, Platform } from '../oci/types.js';
import { ArchiveWriterDestination, DockerArchiveSource, DockerArchiveWriter, repoTag } from './docker-archive.js';
import type { DestinationOptions, Transport, TransportContext } from './index.js';
import { archiveStream } from './tar-write.js';
import type { ImageSource, Opts } from './types.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** The longest daemon error answer kept for a message. */
const MAX_ERROR_BYTES = 64 << 10;

/** The daemon's unix socket path, from DOCKER_HOST or the default. */
export function daemonSocket(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return DEFAULT_DOCKER_SOCKET;
  if (host.startsWith('unix://')) {
    const p = host.slice('unix://'.length);
    if (!p.startsWith('/')) throw new OciasmError('REFERENCE_INVALID', `DOCKER_HOST="${host}": a unix:// socket path must be absolute`);
    return p;
  }
  throw new OciasmError('REFERENCE_INVALID', `DOCKER_HOST="${host}": only unix:// sockets are supported for docker-daemon: (not tcp://, ssh:// or npipe://)`);
}

function tempBase(ctx: TransportContext): string {
  return ctx.tmpDir ?? ctx.env.TMPDIR ?? '/tmp';
}

/** One Docker Engine API connection (a unix socket). */
export class DaemonClient {
  private readonly agent: Agent;
  constructor(readonly socket: string) {
    this.agent = new Agent({ connect: { socketPath: socket } });
  }

  async request(method: 'GET' | 'POST', apiPath: string, opts: Opts & { body?: Readable; contentType?: string } = {}): Promise<Dispatcher.ResponseData> {
    try {
      return await request(`http://docker${apiPath}`, {
        method,
        dispatcher: this.agent,
        headers: { ...(opts.contentType ? { 'content-type': opts.contentType } : {}) },
        ...(opts.body ? { body: opts.body } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      if (isOciasmError(e) || (e as Error).name === 'AbortError') throw e;
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new OciasmError('DAEMON_UNREACHABLE', `cannot reach the Docker daemon at unix://${this.socket} (${code}); is it running? Set DOCKER_HOST=unix://PATH for another socket`, { cause: e });
    }
  }

  /** The answer's text (capped), for an error message. */
  static async text(res: Dispatcher.ResponseData): Promise<string> {
    let out = '';
    for await (const c of res.body) {
      if (out.length < MAX_ERROR_BYTES) out += Buffer.from(c as Uint8Array).toString('utf8');
    }
    try {
      const doc = JSON.parse(out) as { message?: string };
      if (typeof doc.message === 'string') return doc.message;
    } catch {
      // not JSON: keep the text
    }
    return out.slice(0, MAX_ERROR_BYTES).trim();
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Reads `POST /images/load`'s JSON-lines answer: the loaded names, or the daemon's first error. */
async function readLoadAnswer(res: Dispatcher.ResponseData, label: string): Promise<string[]> {
  let buf = '';
  const loaded: string[] = [];
  const line = (text: string) => {
    if (text.trim() === '') return;
    let msg: { stream?: string; error?: string; errorDetail?: { message?: string } };
    try {
      msg = JSON.parse(text);
    } catch {
      throw new OciasmError('DAEMON_ERROR', `${label}: the daemon answered the load with "${text.slice(0, 200)}"`);
    }
    if (msg.error || msg.errorDetail) throw new OciasmError('DAEMON_ERROR', `${label}: the daemon refused the image: ${msg.errorDetail?.message ?? msg.error}`);
    const m = /Loaded image(?: ID)?: (\S+)/.exec(msg.stream ?? '');
    if (m) loaded.push(m[1]!);
  };
  for await (const c of res.body) {
    buf += Buffer.from(c as Uint8Array).toString('utf8');
    if (buf.length > MAX_ERROR_BYTES * 16) throw new OciasmError('DAEMON_ERROR', `${label}: the daemon's load answer is too long`);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      line(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  line(buf);
  return loaded;
}

export class DaemonDestination extends ArchiveWriterDestination {
  readonly name: string;
  private committed = false;
  private closed = false;

  private constructor(private readonly client: DaemonClient, protected readonly writer: DockerArchiveWriter, readonly tag: string, readonly platform?: Platform) {
    super();
    this.name = `docker-daemon:${tag}`;
  }

  static async open(rest: string, ctx: TransportContext, opts: DestinationOptions = {}): Promise<DaemonDestination> {
    const platform = opts.platform !== undefined ? parsePlatform(opts.platform) : undefined;
    if (rest === '') throw new OciasmError('REFERENCE_INVALID', 'docker-daemon: needs an image name (docker-daemon:NAME[:TAG])');
    const tag = repoTag(rest, `docker-daemon:${rest}`);
    const client = new DaemonClient(daemonSocket(ctx.env));
    try {
      const ping = await client.request('GET', '/_ping');
      if (ping.statusCode !== 200) throw new OciasmError('DAEMON_ERROR', `docker-daemon:${rest}: unix://${client.socket} answered /_ping with HTTP ${ping.statusCode}: ${await DaemonClient.text(ping)}`);
      await ping.body.dump();
    } catch (e) {
      await client.close();
      throw e;
    }
    const temp = await DockerArchiveWriter.tempFolder(path.join(tempBase(ctx), 'docker-daemon'), { ...ctx, tmpDir: tempBase(ctx) }, 'docker-daemon');
    return new DaemonDestination(client, new DockerArchiveWriter(`docker-daemon:${tag}`, temp), tag, platform);
  }

  async commit(opts: Opts = {}): Promise<void> {
    const res = await this.client.request('POST', '/images/load?quiet=1', {
      ...opts, contentType: 'application/x-tar', body: Readable.from(archiveStream(this.writer.members(), opts)),
    });
    if (res.statusCode !== 200) {
      throw new OciasmError('DAEMON_ERROR', `${this.name}: the daemon at unix://${this.client.socket} refused the load (HTTP ${res.statusCode}): ${await DaemonClient.text(res)}`);
    }
    await readLoadAnswer(res, this.name);
    this.committed = true;
    await this.writer.close();
  }

  /** Read-back: a tag resolves to the manifest copied when the daemon's image ID for it is that manifest's config digest. */
  async resolve(ref: string, opts: Opts = {}): Promise<Digest | undefined> {
    if (!this.committed) return undefined;
    const img = /^sha256:/.test(ref) ? this.writer.images.find((i) => i.manifest === ref) : this.writer.images.find((i) => i.tags.includes(repoTag(ref, this.name)));
    if (!img) return undefined;
    const name = /^sha256:/.test(ref) ? img.config : repoTag(ref, this.name);
    const res = await this.client.request('GET', `/images/${encodeURIComponent(name)}/json`, opts);
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    const doc = (await res.body.json()) as { Id?: string };
    return doc.Id === img.config ? img.manifest : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    await this.client.close();
  }
}

/** An image the daemon has, read through `docker save`'s format. */
async function openDaemonSource(rest: string, ctx: TransportContext, opts: Opts = {}): Promise<ImageSource> {
  if (rest === '') throw new OciasmError('REFERENCE_INVALID', 'docker-daemon: needs an image name or ID (docker-daemon:NAME[:TAG])');
  const name = /^sha256:[a-f0-9]{64}$/.test(rest) ? rest : repoTag(rest, `docker-daemon:${rest}`);
  const client = new DaemonClient(daemonSocket(ctx.env));
  const file = path.join(tempBase(ctx), `.ociasm-daemon-${randomBytes(6).toString('hex')}.tar`);
  try {
    const res = await client.request('GET', `/images/${encodeURIComponent(name)}/get`, opts);
    if (res.statusCode !== 200) {
      const why = await DaemonClient.text(res);
      throw new OciasmError(res.statusCode === 404 ? 'REF_NOT_FOUND' : 'DAEMON_ERROR', `docker-daemon:${rest}: the daemon at unix://${client.socket} answered HTTP ${res.statusCode}: ${why}`);
    }
    await pipeline(res.body, createWriteStream(file, { flags: 'wx', mode: 0o600 }), ...(opts.signal ? [{ signal: opts.signal }] : []));
    const src = await DockerArchiveSource.open(file, undefined, ctx, { ...opts, name: `docker-daemon:${rest}`, baseName: name });
    const close = src.close.bind(src);
    src.close = async () => {
      await close();
      await rm(file, { force: true });
    };
    return src;
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  } finally {
    await client.close();
  }
}

export const transport: Transport = {
  name: 'docker-daemon',
  syntax: 'docker-daemon:NAME[:TAG]',
  openSource: (rest, ctx, opts) => openDaemonSource(rest, ctx, opts),
  async openDestination(rest, ctx, opts?: DestinationOptions) {
    return DaemonDestination.open(rest, ctx, opts);
  },
};
