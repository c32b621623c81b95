/** Per platform: the base's layers squashed into a tree, then `files` and `paths` on top. */
import { applyLayer } from '../base/apply-layer.js';
import { OciasmError } from '../errors.js';
import { type InflateLimits, layerEntries } from '../base/layer-stream.js';
import type { BaseImage } from '../base/source.js';
import { Spool } from '../base/spool.js';
import { imagePath } from '../rootfs/image-path.js';
import { copyFromHost } from '../rootfs/host.js';
import { applyPathEntry } from '../rootfs/explicit-paths.js';
import { type DirNode, newDir } from '../rootfs/tree.js';
import type { PlatformPlan } from '../plan/plan.js';

export interface Rootfs {
  root: DirNode;
  /** Holds base-layer contents until the layer is written; dispose afterwards. */
  spool?: Spool;
}

export async function squashBase(base: BaseImage | undefined, onLayer?: (digest: string) => void, limits: InflateLimits = {}): Promise<Rootfs> {
  const root = newDir();
  if (!base || base.layers.length === 0) return { root };
  const spool = await Spool.create();
  try {
    const diffIds = base.config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== base.layers.length) {
      throw new OciasmError('BASE_INVALID', `base ${base.name}: ${base.layers.length} layers but ${diffIds.length} diff_ids in its config`);
    }
    for (const [i, layer] of base.layers.entries()) {
      onLayer?.(layer.digest);
      await applyLayer(root, layerEntries(base.blobs, layer, diffIds[i], limits), spool, layer.digest);
    }
    await spool.close();
    return { root, spool };
  } catch (e) {
    await spool.dispose();
    throw e;
  }
}

export function applyInjections(root: DirNode, plan: PlatformPlan, where: string): void {
  plan.files.forEach((f, i) => {
    const at = `${where}: files[${i}]`;
    const dest = imagePath(f.dest, `${at}.dest`, true);
    copyFromHost(root, f.src, dest, { preserveOwner: f.preserveOwner, where: at });
  });
  plan.paths.forEach((p, i) => applyPathEntry(root, p, `${where}: paths[${i}]`));
}
