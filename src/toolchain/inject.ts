/** Places restored build outputs into the rootfs with `files` (Dockerfile COPY) semantics; modes kept, owner 0:0. */
import { copyFromHost } from '../rootfs/host.js';
import { imagePath } from '../rootfs/image-path.js';
import type { DirNode } from '../rootfs/tree.js';
import type { RestoredOutput } from './outputs.js';

export function injectOutputs(root: DirNode, outputs: RestoredOutput[], where: string): void {
  for (const o of outputs) {
    const at = `${where}: build.outputs → ${o.dest}`;
    copyFromHost(root, o.hostPath, imagePath(o.dest, at, true), { preserveOwner: false, where: at, knownDigests: o.digests });
  }
}
