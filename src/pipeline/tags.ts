/** Writing refs into a layout's index.json: same ref replaced in place, others kept. */
import type { LayoutStore } from '../cas/layout-store.js';
import { Annotation, type Descriptor } from '../oci/types.js';

export async function writeRefs(store: LayoutStore, refs: { refName: string; descriptor: Descriptor }[]): Promise<void> {
  const index = await store.readIndex();
  const manifests = [...index.manifests];
  for (const { refName, descriptor } of refs) {
    const entry: Descriptor = { ...descriptor, annotations: { ...descriptor.annotations, [Annotation.RefName]: refName } };
    const at = manifests.findIndex((d) => d.annotations?.[Annotation.RefName] === refName);
    if (at >= 0) manifests[at] = entry;
    else manifests.push(entry);
  }
  await store.writeIndex({ ...index, manifests });
}
