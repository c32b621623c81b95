/**
 * Golden digests of the zstd format: sha256 of the complete zstd stream that
 * the reference build writes for goldenInput() (the gzip codec's 2.5 MiB
 * vector: two frames, one full and one short), by level. They change only
 * with ZSTD_FORMAT.version. An independent WebAssembly build of libzstd 1.5.7
 * (@hpcc-js/wasm-zstd 1.12.5, not a dependency) gave the same digests
 * (docs/zstd-format.md).
 */
export const GOLDEN_ZSTD_SHA256: Readonly<Record<number, string>> = Object.freeze({
  1: 'b5326524fd4fb713e941cf1417694fa62a5e746e35e620cb548b212f663601f9',
  3: '407b3f1a2d59b11afa0268f762e29840034004f3be8b840b933181992f2d089a',
  9: '943c195fb78584f3bd2c6c0849447c4763f7bb53f7d99bd08e8b4e9d34239474',
});
