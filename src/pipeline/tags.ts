/**
 * Writing refs into a layout's index.json: same ref replaced in place, others
 * kept. The read, merge and replace happen under the layout's lock, so
 * concurrent builds into one layout keep every ref.
 */
import type { LockOptions } from '../cas/layout-lock.js';
import type { LayoutStore } from '../cas/layout-store.js';
import { Annotation, type Descriptor } from '../oci/types.js';

export async function writeRefs(store: LayoutStore, refs: { refName: string; descriptor: Descriptor }[], lock: LockOptions = {}): Promise<void> {
  await store.updateIndex((index) => {
    const manifests = [...index.manifests];
    for (const { refName, descriptor } of refs) {
      const entry: Descriptor = { ...descriptor, annotations: { ...descriptor.annotations, [Annotation.RefName]: refName } };
      const at = manifests.findIndex((d) => d.annotations?.[Annotation.RefName] === refName);
      if (at >= 0) manifests[at] = entry;
      else manifests.push(entry);
    }
    return { ...index, manifests };
  }, lock);
}
