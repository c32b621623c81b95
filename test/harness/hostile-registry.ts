/**
 * A hostile registry for the tests: a small in-memory OCI Distribution server
 * on real sockets, listening on 127.0.0.1 and on 127.0.0.2 ("another host",
 * the same handler and store), with its own token route. It behaves like a
 * registry until told otherwise: endless or trickled manifests, endless error
 * and token bodies, blobs served past their size, a Bearer realm elsewhere,
 * upload Locations and blob redirects on the other host, uploads that accept
 * every PATCH and always report `Range: 0-0`.
 * It records every request (listener, method, path, Authorization) and how
 * many body bytes it managed to write, so tests can prove where secrets went
 * and that the client stopped reading.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export const HOSTILE_USER = 'labuser';
export const HOSTILE_PASSWORD = 'labpass-Secret-0815';
export const HOSTILE_TOKEN = 'tok-Secret-3f9a1c77e2';

export type Auth = 'none' | 'basic' | 'bearer';

export interface Behaviour {
  auth: Auth;
  user: string;
  password: string;
  /** The Bearer realm announced (default: this registry's own /token). */
  realm?: string;
  token: 'normal' | 'endless';
  manifest: 'normal' | 'endless' | 'trickle' | 'error-endless';
  /** Blob GET: normal, the real bytes followed by endless garbage (no Content-Length), a false Content-Length, or a redirect to the other host. */
  blob: 'normal' | 'past-size' | 'wrong-length' | 'redirect-other';
  /** Upload Location on this host or on the other host (127.0.0.2). */
  uploadLocation: 'same' | 'other';
  /** Accept every PATCH but report Range 0-0. */
  stallUploads: boolean;
}

export interface SeenRequest {
  listener: 'main' | 'other';
  method: string;
  path: string;
  authorization?: string;
}

export interface HostileRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  /** 127.0.0.2:PORT: the same registry on another host. */
  otherHost: string;
  behaviour: Behaviour;
  requests: SeenRequest[];
  /** Body bytes written for responses, by path (what the client let us send). */
  written: Map<string, number>;
  blobs: Map<string, Buffer>;
  tags: Map<string, { digest: string; mediaType: string }>;
  /** Loads every blob of an OCI layout and tags `repo:tag` with the descriptor of `ref`. */
  seedFromLayout(repo: string, tag: string, layout: string, ref: string): { digest: string; mediaType: string };
  reset(b?: Partial<Behaviour>): void;
  stop(): Promise<void>;
}

