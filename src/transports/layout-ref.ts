/**
 * `DIR[:REF]` and refs inside an OCI image layout: a ref is the
 * org.opencontainers.image.ref.name annotation of an index.json entry
 * (skopeo and umoci accept `name:tag` as one ref name).
 */
import type { LockOptions } from '../cas/layout-lock.js';
import type { LayoutStore } from '../cas/layout-store.js';
import { OciasmError } from '../errors.js';
import { Annotation, type Descriptor } from '../oci/types.js';

/** Splits `PATH[:REF]` at the first ':', as skopeo's oci: transport does (PATH holds no ':'). */
export function parseLayoutArg(arg: string): { dir: string; ref?: string } {
  const colon = arg.indexOf(':');
  if (colon < 0) return { dir: arg };
  return { dir: arg.slice(0, colon), ref: arg.slice(colon + 1) };
}

export async function findRef(store: Pick<LayoutStore, 'readIndex'>, ref: string | undefined, label: string): Promise<Descriptor> {
  const index = await store.readIndex();
  const named = (d: Descriptor) => d.annotations?.[Annotation.RefName];
  if (ref === undefined) {
    // Referrers (SBOMs, signatures) stored beside an image are not images to choose from.
    const images = index.manifests.filter((d) => !d.annotations?.[Annotation.ReferrerSubject]);
    if (images.length === 1) return images[0]!;
    throw new OciasmError('REF_NOT_FOUND', `${label}: the layout holds ${images.length} images; name one as oci:PATH:REF`);
  }
  const hit = index.manifests.filter((d) => named(d) === ref);
  if (hit.length === 1) return hit[0]!;
  const refs = index.manifests.map(named).filter((n): n is string => !!n);
  if (hit.length > 1) throw new OciasmError('REF_NOT_FOUND', `${label}: ref "${ref}" names ${hit.length} entries`);
  throw new OciasmError('REF_NOT_FOUND', `${label}: no ref "${ref}" in the layout; it has: ${refs.join(', ') || 'none'}`);
}

/**
 * Writes refs into index.json: the same ref is replaced in place, others are
 * kept. The read, merge and replace happen under the layout's lock
 * (cas/layout-lock.ts), so concurrent builds into one layout keep every ref.
 */
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
