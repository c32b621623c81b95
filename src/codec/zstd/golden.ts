/**
 * Golden digests of zstd format v2: sha256 of the complete stream that the
 * pinned libzstd (zstd-napi 0.0.13, libzstd 1.5.7) writes, with any nbWorkers
 * ≥ 1 and any input chunking. They change only with ZSTD_FORMAT.version.
 * - GOLDEN_ZSTD_SHA256[level]: goldenInput() (the gzip codec's 2.5 MiB
 *   vector: more than one of libzstd's 2 MiB jobs at level 3).
 * - GOLDEN_ZSTD_LONG_SHA256[level]: goldenLongInput(), 12 MiB whose second
 *   half repeats the first, so long-distance matching reaches back 6 MiB,
 *   across job boundaries.
 * createZstd() checks GOLDEN_ZSTD_SHA256[GOLDEN_ZSTD_LEVEL] before any layer.
 */
import { goldenInput } from '../gzip/golden.js';

export const GOLDEN_ZSTD_LEVEL = 3;

export const GOLDEN_ZSTD_SHA256: Readonly<Record<number, string>> = Object.freeze({
  1: '5227997850795f82b0a8cf9bddf21d795733b8647253e872245a11107082d785',
  3: '165c853ce4d79bd54c030607605868b24d3b5bdf3d02a55b03e4c55e147e7198',
  9: '738ae58269819490d17f24a46c2407d8a8b5f22e9860a48128983ce2b36b6811',
});

export const GOLDEN_ZSTD_LONG_SHA256: Readonly<Record<number, string>> = Object.freeze({
  3: 'c103301c51aad46573af1161f3fa0e716828357f3e24b5b96b9aa90728885d23',
});

export function goldenLongInput(): Uint8Array {
  const half = goldenInput(6 << 20);
  const out = new Uint8Array(12 << 20);
  out.set(half, 0);
  out.set(half, 6 << 20);
  return out;
}
