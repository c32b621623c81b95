/** Picks the BaseSource for a `base:` value. */
import { OciasmError } from '../errors.js';
import { InBuildSource, type InBuildLookup } from './in-build-source.js';
import { LayoutSource } from './layout-source.js';
import { PlatformlessSource } from './platformless.js';
import { type PullContext, RegistrySource } from './registry-source.js';
import { ScratchSource } from './scratch-source.js';
import type { BaseSource } from './source.js';

export function openBaseSource(
  spec: string, buildFileDir: string, where: string, inBuild?: InBuildLookup, pull?: PullContext,
): BaseSource {
  if (spec === 'scratch') return new ScratchSource();
  if (spec.startsWith('image:') && inBuild) return new InBuildSource(spec, spec.slice('image:'.length), inBuild);
  if (spec.startsWith('oci:')) return new LayoutSource(spec, buildFileDir);
  if (spec.startsWith('rootfs:')) return new PlatformlessSource(spec, buildFileDir);
  if (pull && !spec.startsWith('image:')) return new RegistrySource(spec, pull, where);
  throw new OciasmError('BUILDFILE_INVALID', `${where}.base: "${spec}" is not supported (scratch, oci:PATH[:REF], rootfs:FILE, image:NAME or a registry reference)`);
}
