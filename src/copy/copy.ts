/**
 * The one copy: images from any ImageSource to any ImageDestination. Push,
 * pull, `ociasm copy` and the build's final write all go through it. Rules:
 * - It owns the order a registry needs: blobs first (`jobs` at a time, each
 *   (destination, digest) once per run, reusing what a destination has or can
 *   mount), then manifests children before parents, then, only once every
 *   destination of the run holds all of its content, the tags; then each
 *   destination commits, and what it can read back is checked.
 * - Destinations that share a `lane` (one registry) get their manifest and
 *   tag writes one at a time: the distribution registry's filesystem storage
 *   rewrites a manifest in place, so two concurrent PUTs of the same bytes can
 *   make it read a half-written manifest.
 * - A blob bound for a destination whose lane another destination of the run
 *   is already filling with it waits for that one, so it can be mounted; a
 *   source that names where its blobs live (a registry repository) is a
 *   place to mount from too (crane copy's behaviour).
 * - Platform choice (docs/transports.md): an index goes whole to a
 *   multi-platform destination unless platforms are named; a single-platform
 *   destination gets the one platform named, else the only one there is,
 *   else `defaultPlatform` (the caller passes the host's in; copy reads no
 *   globals). Naming several platforms of an index makes a new index of them.
 * - Before anything is written, tags are checked against what they name now
 *   (./index-guard.ts): a narrowed index is refused or merged by policy.
 */
