/**
 * Loads the pinned native libzstd (the zstd-napi addon) once, and checks it
 * before anyone uses it: ZSTD_versionNumber() must be ZSTD_FORMAT's, and the
 * build must have multi-threading (ZSTD_c_nbWorkers allowed up to ≥ 1).
 * Another libzstd could write other bytes for the same input, so it fails
 * loudly (ZSTD_INVALID) instead of silently moving digests. A missing or
 * unbuilt addon is ZSTD_INVALID saying how to rebuild it.
 */
import { createRequire } from 'node:module';
import { OciasmError } from '../../errors.js';
import { ZSTD_FORMAT } from './format.js';

/** The part of zstd-napi's low-level binding that ociasm uses (zstd-napi/binding.d.ts). */
export type StreamResult = [returnValue: number, dstProduced: number, srcConsumed: number];
export interface NativeCCtx {
  setParameter(param: number, value: number): void;
  reset(directive: number): void;
  compressStream2(dst: Uint8Array, src: Uint8Array, endOp: number): StreamResult;
}
export interface NativeDCtx {
  setParameter(param: number, value: number): void;
  reset(directive: number): void;
  decompressStream(dst: Uint8Array, src: Uint8Array): StreamResult;
}
export interface ZstdBinding {
  CCtx: new () => NativeCCtx;
  DCtx: new () => NativeDCtx;
  CParameter: Record<'compressionLevel' | 'windowLog' | 'enableLongDistanceMatching' | 'checksumFlag' | 'nbWorkers', number>;
  DParameter: Record<'windowLogMax', number>;
  EndDirective: Record<'continue' | 'flush' | 'end', number>;
  ResetDirective: Record<'sessionOnly' | 'parameters' | 'sessionAndParameters', number>;
  versionNumber(): number;
  versionString(): string;
  cParamGetBounds(param: number): { lowerBound: number; upperBound: number };
}

let loaded: ZstdBinding | undefined;

/** The checks on a loaded binding (exported so tests can hand it a stand-in). */
export function checkZstdBinding(b: ZstdBinding): ZstdBinding {
  const version = b.versionNumber();
  if (version !== ZSTD_FORMAT.libzstdVersion) {
    throw new OciasmError(
      'ZSTD_INVALID',
      `the zstd library is libzstd ${b.versionString()} (${version}), not the pinned ${ZSTD_FORMAT.libzstdVersion} ` +
        `of ${ZSTD_FORMAT.reference}: another libzstd can write other bytes, so zstd format v${ZSTD_FORMAT.version} ` +
        `refuses it (reinstall with npm ci)`,
    );
  }
  if (b.cParamGetBounds(b.CParameter.nbWorkers).upperBound < 1) {
    throw new OciasmError(
      'ZSTD_INVALID',
      `${ZSTD_FORMAT.reference} was built without multi-threading (ZSTD_MULTITHREAD), which zstd format v${ZSTD_FORMAT.version} needs: rebuild it with npm rebuild zstd-napi`,
    );
  }
  return b;
}

/** The checked binding, loaded on first use. */
export function zstdBinding(): ZstdBinding {
  if (loaded) return loaded;
  let b: ZstdBinding;
  try {
    b = createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding;
  } catch (e) {
    throw new OciasmError(
      'ZSTD_INVALID',
      `cannot load the native zstd library (${ZSTD_FORMAT.reference}): ${(e as Error).message}; ` +
        'it is built at install time: run npm rebuild zstd-napi (needs python3, make and a C++ compiler)',
      { cause: e },
    );
  }
  return (loaded = checkZstdBinding(b));
}
