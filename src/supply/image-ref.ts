/**
 * The image a supply-chain command works on: `oci:DIR[:REF]` (or a plain
 * `DIR[:REF]` that is an OCI layout) or a registry reference
 * (`docker://HOST/REPO[:TAG|@DIGEST]`, or the same without the prefix).
 * Referrers are read and written where the image lives: in the layout's
 * index.json, or in the registry (referrers API or the fallback tag).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { findRef, parseLayoutArg } from '../transports/layout-ref.js';
import type { BlobStore } from '../cas/blob-store.js';
import { LayoutStore } from '../cas/layout-store.js';
import { parseReference, type Reference } from '../codec/reference.js';
import { OciasmError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { Registries } from '../registry/registries.js';
import type { RegistryRepository } from '../registry/repository.js';

export type ImageLocation =
  | { kind: 'layout'; store: LayoutStore; root: Descriptor; name: string; text: string }
  | { kind: 'registry'; store: RegistryRepository; root: Descriptor; name: string; ref: Reference; text: string };

export function isLayoutArg(text: string): boolean {
  if (text.startsWith('oci:')) return true;
  if (text.startsWith('docker://')) return false;
  const { dir } = parseLayoutArg(text);
  return dir !== '' && existsSync(path.join(dir, 'oci-layout'));
}

export async function openImage(text: string, registries: () => Registries): Promise<ImageLocation> {
  if (isLayoutArg(text)) {
    const { dir, ref } = parseLayoutArg(text.replace(/^oci:/, ''));
    if (dir === '') throw new OciasmError('REFERENCE_INVALID', `"${text}" names no layout directory`);
    const store = await LayoutStore.open(dir, false);
    const found = await findRef(store, ref, `layout ${dir}`);
    const { annotations: _a, ...root } = found;
    return { kind: 'layout', store, root, name: ref ?? path.basename(path.resolve(dir)), text };
  }
  const ref = parseReference(text.replace(/^docker:\/\//, ''));
  const repo = registries().repository(ref.registry, ref.repository);
  const got = await repo.getManifest(ref.digest ?? ref.tag ?? 'latest');
  return { kind: 'registry', store: repo, root: got.descriptor, name: `${ref.registry}/${ref.repository}`, ref, text };
}

/** Whether `store` is where the blobs of `loc` are. */
export function storeOf(loc: ImageLocation): BlobStore {
  return loc.store;
}
