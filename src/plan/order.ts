/**
 * Image chains: `base: image:NAME[:TAG]` builds on another image of the same
 * build file. An image is identified by name and tag (its layout ref
 * `NAME:TAG`), so one repository may hold a chain (`ubuntu:18.04_pre` on
 * `ubuntu:18.04`). `image:NAME` names the one image of that name; with several
 * it is ambiguous and an error listing the tags. Returns the images to build —
 * the wanted ones (all when none is named) and every image they build on —
 * bases first, otherwise in file order. A cycle or a base naming no image is an
 * error that names the chain.
 */
import type { BuildFile, ImageSpec } from '../buildfile/types.js';
import { OciasmError } from '../errors.js';

export const IN_BUILD_PREFIX = 'image:';

/** The `NAME[:TAG]` in `image:NAME[:TAG]`, or undefined for any other base. */
export function inBuildBaseName(base: string): string | undefined {
  return base.startsWith(IN_BUILD_PREFIX) ? base.slice(IN_BUILD_PREFIX.length) : undefined;
}

export interface OrderedImage {
  spec: ImageSpec;
  /** The tag, expanded. */
  tag: string;
  /** `NAME:TAG`: the image's identity and its layout ref. */
  key: string;
  /** `image "name"`, or `image "name:tag"` when the name is shared: how messages name it. */
  label: string;
  /** The key of the image it builds on, for an `image:` base. */
  inBuildBase?: string;
}

function splitNameTag(text: string): { name: string; tag?: string } {
  const slash = text.lastIndexOf('/');
  const colon = text.lastIndexOf(':');
  return colon > slash ? { name: text.slice(0, colon), tag: text.slice(colon + 1) } : { name: text };
}

/**
 * Orders `bf.images`; `tags[i]` is image i's expanded tag. `wanted` entries are
 * NAME (every image of that name) or NAME:TAG.
 */
export function orderImages(bf: BuildFile, wanted: readonly string[] = [], tags: readonly string[] = bf.images.map((i) => i.tag)): OrderedImage[] {
  const counts = new Map<string, number>();
  for (const i of bf.images) counts.set(i.name, (counts.get(i.name) ?? 0) + 1);
  const all: OrderedImage[] = bf.images.map((spec, i) => {
    const tag = tags[i]!;
    const label = counts.get(spec.name)! > 1 ? `${spec.name}:${spec.tag}` : spec.name;
    return { spec, tag, key: `${spec.name}:${tag}`, label };
  });
  const byKey = new Map<string, OrderedImage>();
  for (const img of all) {
    const other = byKey.get(img.key);
    if (other) throw new OciasmError('BUILDFILE_INVALID', `${bf.file}: image "${img.label}": its ref ${img.key} is also image "${other.label}"'s`);
    byKey.set(img.key, img);
  }
  const have = () => all.map((i) => i.label).join(', ');
  /** The images a NAME or NAME:TAG names (a tag matches as expanded or as written). */
  const find = (text: string): OrderedImage[] => {
    const exact = byKey.get(text);
    if (exact) return [exact];
    const { name, tag } = splitNameTag(text);
    const named = all.filter((i) => i.spec.name === (tag === undefined ? text : name));
    if (tag === undefined) return named;
    return named.filter((i) => i.spec.tag === tag);
  };
  const start: OrderedImage[] = [];
  for (const w of wanted) {
    const hit = find(w);
    if (hit.length === 0) throw new OciasmError('BUILDFILE_INVALID', `${bf.file}: no image named "${w}" (have: ${have()})`);
    start.push(...hit);
  }
  const ordered: OrderedImage[] = [];
  const done = new Set<string>();
  const visit = (img: OrderedImage, chain: OrderedImage[]): void => {
    if (done.has(img.key)) return;
    if (chain.includes(img)) {
      const loop = [...chain.slice(chain.indexOf(img)), img];
      throw new OciasmError('IMAGE_CHAIN', `${bf.file}: image chain ${loop.map((i) => i.label).join(' -> ')} is a cycle`);
    }
    const base = inBuildBaseName(img.spec.base);
    if (base !== undefined) {
      if (base === '') throw new OciasmError('IMAGE_CHAIN', `${bf.file}: image "${img.label}": base "image:" names no image`);
      const hit = find(base);
      if (hit.length === 0) {
        throw new OciasmError(
          'IMAGE_CHAIN',
          `${bf.file}: image "${img.label}": base image:${base} names no image in this file (chain: ${[...chain, img].map((i) => i.label).join(' -> ')} -> ${base}; have: ${have()})`,
        );
      }
      if (hit.length > 1) {
        throw new OciasmError(
          'IMAGE_CHAIN',
          `${bf.file}: image "${img.label}": base image:${base} is ambiguous (${hit.map((i) => i.key).join(', ')}); write image:NAME:TAG`,
        );
      }
      img.inBuildBase = hit[0]!.key;
      visit(hit[0]!, [...chain, img]);
    }
    done.add(img.key);
    ordered.push(img);
  };
  for (const img of wanted.length > 0 ? start : all) visit(img, []);
  return ordered;
}
