/**
 * `ociasm tag DIR:REF NEW…` and `ociasm untag DIR:REF…`: refs of an OCI image
 * layout, as crane and oras tag. Rules:
 * - a NEW without ':' is a tag in REF's repository (`app:1.0` + `stable` → `app:stable`);
 *   with ':' it is the whole ref name;
 * - a ref name follows the image-layout grammar (components of [A-Za-z0-9] joined by -._:@+);
 * - an existing NEW ref is moved to REF's image in place; REF itself is kept;
 * - untag removes index.json entries only: blobs stay (a layout has no GC; `ociasm build`
 *   into it again reuses them). A missing REF is an error unless `ignoreMissing`;
 *   nothing is changed when any REF is missing;
 * - index.json is replaced atomically (temp, fsync, rename).
 */
import { LayoutStore } from '../cas/layout-store.js';
import { OciasmError } from '../errors.js';
import { Annotation, type Descriptor } from '../oci/types.js';
import { findRef, parseLayoutArg, writeRefs } from '../transports/layout-ref.js';

const REF_NAME = /^[A-Za-z0-9]+((-|\.|_|:|@|\+|--)[A-Za-z0-9]+)*(\/[A-Za-z0-9]+((-|\.|_|:|@|\+|--)[A-Za-z0-9]+)*)*$/;

export interface TagResult {
  layout: string;
  digest: string;
  tagged: string[];
}

export interface UntagResult {
  layout: string;
  untagged: { ref: string; digest: string }[];
  missing: string[];
}

function layoutOf(arg: string, cmd: string): { dir: string; ref?: string } {
  const parsed = parseLayoutArg(arg);
  if (parsed.dir === '') throw new OciasmError('REFERENCE_INVALID', `${cmd}: "${arg}" names no layout directory (DIR:REF)`);
  return parsed;
}

/** The full ref name of NEW next to REF. */
export function newRefName(ref: string | undefined, next: string): string {
  if (next.includes(':') || ref === undefined || !ref.includes(':')) return next;
  return `${ref.slice(0, ref.lastIndexOf(':'))}:${next}`;
}

export async function tagLayout(source: string, names: string[]): Promise<TagResult> {
  const { dir, ref } = layoutOf(source, 'tag');
  if (names.length === 0) throw new OciasmError('REFERENCE_INVALID', 'tag: give at least one new tag');
  const refs = names.map((n) => newRefName(ref, n));
  for (const r of refs) {
    if (!REF_NAME.test(r)) throw new OciasmError('REFERENCE_INVALID', `tag: "${r}" is not a valid ref name (letters and digits joined by - . _ : @ +, components split by /)`);
  }
  const store = await LayoutStore.open(dir, false);
  const found = await findRef(store, ref, `layout ${dir}`);
  const { annotations, ...descriptor } = found;
  const { [Annotation.RefName]: _old, ...keep } = annotations ?? {};
  const base: Descriptor = Object.keys(keep).length > 0 ? { ...descriptor, annotations: keep } : descriptor;
  await writeRefs(store, refs.map((refName) => ({ refName, descriptor: base })));
  return { layout: store.dir, digest: found.digest, tagged: refs };
}

export async function untagLayout(targets: string[], opts: { ignoreMissing?: boolean } = {}): Promise<UntagResult[]> {
  if (targets.length === 0) throw new OciasmError('REFERENCE_INVALID', 'untag: give at least one DIR:REF');
  const byDir = new Map<string, string[]>();
  for (const t of targets) {
    const { dir, ref } = layoutOf(t, 'untag');
    if (ref === undefined || ref === '') throw new OciasmError('REFERENCE_INVALID', `untag: "${t}" names no ref (DIR:REF)`);
    byDir.set(dir, [...(byDir.get(dir) ?? []), ref]);
  }
  // Check every layout first: nothing changes when a ref is missing.
  const plans: { store: LayoutStore; keep: Descriptor[]; result: UntagResult }[] = [];
  for (const [dir, refs] of byDir) {
    const store = await LayoutStore.open(dir, false);
    const index = await store.readIndex();
    const name = (d: Descriptor) => d.annotations?.[Annotation.RefName];
    const have = index.manifests.map(name).filter((n): n is string => !!n);
    const missing = refs.filter((r) => !have.includes(r));
    if (missing.length > 0 && !opts.ignoreMissing) {
      throw new OciasmError('REF_NOT_FOUND', `untag: layout ${dir} has no ref ${missing.map((m) => `"${m}"`).join(', ')}; it has: ${have.join(', ') || 'none'}`);
    }
    const untagged = index.manifests.filter((d) => refs.includes(name(d) ?? '')).map((d) => ({ ref: name(d)!, digest: d.digest }));
    const keep = index.manifests.filter((d) => !refs.includes(name(d) ?? ''));
    plans.push({ store, keep, result: { layout: store.dir, untagged, missing } });
  }
  for (const p of plans) {
    if (p.result.untagged.length > 0) {
      const index = await p.store.readIndex();
      await p.store.writeIndex({ ...index, manifests: p.keep });
    }
  }
  return plans.map((p) => p.result);
}
