/**
 * The layer cache index: tree fingerprint + gzip settings → the layer that
 * was written for it. One small JSON file per key under `layers/` in the
 * build cache folder (`OCIASM_CACHE_DIR`, else `$XDG_CACHE_HOME/ociasm`, else
 * `~/.cache/ociasm`), written atomically, so concurrent builds never see half
 * an entry.
 *
 * It is only an index: the blob itself must be in the output layout, with
 * the recorded size and the file identity recorded when it was written or
 * last checked (`blobId`: device, inode, size, mtime and ctime in ns — any
 * write changes the ctime), for an entry to count; a blob with another
 * identity is rehashed before it is trusted (layer/write-layer.ts). The cache is best effort: an
 * unreadable, unwritable or malformed index is a miss, never an error.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../cas/atomic-file.js';
import path from 'node:path';
import type { Digest } from '../oci/types.js';

export interface CachedLayer {
  digest: Digest;
  size: number;
  diffId: Digest;
  uncompressedSize: number;
  entries: number;
  files: number;
  contentBytes: number;
  /** The blob file's identity when it was last known to hold `digest` (see above). */
  blobId?: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function valid(v: unknown): v is CachedLayer {
  const e = v as CachedLayer;
  return !!e && typeof e === 'object' && DIGEST.test(String(e.digest)) && DIGEST.test(String(e.diffId)) &&
    [e.size, e.uncompressedSize, e.entries, e.files, e.contentBytes].every((n) => Number.isSafeInteger(n) && n >= 0);
}

export class LayerCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    if (!/^[a-f0-9]{64}$/.test(key)) throw new Error(`bad layer cache key ${key}`);
    return path.join(this.dir, `${key}.json`);
  }

  async get(key: string): Promise<CachedLayer | undefined> {
    try {
      const v: unknown = JSON.parse(await readFile(this.file(key), 'utf8'));
      return valid(v) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  async put(key: string, entry: CachedLayer): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(this.file(key), JSON.stringify(entry) + '\n');
    } catch {
      // A cache that cannot be written is only a miss next time.
    }
  }
}
