/** Deterministic block-parallel gzip (format: docs/gzip-format.md). */
export { GZIP_FORMAT, gzipHeader, gzipTrailer, type GzipEngine } from './format.js';
export { createGzip, gzipSettingsKey, type GzipCompressor, type GzipOptions } from './compressor.js';
export { GOLDEN_GZIP_SHA256, GOLDEN_INPUT_SIZE, goldenInput } from './golden.js';
