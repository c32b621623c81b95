/**
 * Push = copy from a local BlobStore to registry repositories, in the order a
 * registry needs: blobs first (HEAD-skip, a cross-repository mount from a
 * repository on the same registry that already got the blob this run, else
 * an upload; `jobs` at a time), then per-platform manifests by digest, then
 * the index by digest, and only when every destination has all its content,
 * the tags. Finally every tag is read back and must resolve to our digest.
 *
 * Manifest writes to one registry go one at a time, and a manifest the
 * repository already has is not written again: the distribution registry's
 * filesystem storage rewrites a manifest's content in place, so two
 * concurrent PUTs of the same bytes (two repositories, or a digest and a tag)
 * can make the registry read a half-written manifest and refuse the push.
 */
import pLimit from 'p-limit';
import type { BlobStore } from '../cas/blob-store.js';
import { LayoutStore } from '../cas/layout-store.js';
import { formatReference, type Reference, referenceName } from '../codec/reference.js';
import { OciasmError } from '../errors.js';
import type { Descriptor, Digest } from '../oci/types.js';
import type { Registries } from '../registry/registries.js';
import type { RegistryRepository } from '../registry/repository.js';
import { blobSource, type ImageGraph, walkImage } from './graph.js';

export interface PushRequest {
  source: BlobStore;
  root: Descriptor;
  /** Destinations; each tag is pushed, a digest-only reference pushes no tag. */
  targets: Reference[];
  /** Extra tags for per-platform manifests, in every target's repository. */
  platformTags?: { digest: Digest; tag: string }[];
}

export interface PushedRef {
  ref: string;
  digest: Digest;
  platformTags: string[];
}

export interface PushStats {
  uploaded: number;
  mounted: number;
  present: number;
  manifests: number;
}

export interface PushResult {
  refs: PushedRef[];
  stats: PushStats;
}

export interface PushOptions {
  jobs?: number;
  progress?: (message: string) => void;
}

interface Dest {
  req: PushRequest;
  graph: ImageGraph;
  ref: Reference;
  repo: RegistryRepository;
}

export async function pushImages(registries: Registries, requests: PushRequest[], opts: PushOptions = {}): Promise<PushResult> {
  const limit = pLimit(Math.max(1, opts.jobs ?? 4));
  const stats: PushStats = { uploaded: 0, mounted: 0, present: 0, manifests: 0 };
  const dests: Dest[] = [];
  for (const req of requests) {
    const graph = await walkImage(req.source, req.root);
    for (const ref of req.targets) {
      if (ref.digest && ref.digest !== req.root.digest) {
        throw new OciasmError('PUSH_VERIFY', `${formatReference(ref)}: the image's digest is ${req.root.digest}, not the digest in the reference`);
      }
      dests.push({ req, graph, ref, repo: registries.repository(ref.registry, ref.repository) });
    }
  }
  // Each (repository, digest) once per run; the first repository of a registry to get a blob is where others mount it from.
  const blobJobs = new Map<string, Promise<void>>();
  const homes = new Map<string, Promise<string>>();
  // A layout's blob is checked (regular file, size, digest) before any byte of it leaves: a symlink to a host file or a damaged blob is never sent.
  const verified = new Map<string, Promise<void>>();
  const verifyOnce = (source: BlobStore, desc: Descriptor): Promise<void> => {
    if (!(source instanceof LayoutStore)) return Promise.resolve();
    const key = `${source.label}@${desc.digest}`;
    let v = verified.get(key);
    if (!v) verified.set(key, (v = source.verify(desc)));
    return v;
  };
  const pushBlob = (d: Dest, desc: Descriptor): Promise<void> => {
    const key = `${d.repo.label}@${desc.digest}`;
    let job = blobJobs.get(key);
    if (!job) {
      const homeKey = `${d.ref.registry}@${desc.digest}`;
      const home = homes.get(homeKey);
      job = (async () => {
        const from = home ? await home : undefined;
        const mountFrom = from && from !== d.ref.repository ? from : undefined;
        const how = await limit(async () => {
          await verifyOnce(d.req.source, desc);
          return d.repo.putBlob(desc, blobSource(d.req.source, desc), mountFrom);
        });
        stats[how]++;
        opts.progress?.(`${how} ${desc.digest.slice(7, 19)} → ${d.repo.label}`);
      })();
      if (!home) {
        const mountable = job.then(() => d.ref.repository);
        mountable.catch(() => undefined); // awaited only by later blobs; the failure itself is reported through `job`
        homes.set(homeKey, mountable);
      }
      blobJobs.set(key, job);
    }
    return job;
  };
  const writers = new Map<string, Promise<unknown>>();
  /** Runs manifest writes to one registry one after another. */
  const serial = <T>(registry: string, fn: () => Promise<T>): Promise<T> => {
    const next = (writers.get(registry) ?? Promise.resolve()).catch(() => undefined).then(fn);
    writers.set(registry, next);
    return next;
  };
  const manifestJobs = new Map<string, Promise<void>>();
  const pushManifest = (d: Dest, node: ImageGraph['root']): Promise<void> => {
    const key = `${d.repo.label}@${node.descriptor.digest}`;
    let job = manifestJobs.get(key);
    if (!job) {
      job = serial(d.ref.registry, async () => {
        if ((await d.repo.resolveManifest(node.descriptor.digest)) === node.descriptor.digest) return;
        await d.repo.putManifest(node.descriptor.digest, node.bytes, node.descriptor.mediaType);
        stats.manifests++;
      });
      manifestJobs.set(key, job);
    }
    return job;
  };
  await Promise.all(dests.map(async (d) => {
    await Promise.all(d.graph.blobs.map((b) => pushBlob(d, b)));
    await Promise.all(d.graph.children.map((c) => pushManifest(d, c)));
    await pushManifest(d, d.graph.root);
  }));
  // Tags only once every destination has all of its content.
  const tags: { d: Dest; tag: string; digest: Digest }[] = [];
  for (const d of dests) {
    if (d.ref.tag) tags.push({ d, tag: d.ref.tag, digest: d.req.root.digest });
    for (const pt of d.req.platformTags ?? []) tags.push({ d, tag: pt.tag, digest: pt.digest });
  }
  await Promise.all(tags.map(({ d, tag, digest }) => {
    const node = digest === d.graph.root.descriptor.digest ? d.graph.root : d.graph.children.find((c) => c.descriptor.digest === digest);
    if (!node) throw new OciasmError('INTERNAL', `platform tag ${tag}: ${digest} is not part of the pushed image`);
    return serial(d.ref.registry, () => d.repo.putManifest(tag, node.bytes, node.descriptor.mediaType));
  }));
  await Promise.all(dests.map(async (d) => {
    const got = await d.repo.resolveManifest(d.req.root.digest);
    if (got !== d.req.root.digest) throw new OciasmError('PUSH_VERIFY', `${d.repo.label}: ${d.req.root.digest} is not readable after the push`);
  }));
  await Promise.all(tags.map(async ({ d, tag, digest }) => {
    const got = await d.repo.resolveManifest(tag);
    if (got !== digest) {
      throw new OciasmError('PUSH_VERIFY', `${referenceName(d.ref)}:${tag} resolves to ${got ?? 'nothing'} after the push, expected ${digest}`);
    }
  }));
  const refs = dests.map((d) => ({
    ref: formatReference({ ...d.ref, digest: d.req.root.digest }),
    digest: d.req.root.digest,
    platformTags: (d.req.platformTags ?? []).map((p) => `${referenceName(d.ref)}:${p.tag}`),
  }));
  return { refs, stats };
}
