/**
 * Where a build writes (`-o TRANSPORT:…`; a bare value is a layout
 * directory). Rules:
 * - The build writes its blobs into a work layout: the `-o` layout itself for
 *   `oci:`, else a fresh temp layout under the cache folder, removed by
 *   `close()`; then the images are copied into the destination through the
 *   one copy, refs written at its commit.
 * - Each image is tagged with its own ref (`NAME:TAG`), unless the destination
 *   names one (`oci:DIR:REF`, `docker://HOST/REPO:TAG`): then the build must
 *   make one image. A digest-only destination writes no tag.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { LayoutStore } from '../cas/layout-store.js';
import type { LockOptions } from '../cas/layout-lock.js';
import { OciasmError } from '../errors.js';
import { openDestination, splitImageName, type TransportContext } from '../transports/index.js';
import { parseLayoutArg } from '../transports/layout-ref.js';
import { LayoutImageDestination } from '../transports/oci.js';
import type { ImageDestination } from '../transports/types.js';

export interface BuildOutput {
  /** Where the build puts its blobs and reads `image:NAME` bases from. */
  work: LayoutStore;
  destination: ImageDestination;
  /** Set when `-o` is a layout (the work layout itself). */
  layout?: string;
  tagsFor(imageRef: string): string[];
  close(): Promise<void>;
}

export async function openBuildOutput(
  output: string | { layout: string }, ctx: TransportContext, cacheDir: string, imageCount: number, opts: { platform?: string; lock?: LockOptions } = {},
): Promise<BuildOutput> {
  const platform = opts.platform;
  const { transport, rest } = typeof output === 'string' ? splitImageName(output, 'oci') : { transport: 'oci', rest: '' };
  let work: LayoutStore;
  let destination: ImageDestination;
  let temp: string | undefined;
  if (transport === 'oci') {
    const { dir, ref } = typeof output === 'string' ? parseLayoutArg(rest) : { dir: output.layout, ref: undefined };
    if (dir === '') throw new OciasmError('REFERENCE_INVALID', `-o "${typeof output === 'string' ? output : output.layout}" names no layout directory (oci:DIR[:REF])`);
    work = await LayoutStore.open(path.resolve(ctx.cwd, dir), true, opts.lock ?? {});
    destination = new LayoutImageDestination(work, ref !== undefined && ref !== '' ? ref : undefined, opts.lock ?? {});
  } else {
    destination = await openDestination(output as string, ctx, { fallback: 'oci', ...(platform ? { platform } : {}) });
    try {
      await mkdir(cacheDir, { recursive: true });
      temp = await mkdtemp(path.join(cacheDir, 'work-'));
      work = await LayoutStore.open(temp, true);
    } catch (e) {
      await destination.close();
      if (temp) await rm(temp, { recursive: true, force: true });
      throw e;
    }
  }
  const named = destination.tag;
  if ((named !== undefined || destination.digest !== undefined) && imageCount > 1) {
    await destination.close();
    if (temp) await rm(temp, { recursive: true, force: true });
    throw new OciasmError('REFERENCE_INVALID', `-o ${destination.name} names one image, but the build makes ${imageCount}: name the image to build, or write to a layout`);
  }
  return {
    work, destination,
    ...(transport === 'oci' ? { layout: work.dir } : {}),
    tagsFor: (imageRef) => (named !== undefined ? [named] : destination.digest !== undefined ? [] : [imageRef]),
    async close() {
      await destination.close();
      if (temp) await rm(temp, { recursive: true, force: true });
    },
  };
}
