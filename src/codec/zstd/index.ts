/** Deterministic multi-threaded zstd (format: docs/zstd-format.md). */
export { ZSTD_FORMAT, checkZstdLevel, checkZstdWorkers } from './format.js';
export { checkZstdBuild, createZstd, zstdGoldenDigest, zstdSettingsKey, type ZstdCompressor, type ZstdOptions } from './compressor.js';
export { checkZstdBinding, zstdBinding, type ZstdBinding } from './binding.js';
export { GOLDEN_ZSTD_LEVEL, GOLDEN_ZSTD_SHA256, GOLDEN_ZSTD_LONG_SHA256, goldenLongInput } from './golden.js';
