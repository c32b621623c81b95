/**
 * Composing one image index from per-platform entries (`ociasm index create`
 * and `index append`). Pure: descriptors in, index bytes out. Rules:
 * - Entries are ordered by platform as a build writes them: linux/amd64,
 *   arm64/v8, arm/v7, arm/v6, arm/v5, then every other platform by its
 *   `os/arch/variant` text; entries of the same platform text (os.version
 *   differs) by digest. So the same entries give the same bytes whatever
 *   order the sources were named in.
 * - Two entries of one platform are an error for `create`; for `append` a
 *   new entry replaces the existing entry of its platform.
 * - The index has no annotations and no creation time: its bytes are a
 *   function of its entries alone.
 */
import { formatPlatform, samePlatform } from '../codec/platform.js';
import { OciasmError } from '../errors.js';
import { type Descriptor, type ImageConfig, type ImageIndex, MediaType, type Platform } from '../oci/types.js';

const BUILD_ORDER = ['amd64', 'arm64/v8', 'arm/v7', 'arm/v6', 'arm/v5'];

function rank(p: Platform | undefined): [number, string] {
  if (!p) return [BUILD_ORDER.length + 1, ''];
  const arch = p.architecture === 'arm64' ? `arm64/${p.variant ?? 'v8'}` : p.variant ? `${p.architecture}/${p.variant}` : p.architecture;
  const i = p.os === 'linux' ? BUILD_ORDER.indexOf(arch) : -1;
  return [i < 0 ? BUILD_ORDER.length : i, formatPlatform(p)];
}

function same(a: Platform | undefined, b: Platform | undefined): boolean {
  if (!a || !b) return false;
  const norm = (p: Platform) => (p.architecture === 'arm64' ? { ...p, variant: p.variant ?? 'v8' } : p);
  return samePlatform(norm(a), norm(b)) && (a['os.version'] ?? '') === (b['os.version'] ?? '');
}

export function sortEntries(entries: Descriptor[]): Descriptor[] {
  return [...entries].sort((a, b) => {
    const [ra, ta] = rank(a.platform);
    const [rb, tb] = rank(b.platform);
    return ra - rb || (ta < tb ? -1 : ta > tb ? 1 : 0) || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
  });
}

/** A manifest's index entry, its platform from its config (os, architecture, variant, os.version, os.features). */
export function entryFromConfig(manifest: Descriptor, config: ImageConfig, label: string): Descriptor {
  if (typeof config.architecture !== 'string' || typeof config.os !== 'string' || config.architecture === '' || config.os === '') {
    throw new OciasmError('PLATFORM_INVALID', `${label}: its config names no os and architecture, so it has no platform to list in an index`);
  }
  const platform: Platform = {
    os: config.os, architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
    ...(config['os.version'] ? { 'os.version': config['os.version'] } : {}),
    ...(config['os.features']?.length ? { 'os.features': config['os.features'] } : {}),
  };
  return { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, platform };
}

/** Entries named by each source (with its label), merged: `replace` lets later entries replace earlier ones of their platform. */
export function mergeEntries(groups: { label: string; entries: Descriptor[] }[], replace: boolean): Descriptor[] {
  const out: { label: string; entry: Descriptor }[] = [];
  for (const { label, entries } of groups) {
    for (const entry of entries) {
      if (out.some((o) => o.entry.digest === entry.digest && same(o.entry.platform, entry.platform))) continue;
      const clash = entry.platform ? out.findIndex((o) => same(o.entry.platform, entry.platform)) : -1;
      if (clash >= 0) {
        if (!replace) {
          throw new OciasmError('PLATFORM_INVALID', `${formatPlatform(entry.platform!)} is given twice: by ${out[clash]!.label} (${out[clash]!.entry.digest}) and by ${label} (${entry.digest})`);
        }
        out.splice(clash, 1);
      }
      out.push({ label, entry });
    }
  }
  return sortEntries(out.map((o) => o.entry));
}

export function composeIndex(entries: Descriptor[]): { index: ImageIndex; bytes: Buffer } {
  if (entries.length === 0) throw new OciasmError('REFERENCE_INVALID', 'an index needs at least one image');
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: sortEntries(entries) };
  return { index, bytes: Buffer.from(JSON.stringify(index)) };
}