const DEFAULTS: Behaviour = {
  auth: 'none', user: HOSTILE_USER, password: HOSTILE_PASSWORD, token: 'normal', manifest: 'normal', blob: 'normal',
  uploadLocation: 'same', stallUploads: false,
};

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function readBody(req: http.IncomingMessage, max = 64 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => { n += c.length; if (n <= max) chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Writes `chunk` forever (with backpressure) until the client goes away; counts what was written. */
function endless(res: http.ServerResponse, chunk: Buffer, count: (n: number) => void): void {
  let stopped = false;
  res.on('close', () => { stopped = true; });
  const pump = () => {
    while (!stopped) {
      count(chunk.length);
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

export async function startHostileRegistry(initial: Partial<Behaviour> = {}): Promise<HostileRegistry> {
  const reg: HostileRegistry = {
    host: '', otherHost: '', behaviour: { ...DEFAULTS, ...initial }, requests: [], written: new Map(), blobs: new Map(), tags: new Map(),
    seedFromLayout(repo, tag, layout, ref) {
      const dir = path.join(layout, 'blobs', 'sha256');
      for (const f of readdirSync(dir)) {
        if (f.startsWith('.')) continue;
        reg.blobs.set(`sha256:${f}`, readFileSync(path.join(dir, f)));
        held.add(`${repo}@sha256:${f}`);
      }
      const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
      const d = index.manifests.find((m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === ref);
      if (!d) throw new Error(`no ref ${ref} in ${layout}`);
      const entry = { digest: d.digest, mediaType: d.mediaType };
      reg.tags.set(`${repo}:${tag}`, entry);
      return entry;
    },
    reset(b = {}) {
      reg.behaviour = { ...DEFAULTS, ...b };
      reg.requests.length = 0;
      reg.written.clear();
    },
    stop: async () => {},
  };
  const mediaTypes = new Map<string, string>();
  const uploads = new Map<string, Buffer>();
  const uploadRepo = new Map<string, string>();
  /** `repo@digest`: which repository holds which blob (the bytes are shared). */
  const held = new Set<string>();
  const count = (p: string) => (n: number) => reg.written.set(p, (reg.written.get(p) ?? 0) + n);

  const authorized = (req: http.IncomingMessage): boolean => {
    const b = reg.behaviour;
    const got = req.headers.authorization;
    if (b.auth === 'none') return true;
    if (b.auth === 'basic') return got === `Basic ${Buffer.from(`${b.user}:${b.password}`).toString('base64')}`;
    return got === `Bearer ${HOSTILE_TOKEN}`;
  };

  const handler = (listener: 'main' | 'other') => async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    reg.requests.push({ listener, method, path: p, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const b = reg.behaviour;

    // The token route, on either host.
    if (p === '/token') {
      const basic = `Basic ${Buffer.from(`${b.user}:${b.password}`).toString('base64')}`;
      if (req.headers.authorization !== basic) { res.writeHead(401).end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (b.token === 'endless') {
        res.write('{"token":"');
        endless(res, Buffer.alloc(64 << 10, 0x61), count(p));
        return;
      }
      res.end(JSON.stringify({ token: HOSTILE_TOKEN, expires_in: 300 }));
      return;
    }

    // Upload sessions and redirected blobs live outside /v2/ (pre-signed, as cloud registries do): no auth.
    const up = /^\/(?:v2\/.+\/blobs\/uploads|upload)\/([a-f0-9]{16})$/.exec(p);
    const presigned = up || (listener === 'other' && /\/blobs\/sha256:/.test(p));
    if (!presigned && !authorized(req)) {
      const challenge = b.auth === 'basic'
        ? 'Basic realm="hostile"'
        : `Bearer realm="${b.realm ?? `http://${reg.host}/token`}",service="hostile",scope="repository:${/^\/v2\/(.+?)\/(?:manifests|blobs)\//.exec(p)?.[1] ?? 'x'}:pull"`;
      await readBody(req);
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (p === '/v2/') { res.writeHead(200).end('{}'); return; }

    if (up) {
      const id = up[1]!;
      const have = uploads.get(id);
      if (!have) { await readBody(req); res.writeHead(404).end('{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}'); return; }
      const range = () => (b.stallUploads || have.length === 0 ? '0-0' : `0-${uploads.get(id)!.length - 1}`);
      if (method === 'GET') { res.writeHead(204, { range: range(), location: p, 'docker-upload-uuid': id }).end(); return; }
      const body = await readBody(req);
      const all = b.stallUploads ? have : Buffer.concat([have, body]);
      uploads.set(id, all);
      if (method === 'PATCH') { res.writeHead(202, { range: b.stallUploads ? '0-0' : `0-${all.length - 1}`, location: p }).end(); return; }
      if (method === 'PUT') {
        const want = url.searchParams.get('digest');
        if (!want || sha(all) !== want) { res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}'); return; }
        reg.blobs.set(want, all);
        held.add(`${uploadRepo.get(id)}@${want}`);
        uploads.delete(id);
        res.writeHead(201, { 'docker-content-digest': want, location: `/v2/x/blobs/${want}` }).end();
        return;
      }
    }

    const m = /^\/v2\/(.+?)\/(manifests|blobs)\/(.+)$/.exec(p);
    if (m && m[2] === 'blobs' && m[3] === 'uploads/' && method === 'POST') {
      await readBody(req);
      const id = randomBytes(8).toString('hex');
      uploads.set(id, Buffer.alloc(0));
      uploadRepo.set(id, m[1]!);
      const location = b.uploadLocation === 'other' ? `http://${reg.otherHost}/upload/${id}` : `/v2/${m[1]}/blobs/uploads/${id}`;
      res.writeHead(202, { location, range: '0-0', 'docker-upload-uuid': id }).end();
      return;
    }
    if (m && m[2] === 'manifests') {
      const [, repo, , ref] = m;
      if (method === 'PUT') {
        const body = await readBody(req, 4 << 20);
        const digest = sha(body);
        const mediaType = String(req.headers['content-type'] ?? 'application/vnd.oci.image.manifest.v1+json');
        reg.blobs.set(digest, body);
        held.add(`${repo}@${digest}`);
        mediaTypes.set(digest, mediaType);
        if (!ref!.startsWith('sha256:')) reg.tags.set(`${repo}:${ref}`, { digest, mediaType });
        res.writeHead(201, { 'docker-content-digest': digest, location: p }).end();
        return;
      }
      const entry = ref!.startsWith('sha256:') ? { digest: ref!, mediaType: mediaTypes.get(ref!) } : reg.tags.get(`${repo}:${ref}`);
      const bytes = entry && held.has(`${repo}@${entry.digest}`) ? reg.blobs.get(entry.digest) : undefined;
      if (!entry || !bytes) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}'); return; }
      const mediaType = entry.mediaType ?? JSON.parse(bytes.toString()).mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
      if (method === 'HEAD') { res.writeHead(200, { 'content-type': mediaType, 'docker-content-digest': entry.digest, 'content-length': bytes.length }).end(); return; }
      if (b.manifest === 'endless') {
        res.writeHead(200, { 'content-type': mediaType });
        res.write(bytes.subarray(0, bytes.length - 1));
        endless(res, Buffer.alloc(64 << 10, 0x20), count(p));
        return;
      }
      if (b.manifest === 'error-endless') {
        res.writeHead(400, { 'content-type': 'text/plain' });
        // An error body that echoes the client's Authorization header, then never ends.
        res.write(`bad request from ${req.headers.authorization ?? 'anonymous'} \x1b[31m`);
        endless(res, Buffer.alloc(64 << 10, 0x78), count(p));
        return;
      }
      if (b.manifest === 'trickle') {
        res.writeHead(200, { 'content-type': mediaType });
        let i = 0;
        const t = setInterval(() => {
          if (i >= bytes.length - 1) return; // never the last byte
          res.write(bytes.subarray(i, i + 1));
          count(p)(1);
          i++;
        }, 300);
        res.on('close', () => clearInterval(t));
        return;
      }
      res.writeHead(200, { 'content-type': mediaType, 'docker-content-digest': entry.digest, 'content-length': bytes.length }).end(bytes);
      return;
    }
    if (m && m[2] === 'blobs') {
      const bytes = held.has(`${m[1]}@${m[3]}`) ? reg.blobs.get(m[3]!) : undefined;
      if (!bytes) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}'); return; }
      if (method === 'HEAD') { res.writeHead(200, { 'content-length': bytes.length, 'docker-content-digest': m[3] }).end(); return; }
      if (b.blob === 'redirect-other' && listener === 'main') {
        res.writeHead(307, { location: `http://${reg.otherHost}${p}` }).end();
        return;
      }
      if (b.blob === 'past-size' && m[3] !== configOf(reg, m[3]!)) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(bytes);
        endless(res, Buffer.alloc(64 << 10, 0x00), count(p));
        return;
      }
      if (b.blob === 'wrong-length') {
        res.writeHead(200, { 'content-length': bytes.length + (1 << 30) });
        res.write(bytes);
        endless(res, Buffer.alloc(64 << 10, 0x00), count(p));
        return;
      }
      res.writeHead(200, { 'content-length': bytes.length, 'docker-content-digest': m[3] }).end(bytes);
      return;
    }
    await readBody(req);
    res.writeHead(404).end();
  };

  const main = http.createServer(handler('main'));
  const other = http.createServer(handler('other'));
  await new Promise<void>((r) => main.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => other.listen(0, '127.0.0.2', r));
  reg.host = `127.0.0.1:${(main.address() as AddressInfo).port}`;
  reg.otherHost = `127.0.0.2:${(other.address() as AddressInfo).port}`;
  reg.stop = async () => {
    for (const s of [main, other]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  };
  return reg;
}

/** Configs are served normally in the past-size case, so the layer is what overflows. */
function configOf(reg: HostileRegistry, digest: string): string | undefined {
  for (const bytes of reg.blobs.values()) {
    try {
      const doc = JSON.parse(bytes.toString('utf8'));
      if (doc?.config?.digest === digest) return digest;
    } catch {
      // not JSON
    }
  }
  return undefined;
}
