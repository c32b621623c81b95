/** Deterministic block-parallel zstd (format: docs/zstd-format.md). */
export { ZSTD_FORMAT, checkZstdLevel } from './format.js';
export { checkZstdBuild, createZstd, zstdSettingsKey, type ZstdCompressor, type ZstdOptions } from './compressor.js';
export { GOLDEN_ZSTD_SHA256 } from './golden.js';
