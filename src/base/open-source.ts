/** Picks the BaseSource for a `base:` value: scratch, image:NAME, or any source transport (a bare value is a registry reference). */
import { OciasmError } from '../errors.js';
import { InBuildSource, type InBuildLookup } from './in-build-source.js';
import { ScratchSource } from './scratch-source.js';
import type { BaseSource } from './source.js';
import { type PullContext, TransportBaseSource } from './transport-source.js';

export type { PullContext } from './transport-source.js';

export function openBaseSource(spec: string, where: string, pull: PullContext, inBuild?: InBuildLookup): BaseSource {
  if (spec === 'scratch') return new ScratchSource();
  if (spec.startsWith('image:')) {
    if (!inBuild) throw new OciasmError('BUILDFILE_INVALID', `${where}.base: "${spec}" names an image of this build, which is not available here`);
    return new InBuildSource(spec, spec.slice('image:'.length), inBuild);
  }
  try {
    return new TransportBaseSource(spec, pull, where);
  } catch (e) {
    if (e instanceof OciasmError && e.code === 'REFERENCE_INVALID') throw new OciasmError('BUILDFILE_INVALID', `${where}.base: ${e.message}`, { cause: e });
    throw e;
  }
}
