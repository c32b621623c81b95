/**
 * The content-addressed blob cache shared between builds: an OCI image layout
 * without refs (`--cache-dir`, default `$XDG_CACHE_HOME/ociasm`, else
 * `~/.cache/ociasm`), so it is a BlobStore like any other. A pull-through
 * view fetches what is missing, checks it against its digest while writing,
 * and keeps nothing from a download whose digest does not match.
 */
import os from 'node:os';
import path from 'node:path';
import type { BlobInfo, BlobStore } from '../cas/blob-store.js';
import { LayoutStore } from '../cas/layout-store.js';
import { isOciasmError, OciasmError } from '../errors.js';
import type { Digest } from '../oci/types.js';

export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'ociasm');
}

export function openBlobCache(dir: string): Promise<LayoutStore> {
  return LayoutStore.open(dir, true);
}

/** A BlobStore reading from the cache, filling it from `fetch` on a miss. */
export class PullThroughStore implements BlobStore {
  private readonly inflight = new Map<Digest, Promise<BlobInfo>>();

  constructor(
    readonly cache: LayoutStore,
    private readonly fetch: (digest: Digest) => AsyncIterable<Uint8Array>,
    readonly label: string,
  ) {}

  async has(digest: Digest): Promise<boolean> {
    return this.cache.has(digest);
  }

  /** Makes sure the blob is in the cache, downloading and verifying it once. */
  async ensure(digest: Digest): Promise<void> {
    if (await this.cache.has(digest)) return;
    let p = this.inflight.get(digest);
    if (!p) {
      p = this.cache.put(this.fetch(digest), { digest }).catch((e: unknown) => {
        if (isOciasmError(e) && e.code === 'DIGEST_MISMATCH') {
          throw new OciasmError('DIGEST_MISMATCH', `${this.label}: blob ${digest} downloaded with the wrong content; nothing was kept (${e.message})`);
        }
        throw e;
      });
      this.inflight.set(digest, p);
      p.then(() => this.inflight.delete(digest), () => this.inflight.delete(digest));
    }
    await p;
  }

  async *open(digest: Digest): AsyncIterable<Buffer> {
    await this.ensure(digest);
    yield* this.cache.open(digest);
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    await this.ensure(digest);
    return this.cache.readBytes(digest);
  }

  put(data: AsyncIterable<Uint8Array>, expected?: Partial<BlobInfo>): Promise<BlobInfo> {
    return this.cache.put(data, expected);
  }

  putBytes(data: Uint8Array): Promise<BlobInfo> {
    return this.cache.putBytes(data);
  }
}
