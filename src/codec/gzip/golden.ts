/**
 * Golden input and digests for the startup self-test of the native engine
 * (and for the format-guard tests). The digests are sha256 of the complete
 * gzip file produced by the reference implementation (pako 3.0.3) for
 * goldenInput() at each level; they only change with GZIP_FORMAT.version.
 */

/** 2.5 MiB: three blocks, so two of them use a preset dictionary. */
export const GOLDEN_INPUT_SIZE = (5 << 20) >> 1;

const WORDS = [
  'layer ', 'image ', 'manifest ', 'sha256:', 'oci ', 'blob ', '{"size":', '}\n',
  'usr/lib/', '\t', 'application/vnd.oci.image.layer.v1.tar+gzip', ' 0644 ',
].map((w) => new TextEncoder().encode(w));

/**
 * Deterministic, moderately compressible bytes: runs of text, noise, zeros and
 * long-distance copies (some across block boundaries), driven by an LCG.
 */
export function goldenInput(size: number = GOLDEN_INPUT_SIZE): Uint8Array {
  const out = new Uint8Array(size);
  let x = 0x2545f491;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  let i = 0;
  while (i < size) {
    const kind = next() >>> 29; // 0..7
    const end = Math.min(size, i + 256 + ((next() >>> 16) % 8192));
    if (kind < 4) {
      while (i < end) {
        const w = WORDS[(next() >>> 16) % WORDS.length]!;
        for (let k = 0; k < w.length && i < end; k++) out[i++] = w[k]!;
      }
    } else if (kind < 6) {
      while (i < end) out[i++] = next() >>> 24;
    } else if (kind === 6) {
      i = end; // zeros
    } else {
      const dist = 1 + ((next() >>> 8) % Math.max(1, Math.min(i, 65536)));
      for (; i < end; i++) out[i] = i >= dist ? out[i - dist]! : 0;
    }
  }
  return out;
}

/** sha256 (hex) of the gzip output for goldenInput(), by level (1..9). */
export const GOLDEN_GZIP_SHA256: Readonly<Record<number, string>> = Object.freeze({
  1: 'd4ccbf8c8ed24af2457f6a892642543f95220983a7186898123f5b550e8dcfe4',
  2: 'd761e69345a90a4bddb4fe399b37cfbb3bdb8d884410cba834b0274583242922',
  3: 'ef34651ac9bbb8f4842920ffd804b7488737a8f13ee5deacbf8d41ed9e41bc66',
  4: 'f7990ae34597f0361ed41ce68b7ab4e8e2d95455b649cc07d03bd21dcbfb1672',
  5: '01a737ed1c486a48d798ffde2f989e0ad179c4d9ec2dc694afcc4e1037116ea4',
  6: '2e8d2cb801bd60d4b219927568bae0320fe7cfc2fc06acf4f0d29ae53de46735',
  7: '2010a3dd7b1286c1cc04305e2849d9b6580d2eb3217fbf4b66628b78ed4ea3a1',
  8: '636b3d6127afa895bebe8a5eb02f21678d77e00ced7b5f17ac3f4d83f4a29373',
  9: 'ff34b3faa76a2ca07c3894fe0af1a85ff5f0bb9635428e656b337a66dc5319d9',
});