import pLimit from 'p-limit';
import { sha256 } from '../cas/blob-store.js';
import { formatPlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import { platformMatches } from '../image/read.js';
import { type Descriptor, type Digest, type ImageIndex, isIndexMediaType, type Platform } from '../oci/types.js';
import {
  BlobLocations, type BlobReader, type ImageDestination, type ImageSource, type Manifest, type Opts, type PutBlobOutcome,
} from '../transports/types.js';
import { type ExistingIndexPolicy, guardTag, rootEntries } from './index-guard.js';
import { EMPTY_SHA256, verifyingReader } from './verify-stream.js';
import { type ImageGraph, walkImage } from './walk.js';

export type { ExistingIndexPolicy } from './index-guard.js';

export interface CopyRequest {
  source: ImageSource;
  /** What to copy from the source: a tag or digest, or undefined for the source's own reference; or a manifest in hand. */
  from?: string | Manifest;
  destination: ImageDestination;
  /** Tags for the root; default: the destination's own tag. An empty list writes none. */
  tags?: string[];
  /** Extra tags for manifests under the root (per-platform tags). */
  childTags?: { digest: Digest; tag: string }[];
}

export interface CopyOptions extends Opts {
  /** Platforms to keep from an index (see the header); undefined: all (one for a single-platform destination). */
  platforms?: Platform[];
  /** For a single-platform destination and an index of several platforms, none named: this one (the host's). */
  defaultPlatform?: Platform;
  /** What a tag that names a wider index gets (./index-guard.ts); default replace. */
  existingIndex?: ExistingIndexPolicy;
  jobs?: number;
  progress?: (message: string) => void;
  /** Blob locations shared across copies of one run, for cross-repository mounts. */
  locations?: BlobLocations;
}

export interface CopiedImage {
  destination: string;
  digest: Digest;
  mediaType: string;
  tags: string[];
  /** The platform copied, when an index was narrowed to one manifest. */
  platform?: string;
  /** Tags that now name a merged index rather than the copied root (--merge-index). */
  merged?: { tag: string; digest: Digest }[];
}

export interface CopyStats {
  uploaded: number;
  mounted: number;
  present: number;
  manifests: number;
}

export interface CopyResult {
  images: CopiedImage[];
  stats: CopyStats;
}

/** A blob of a source by range, for a destination to read (and re-read on resume). */
export function sourceReader(source: ImageSource, desc: Descriptor, opts: Opts = {}): BlobReader {
  return { size: desc.size, openAt: (offset, end) => source.openBlob(desc, { offset, end }, opts) };
}

/**
 * The up-front part of checking a local source's blob: it is a regular file of
 * the descriptor's size (statBlob; anything else gets the source's own
 * verifyBlob message: missing, a symlink, not a regular file), and an empty
 * blob is the empty digest. The sha256 of the rest is checked as it streams.
 */
async function checkUpFront(src: ImageSource, desc: Descriptor, opts: Opts): Promise<void> {
  const have = await src.statBlob(desc.digest, opts);
  if (have === undefined) {
    await src.verifyBlob!(desc, opts);
    return;
  }
  if (have !== desc.size) {
    throw new OciasmError('DIGEST_MISMATCH', `${src.name}: blob ${desc.digest} has ${have} bytes, its descriptor says ${desc.size}; nothing of it was sent`);
  }
  if (desc.size === 0 && desc.digest !== EMPTY_SHA256) {
    throw new OciasmError('DIGEST_MISMATCH', `${src.name}: blob ${desc.digest} is empty, which is ${EMPTY_SHA256}; nothing of it was sent`);
  }
}

function parseIndex(m: Manifest, label: string): ImageIndex {
  try {
    return JSON.parse(m.bytes.toString('utf8')) as ImageIndex;
  } catch {
    throw new OciasmError('GRAPH_INVALID', `${label}: index ${m.descriptor.digest} is not valid JSON`);
  }
}

/** Narrows an index to the platforms asked for: one platform gives its manifest, several a new index of them. */
export async function selectPlatforms(
  source: ImageSource, root: Manifest, platforms: Platform[] | undefined, single: boolean, opts: Opts & { defaultPlatform?: Platform } = {},
): Promise<Manifest> {
  if (!isIndexMediaType(root.descriptor.mediaType)) {
    return root;
  }
  const index = parseIndex(root, source.name);
  const images = index.manifests.filter((d) => d.platform && d.platform.architecture !== 'unknown');
  let wanted: Descriptor[];
  if (platforms === undefined || platforms.length === 0) {
    if (!single) return root;
    const host = opts.defaultPlatform;
    const fallback = images.length !== 1 && host ? images.filter((d) => platformMatches(host, d.platform)).slice(0, 1) : images;
    if (fallback.length !== 1) {
      throw new OciasmError(
        'PLATFORM_INVALID',
        `${source.name} holds ${images.length} platforms (${images.map((d) => formatPlatform(d.platform!)).join(', ') || 'none'})` +
          `${host ? `, not ${formatPlatform(host)}` : ''}; this destination takes one: name it with --platform`,
      );
    }
    wanted = fallback;
  } else {
    wanted = platforms.map((p) => {
      const hit = images.find((d) => platformMatches(p, d.platform));
      if (!hit) {
        throw new OciasmError('BASE_PLATFORM_MISSING', `${source.name} has no ${formatPlatform(p)} image; it has: ${images.map((d) => formatPlatform(d.platform!)).join(', ') || 'none'}`);
      }
      return hit;
    });
  }
  if (wanted.length === 1 || single) {
    if (single && wanted.length > 1) throw new OciasmError('PLATFORM_INVALID', `this destination takes one platform, ${wanted.length} were named`);
    const d = wanted[0]!;
    const got = await source.getManifest(d.digest, opts);
    return { descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(d.platform ? { platform: d.platform } : {}) }, bytes: got.bytes };
  }
  const bytes = Buffer.from(JSON.stringify({ ...index, manifests: wanted }));
  return { descriptor: { mediaType: root.descriptor.mediaType, digest: sha256(bytes), size: bytes.length }, bytes };
}

interface Job {
  req: CopyRequest;
  graph: ImageGraph;
  tags: { tag: string; node: Manifest; merged: boolean }[];
  platform?: string;
}

/** Runs manifest writes of one lane one after another. */
class Lanes {
  private readonly tails = new Map<string, Promise<unknown>>();
  run<T>(lane: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (lane === undefined) return fn();
    const next = (this.tails.get(lane) ?? Promise.resolve()).catch(() => undefined).then(fn);
    this.tails.set(lane, next);
    return next;
  }
}

