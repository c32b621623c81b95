/** Picks the BaseSource for a `base:` value. */
import { OciasmError } from '../errors.js';
import { LayoutSource } from './layout-source.js';
import { ScratchSource } from './scratch-source.js';
import type { BaseSource } from './source.js';

export function openBaseSource(spec: string, buildFileDir: string, where: string): BaseSource {
  if (spec === 'scratch') return new ScratchSource();
  if (spec.startsWith('oci:')) return new LayoutSource(spec, buildFileDir);
  throw new OciasmError('BUILDFILE_INVALID', `${where}.base: "${spec}" is not supported (scratch or oci:PATH[:REF])`);
}
