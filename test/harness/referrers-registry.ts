/**
 * A small registry with the OCI 1.1 referrers API, on a real loopback
 * socket, for the tests of the path Debian's docker-registry (2.8) cannot
 * exercise. In memory, no auth. It implements what a push needs (blob HEAD,
 * POST/PATCH/PUT uploads, manifest GET/HEAD/PUT by tag and digest) and, per
 * distribution-spec 1.1: a PUT of a manifest with a `subject` answers
 * `OCI-Subject: <subject digest>`, and `GET /v2/<name>/referrers/<digest>`
 * answers an image index of the referrers (artifactType and annotations
 * copied from each manifest; `?artifactType=` filters and is echoed in
 * `OCI-Filters-Applied`). Every request is logged.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReferrersRegistry {
  host: string;
  requests: { method: string; path: string }[];
  /** Tags by repository. */
  tags(repo: string): string[];
  stop(): Promise<void>;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function startReferrersRegistry(): Promise<ReferrersRegistry> {
  const blobs = new Map<string, Buffer>();
  const uploads = new Map<string, Buffer[]>();
  const manifests = new Map<string, { bytes: Buffer; type: string }>();
  const tags = new Map<string, Map<string, string>>();
  const referrers = new Map<string, Map<string, string[]>>();
  const requests: { method: string; path: string }[] = [];

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url!, 'http://x');
    requests.push({ method: req.method!, path: url.pathname + url.search });
    const send = (status: number, headers: Record<string, string> = {}, data?: Buffer) => {
      res.writeHead(status, { 'docker-distribution-api-version': 'registry/2.0', ...headers, 'content-length': String(data?.length ?? 0) });
      res.end(req.method === 'HEAD' ? undefined : data);
    };
    const err = (status: number, code: string) => send(status, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ errors: [{ code, message: code }] })));
    if (url.pathname === '/v2/' || url.pathname === '/v2') return send(200);
    const m = /^\/v2\/(.+)\/(blobs\/uploads|blobs|manifests|referrers|tags)\/(.*)$/.exec(url.pathname);
    if (!m) return err(404, 'NOT_FOUND');
    const [, repo, kind, rest] = m as unknown as [string, string, string, string];
    if (kind === 'blobs') {
      const b = blobs.get(rest);
      if (!b) return err(404, 'BLOB_UNKNOWN');
      return send(200, { 'content-type': 'application/octet-stream', 'docker-content-digest': rest }, b);
    }
    if (kind === 'blobs/uploads') {
      if (req.method === 'POST') {
        const digest = url.searchParams.get('digest');
        if (digest && body.length > 0) {
          if (sha(body) !== digest) return err(400, 'DIGEST_INVALID');
          blobs.set(digest, body);
          return send(201, { location: `/v2/${repo}/blobs/${digest}` });
        }
        const id = randomUUID();
        uploads.set(id, []);
        return send(202, { location: `/v2/${repo}/blobs/uploads/${id}`, range: '0-0' });
      }
      const parts = uploads.get(rest);
      if (!parts) return err(404, 'BLOB_UPLOAD_UNKNOWN');
      parts.push(body);
      const size = parts.reduce((n, p) => n + p.length, 0);
      if (req.method === 'PATCH') return send(202, { location: `/v2/${repo}/blobs/uploads/${rest}`, range: `0-${Math.max(0, size - 1)}` });
      if (req.method === 'PUT') {
        const all = Buffer.concat(parts);
        const digest = url.searchParams.get('digest');
        if (sha(all) !== digest) return err(400, 'DIGEST_INVALID');
        blobs.set(digest, all);
        uploads.delete(rest);
        return send(201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest });
      }
      return err(405, 'UNSUPPORTED');
    }
    if (kind === 'manifests') {
      const repoTags = tags.get(repo) ?? new Map<string, string>();
      tags.set(repo, repoTags);
      if (req.method === 'PUT') {
        const digest = sha(body);
        const type = String(req.headers['content-type'] ?? 'application/vnd.oci.image.manifest.v1+json');
        if (rest.startsWith('sha256:') && rest !== digest) return err(400, 'DIGEST_INVALID');
        manifests.set(digest, { bytes: body, type });
        if (!rest.startsWith('sha256:')) repoTags.set(rest, digest);
        const doc = JSON.parse(body.toString('utf8')) as { subject?: { digest: string } };
        const headers: Record<string, string> = { location: `/v2/${repo}/manifests/${digest}`, 'docker-content-digest': digest };
        if (doc.subject) {
          const byRepo = referrers.get(repo) ?? new Map<string, string[]>();
          referrers.set(repo, byRepo);
          const list = byRepo.get(doc.subject.digest) ?? [];
          if (!list.includes(digest)) list.push(digest);
          byRepo.set(doc.subject.digest, list);
          headers['oci-subject'] = doc.subject.digest;
        }
        return send(201, headers);
      }
      const digest = rest.startsWith('sha256:') ? rest : repoTags.get(rest);
      const hit = digest ? manifests.get(digest) : undefined;
      if (!hit) return err(404, 'MANIFEST_UNKNOWN');
      return send(200, { 'content-type': hit.type, 'docker-content-digest': digest! }, hit.bytes);
    }
    if (kind === 'referrers') {
      const filter = url.searchParams.get('artifactType');
      const list = (referrers.get(repo)?.get(rest) ?? []).map((d) => {
        const hit = manifests.get(d)!;
        const doc = JSON.parse(hit.bytes.toString('utf8')) as { artifactType?: string; config?: { mediaType: string }; annotations?: Record<string, string> };
        return {
          mediaType: hit.type, digest: d, size: hit.bytes.length, artifactType: doc.artifactType ?? doc.config?.mediaType,
          ...(doc.annotations ? { annotations: doc.annotations } : {}),
        };
      }).filter((d) => !filter || d.artifactType === filter);
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: list }));
      return send(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', ...(filter ? { 'oci-filters-applied': 'artifactType' } : {}) }, index);
    }
    if (kind === 'tags' && rest === 'list') {
      return send(200, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ name: repo, tags: [...(tags.get(repo)?.keys() ?? [])] })));
    }
    return err(404, 'NOT_FOUND');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    tags: (repo) => [...(tags.get(repo)?.keys() ?? [])].sort(),
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