export async function copyImages(requests: CopyRequest[], opts: CopyOptions = {}): Promise<CopyResult> {
  const limit = pLimit(Math.max(1, opts.jobs ?? 4));
  const locations = opts.locations ?? new BlobLocations();
  const stats: CopyStats = { uploaded: 0, mounted: 0, present: 0, manifests: 0 };
  const jobs: Job[] = [];
  for (const req of requests) {
    const picked = typeof req.from === 'object' ? req.from : await req.source.getManifest(req.from, opts);
    const dst = req.destination;
    const single = !dst.capabilities.multiPlatform;
    const platforms = opts.platforms ?? (single && dst.platform ? [dst.platform] : undefined);
    const root = await selectPlatforms(req.source, picked, platforms, single, opts);
    if (dst.digest !== undefined && dst.digest !== root.descriptor.digest) {
      throw new OciasmError('PUSH_VERIFY', `${dst.name}: the image's digest is ${root.descriptor.digest}, not the digest in the reference`);
    }
    const graph = await walkImage(req.source, root, opts);
    const tagNames = req.tags ?? (dst.tag !== undefined ? [dst.tag] : []);
    const tags: Job['tags'] = [];
    const policy = opts.existingIndex ?? 'replace';
    const entries = policy !== 'replace' && dst.getTag && tagNames.length > 0 ? await rootEntries(req.source, root, opts) : [];
    for (const tag of tagNames) {
      const existing = policy !== 'replace' ? await dst.getTag?.(tag, opts) : undefined;
      tags.push({ tag, ...guardTag({ destination: dst.name, tag, existing, root, entries, policy }) });
    }
    for (const ct of req.childTags ?? []) {
      const node = graph.children.find((c) => c.descriptor.digest === ct.digest) ?? (root.descriptor.digest === ct.digest ? root : undefined);
      if (!node) throw new OciasmError('INTERNAL', `tag ${ct.tag}: ${ct.digest} is not part of the copied image`);
      tags.push({ tag: ct.tag, node, merged: false });
    }
    if (tags.length > 0 && !dst.capabilities.tags) {
      throw new OciasmError('REFERENCE_INVALID', `${dst.name} cannot hold tags`);
    }
    const narrowed = root !== picked && !isIndexMediaType(root.descriptor.mediaType) && root.descriptor.platform;
    const home = req.source.blobLocation?.();
    if (home) for (const b of graph.blobs) locations.add(b.digest, home);
    jobs.push({ req, graph, tags, ...(narrowed ? { platform: formatPlatform(narrowed) } : {}) });
  }
  // Blobs: each (destination, digest) once; a blob a destination got becomes a place later ones may mount from.
  const blobJobs = new Map<string, Promise<void>>();
  const firstInLane = new Map<string, Promise<void>>();
  // A source that asks for its blobs to be checked (a layout, whose files could be damaged or swapped
  // for symlinks) gets a cheap check up front, once per blob (regular file, size), and its sha256 checked
  // while the bytes stream (./verify-stream.ts): a mismatching blob is never committed anywhere.
  const checked = new Map<string, Promise<void>>();
  const checkOnce = (src: ImageSource, desc: Descriptor): Promise<void> => {
    const key = `${src.name}\0${desc.digest}`;
    let v = checked.get(key);
    if (!v) checked.set(key, (v = checkUpFront(src, desc, opts)));
    return v;
  };
  /** The source's bytes, checked (once up front, and while streaming) only when a destination actually reads them. */
  const verifiedReader = (src: ImageSource, desc: Descriptor): BlobReader => {
    const raw = sourceReader(src, desc, opts);
    if (!src.verifyBlob) return raw;
    const streamed = verifyingReader(raw, desc, src.name);
    return {
      size: raw.size,
      openAt: (offset, end) => (async function* () {
        await checkOnce(src, desc);
        yield* streamed.openAt(offset, end);
      })(),
    };
  };
  const putBlob = (dst: ImageDestination, src: ImageSource, desc: Descriptor): Promise<void> => {
    const key = `${dst.name}\0${desc.digest}`;
    let job = blobJobs.get(key);
    if (!job) {
      const laneKey = dst.lane !== undefined ? `${dst.lane}\0${desc.digest}` : undefined;
      const first = laneKey !== undefined ? firstInLane.get(laneKey) : undefined;
      job = (first ?? Promise.resolve()).catch(() => undefined).then(() => limit(async (): Promise<void> => {
        const how: PutBlobOutcome = await dst.putBlob(desc, verifiedReader(src, desc), locations.get(desc.digest), opts);
        stats[how]++;
        const at = dst.blobLocation?.();
        if (at) locations.add(desc.digest, at);
        opts.progress?.(`${how} ${desc.digest.slice(7, 19)} → ${dst.name}`);
      }));
      if (laneKey !== undefined && !first) firstInLane.set(laneKey, job);
      blobJobs.set(key, job);
    }
    return job;
  };
  const lanes = new Lanes();
  const manifestJobs = new Map<string, Promise<void>>();
  const putManifest = (dst: ImageDestination, m: Manifest): Promise<void> => {
    const key = `${dst.name}\0${m.descriptor.digest}`;
    let job = manifestJobs.get(key);
    if (!job) {
      job = lanes.run(dst.lane, async () => {
        await dst.putManifest(m, opts);
        stats.manifests++;
      });
      manifestJobs.set(key, job);
    }
    return job;
  };
  await Promise.all(jobs.map(async ({ req, graph, tags }) => {
    await Promise.all(graph.blobs.map((b) => putBlob(req.destination, req.source, b)));
    for (const c of graph.children) await putManifest(req.destination, c);
    await putManifest(req.destination, graph.root);
    for (const t of tags) if (t.merged) await putManifest(req.destination, t.node);
  }));
  // Tags only once every destination has all of its content.
  await Promise.all(jobs.flatMap(({ req, tags }) => tags.map(({ tag, node }) => lanes.run(req.destination.lane, () => req.destination.putTag(tag, node, opts)))));
  const committed = new Set<ImageDestination>();
  for (const { req } of jobs) {
    if (committed.has(req.destination)) continue;
    committed.add(req.destination);
    await req.destination.commit(opts);
  }
  await Promise.all(jobs.map(async ({ req, graph, tags }) => {
    const dst = req.destination;
    if (!dst.resolve) return;
    const got = await dst.resolve(graph.root.descriptor.digest, opts);
    if (got !== undefined && got !== graph.root.descriptor.digest) {
      throw new OciasmError('PUSH_VERIFY', `${dst.name}: ${graph.root.descriptor.digest} is not readable after the copy`);
    }
    for (const { tag, node } of tags) {
      const at = await dst.resolve(tag, opts);
      if (at !== node.descriptor.digest) {
        throw new OciasmError('PUSH_VERIFY', `${dst.name}: ${tag} resolves to ${at ?? 'nothing'} after the copy, expected ${node.descriptor.digest}`);
      }
    }
  }));
  const images = jobs.map(({ req, graph, tags, platform }): CopiedImage => {
    const merged = tags.filter((t) => t.merged).map((t) => ({ tag: t.tag, digest: t.node.descriptor.digest }));
    return {
      destination: req.destination.name,
      digest: graph.root.descriptor.digest,
      mediaType: graph.root.descriptor.mediaType,
      tags: tags.map((t) => t.tag),
      ...(platform ? { platform } : {}),
      ...(merged.length ? { merged } : {}),
    };
  });
  return { images, stats };
}

/** One image from one source to one destination. */
export async function copyImage(source: ImageSource, destination: ImageDestination, opts: CopyOptions & Omit<CopyRequest, 'source' | 'destination'> = {}): Promise<CopyResult> {
  const { from, tags, childTags, ...rest } = opts;
  return copyImages([{ source, destination, ...(from !== undefined ? { from } : {}), ...(tags ? { tags } : {}), ...(childTags ? { childTags } : {}) }], rest);
}
