/**
 * Image chains: `base: image:NAME` builds on another image of the same build
 * file. Returns the images to build — the wanted ones (all when none is named)
 * and every image they build on — bases first, otherwise in file order.
 * A cycle or a base naming no image is an error that names the chain.
 */
import type { BuildFile, ImageSpec } from '../buildfile/types.js';
import { OciasmError } from '../errors.js';

export const IN_BUILD_PREFIX = 'image:';

/** The name in `image:NAME`, or undefined for any other base. */
export function inBuildBaseName(base: string): string | undefined {
  return base.startsWith(IN_BUILD_PREFIX) ? base.slice(IN_BUILD_PREFIX.length) : undefined;
}

export function orderImages(bf: BuildFile, wanted: readonly string[] = []): ImageSpec[] {
  const byName = new Map(bf.images.map((i) => [i.name, i]));
  const names = bf.images.map((i) => i.name);
  for (const name of wanted) {
    if (!byName.has(name)) {
      throw new OciasmError('BUILDFILE_INVALID', `${bf.file}: no image named "${name}" (have: ${names.join(', ')})`);
    }
  }
  const ordered: ImageSpec[] = [];
  const done = new Set<string>();
  const visit = (name: string, chain: string[]): void => {
    if (done.has(name)) return;
    const spec = byName.get(name);
    if (!spec) {
      const from = chain[chain.length - 1]!;
      throw new OciasmError(
        'IMAGE_CHAIN',
        `${bf.file}: image "${from}": base image:${name} names no image in this file (chain: ${[...chain, name].join(' -> ')}; have: ${names.join(', ')})`,
      );
    }
    if (chain.includes(name)) {
      const loop = [...chain.slice(chain.indexOf(name)), name];
      throw new OciasmError('IMAGE_CHAIN', `${bf.file}: image chain ${loop.join(' -> ')} is a cycle`);
    }
    const base = inBuildBaseName(spec.base);
    if (base !== undefined) {
      if (base === '') throw new OciasmError('IMAGE_CHAIN', `${bf.file}: image "${name}": base "image:" names no image`);
      visit(base, [...chain, name]);
    }
    done.add(name);
    ordered.push(spec);
  };
  for (const name of wanted.length > 0 ? wanted : names) visit(name, []);
  return ordered;
}
