/** Tar codec: deterministic ustar/PAX encoder and streaming decoder on raw bytes. */
export type { TarEntry, TarEntryType, TarHeader } from './types.js';
export { encodeHeader, encodeTar, padding, END_OF_ARCHIVE, type TarInputEntry } from './encode.js';
export { decodeTar, MAX_EXTENDED_HEADER_BYTES, type DecodeTarOptions } from './decode.js';
export { normalizeTarPath } from './normalize.js';
