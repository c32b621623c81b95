/**
 * The seam every image moves through, as containers/image has it
 * (types.ImageSource / types.ImageDestination) and go-containerregistry's
 * small interfaces. Rules:
 * - A source serves manifests and blobs as they are stored; it never rewrites
 *   bytes, and every size is known (a descriptor's), so no caller needs to
 *   know what kind of store is behind it. Whoever reads verifies digests
 *   (copy() does, for every byte it moves).
 * - A destination makes nothing visible before `commit()`; `close()` without
 *   a commit leaves no trace of a half-written image where the medium allows
 *   (a layout's blobs are content-addressed and harmless; an archive's temp
 *   file is removed; a daemon is sent nothing).
 * - Every async method takes an optional AbortSignal.
 * - Transports are spelled as skopeo spells them; adding one is one file and
 *   one line in ./index.ts.
 */
import type { BlobRange, BlobReader } from '../cas/blob-store.js';
import type { Descriptor, Digest, Platform } from '../oci/types.js';

export type { BlobRange, BlobReader } from '../cas/blob-store.js';

export interface Opts {
  signal?: AbortSignal;
}

/** A manifest or index with the exact bytes its digest is taken of. */
export interface Manifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface ImageSource {
  /** The transport-qualified name, for messages (`oci:/abs/dir:ref`, `docker://host/repo:tag`). */
  readonly name: string;
  /** What a build on this source records as org.opencontainers.image.base.name (a tag reference, a layout's ref); default `name`. */
  readonly baseName?: string;
  /**
   * True when the blobs come over the network (a registry): a base copies
   * what it needs into the verified blob cache first and reads it from there
   * (src/base/transport-source.ts). Otherwise (a layout, an archive) a base
   * reads the blobs in place.
   */
  readonly remote?: boolean;
  /**
   * Set by a source whose image has no platform of its own (a `rootfs:`
   * tarball; its config says `unknown/unknown`): a build takes it as the base
   * of whatever platform it builds, and records `baseName` (which names the
   * content's digest, so the record is reproducible) as the base's name.
   */
  readonly platformless?: { baseName: string };
  /**
   * The manifest or index a reference names: a tag, a digest (any manifest
   * of the image graph, children included), or undefined for the source's own
   * reference (the one it was opened with).
   */
  getManifest(ref?: string, opts?: Opts): Promise<Manifest>;
  /** The tags the source can name, where it can list them. */
  listTags?(opts?: Opts): Promise<string[]>;
  /** Where the source's blobs are, for a destination to mount them from (a registry repository); copy() seeds BlobLocations with it. */
  blobLocation?(): BlobLocation | undefined;
  /** A blob's size when the source has it, else undefined; reads nothing. */
  statBlob(digest: Digest, opts?: Opts): Promise<number | undefined>;
  /**
   * A blob's bytes, [range.offset, range.end) when given. The stream stops
   * at `desc.size` whatever the medium sends; the caller checks the digest.
   */
  openBlob(desc: Descriptor, range?: BlobRange, opts?: Opts): AsyncIterable<Uint8Array>;
  /**
   * Checks a blob against its descriptor (a local store whose files could be
   * damaged or swapped for symlinks), reading it whole. Its presence asks
   * copy() to check the blob: statBlob up front (regular file, size; this
   * method gives the message when it is not one), then the sha256 while the
   * bytes stream, the last chunk held back until it matched
   * (src/copy/verify-stream.ts). Absent: a registry's blobs, checked by
   * whoever stores them.
   */
  verifyBlob?(desc: Descriptor, opts?: Opts): Promise<void>;
  close(): Promise<void>;
}

/** What a destination can hold; copy() plans by these, never by the destination's type. */
export interface DestinationCapabilities {
  /** False: one platform's image manifest only (docker-archive, docker-daemon). */
  multiPlatform: boolean;
  /** Manifests that name a `subject` are kept and can be listed as referrers. */
  referrers: boolean;
  /** Whether tags can be written at all (a digest-only push writes none). */
  tags: boolean;
}

/** Where else a blob is known to be, so a destination can reuse it without sending bytes (a cross-repository mount). */
export interface BlobLocation {
  /** The transport name (`docker`) and a location it understands (`host/repository`). */
  transport: string;
  location: string;
}

/** Blob locations learned in one run, shared by every copy of the run. */
export class BlobLocations {
  private readonly seen = new Map<Digest, BlobLocation[]>();
  add(digest: Digest, at: BlobLocation): void {
    const list = this.seen.get(digest) ?? [];
    if (!list.some((l) => l.transport === at.transport && l.location === at.location)) list.push(at);
    this.seen.set(digest, list);
  }
  get(digest: Digest): readonly BlobLocation[] {
    return this.seen.get(digest) ?? [];
  }
}

/** What putBlob did: the destination had it, mounted it from elsewhere, or received the bytes. */
export type PutBlobOutcome = 'present' | 'mounted' | 'uploaded';

export interface ImageDestination {
  readonly name: string;
  readonly capabilities: DestinationCapabilities;
  /** Destinations with the same lane (one registry) get their manifest writes one at a time. */
  readonly lane?: string;
  /** The tag the destination was opened with (`oci:DIR:REF`, `docker://HOST/REPO:TAG`); copy() writes it for the root. */
  readonly tag?: string;
  /** The digest the destination was opened with (`docker://HOST/REPO@DIGEST`); copy() refuses a root with another. */
  readonly digest?: Digest;
  /** Before the copy: the manifest a tag names now, or undefined (copy() checks a narrowed index against it). */
  getTag?(tag: string, opts?: Opts): Promise<Manifest | undefined>;
  /** A single-platform destination's platform when it was opened with one (DestinationOptions.platform); copy() takes it from an index unless platforms are named. */
  readonly platform?: Platform;
  /** Whether the destination already holds the blob (a registry HEADs, a layout stats). */
  hasBlob(desc: Descriptor, opts?: Opts): Promise<boolean>;
  /**
   * Stores a blob, reusing it when it can: present already, or mounted from
   * one of `known` (same registry). The bytes come from `data` by range, so a
   * broken upload resumes. A blob whose bytes do not match `desc` is not kept.
   */
  putBlob(desc: Descriptor, data: BlobReader, known: readonly BlobLocation[], opts?: Opts): Promise<PutBlobOutcome>;
  /** Where this destination keeps a blob, for later destinations of the run to reuse; undefined when nothing can. */
  blobLocation?(): BlobLocation | undefined;
  /** Stores a manifest or index by its digest (its blobs and children are stored already). */
  putManifest(m: Manifest, opts?: Opts): Promise<void>;
  /** Names a stored manifest; on media that commit, visible only after commit(). */
  putTag(tag: string, m: Manifest, opts?: Opts): Promise<void>;
  /** Makes it all visible at once where the medium allows (index.json, the archive's rename, the daemon's load). */
  commit(opts?: Opts): Promise<void>;
  /** After commit: what a tag or digest resolves to now, for read-back verification; undefined when the medium cannot say. */
  resolve?(ref: string, opts?: Opts): Promise<Digest | undefined>;
  close(): Promise<void>;
}
