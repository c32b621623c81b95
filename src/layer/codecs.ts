/**
 * The layer compressions a build can use, behind one small interface: the
 * media type, the cache settings key (everything that decides the bytes)
 * and a streaming compress(). gzip is the default; zstd is opt-in and loaded
 * only when an image asks for it (docs/zstd-format.md).
 *
 * Rules: a level is checked before anything is written; each codec's worker
 * pool is started at most once per build and closed by closeAll().
 */
import { createGzip, GZIP_FORMAT, gzipSettingsKey } from '../codec/gzip/index.js';
import { MediaType } from '../oci/types.js';

export type Compression = 'gzip' | 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['gzip', 'zstd'];

export interface LayerCodec {
  readonly compression: Compression;
  readonly mediaType: string;
  /** Part of the layer cache key: e.g. "gzip/v1/level5", "zstd/v1/level3". */
  readonly settings: string;
  compress(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer>;
}

interface Started {
  codec: Promise<LayerCodec>;
  close: () => Promise<void>;
}

/** A started compression engine: what compresses, and how to stop it. */
interface Engine {
  ready: Promise<{ compress(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> }>;
  close: () => Promise<void>;
}

/** One pool per compression in use, started on first use. */
export class LayerCodecs {
  private readonly started = new Map<Compression, Started>();
  /** Layers compressed so far, every codec: what `--cache-repo` hits save, counted where the work happens. */
  compressedLayers = 0;

  /** `level`: the --compression-level for every codec (each checks its own range), else each codec's default. */
  private constructor(private readonly level: number | undefined, private readonly zstdKey: ((l: number) => string) | undefined) {}

  /** Checks the level for each compression in `used` before anything is written. */
  static async prepare(used: Iterable<Compression>, level: number | undefined): Promise<LayerCodecs> {
    const kinds = new Set(used);
    if (kinds.has('gzip')) gzipSettingsKey({ level: level ?? GZIP_FORMAT.defaultLevel });
    let zstdKey: ((l: number) => string) | undefined;
    if (kinds.has('zstd')) {
      const { zstdSettingsKey, ZSTD_FORMAT, checkZstdBuild } = await import('../codec/zstd/index.js');
      zstdKey = (l) => zstdSettingsKey({ level: l });
      zstdKey(level ?? ZSTD_FORMAT.defaultLevel);
      checkZstdBuild();
    }
    return new LayerCodecs(level, zstdKey);
  }

  /** Starts the compression's pool now (its self-test runs while bases are squashed). */
  get(compression: Compression): Promise<LayerCodec> {
    let s = this.started.get(compression);
    if (!s) {
      const engine = compression === 'gzip' ? this.startGzip() : this.startZstd();
      const codec = Promise.all([this.identity(compression), engine.ready]).then(([id, e]): LayerCodec => ({
        ...id, compress: (i) => { this.compressedLayers++; return e.compress(i); },
      }));
      codec.catch(() => undefined); // awaited by the first layer
      s = { codec, close: engine.close };
      this.started.set(compression, s);
    }
    return s.codec;
  }

  /**
   * The compression's codec without starting its pool: the pool starts at the
   * first compress() (a --cache-repo build whose layers all come from the
   * registry starts none). Same media type and settings key as get()'s.
   */
  async lazy(compression: Compression): Promise<LayerCodec> {
    const started = () => this.get(compression);
    return { ...(await this.identity(compression)), compress: (input) => (async function* () { yield* (await started()).compress(input); })() };
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.started.values()].map((s) => s.close()));
  }

  /** What decides the compression's bytes, without starting anything: its media type and settings key. */
  private async identity(compression: Compression): Promise<Omit<LayerCodec, 'compress'>> {
    if (compression === 'gzip') {
      return { compression, mediaType: MediaType.LayerGzip, settings: gzipSettingsKey({ level: this.level ?? GZIP_FORMAT.defaultLevel }) };
    }
    const { ZSTD_FORMAT } = await import('../codec/zstd/index.js');
    return { compression, mediaType: MediaType.LayerZstd, settings: this.zstdKey!(this.level ?? ZSTD_FORMAT.defaultLevel) };
  }

  private startGzip(): Engine {
    const gzip = createGzip({ level: this.level ?? GZIP_FORMAT.defaultLevel });
    return { ready: gzip, close: async () => (await gzip.catch(() => undefined))?.close() };
  }

  private startZstd(): Engine {
    const zstd = import('../codec/zstd/index.js').then(({ createZstd, ZSTD_FORMAT }) => createZstd({ level: this.level ?? ZSTD_FORMAT.defaultLevel }));
    return { ready: zstd, close: async () => (await zstd.catch(() => undefined))?.close() };
  }
}
