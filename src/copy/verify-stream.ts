/**
 * A blob reader that checks a source's bytes against their descriptor while
 * they stream to a destination, instead of in a separate read before (one
 * read and one sha256 per blob instead of two). Rules:
 * - The digest is checked when the last byte has been hashed and before that
 *   byte's chunk is handed to the destination: a destination never receives
 *   the whole of a blob whose bytes do not match, so none can commit it (a
 *   registry's final PUT is never sent or never completes; a layout's temp
 *   file is never renamed; an archive fails and is removed).
 * - A stream that ends short of its range, or a source longer than the
 *   descriptor, is DIGEST_MISMATCH too.
 * - Ranges may be re-read (a resumed upload starts again from the offset the
 *   registry reports): the hash state is kept at the end of every range read
 *   (`Hash.copy()`), and a range that starts elsewhere first hashes the bytes
 *   from the nearest earlier checkpoint without handing them out.
 */
import { createHash, type Hash } from 'node:crypto';
import { OciasmError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { BlobReader } from '../transports/types.js';

export const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function verifyingReader(raw: BlobReader, desc: Pick<Descriptor, 'digest' | 'size'>, label: string): BlobReader {
  const size = desc.size;
  /** Hash states by offset; never updated in place (every reader copies one). */
  const checkpoints = new Map<number, Hash>([[0, createHash('sha256')]]);
  const mismatch = (why: string) =>
    new OciasmError('DIGEST_MISMATCH', `${label}: blob ${desc.digest} ${why}; nothing of it was committed`);
  const nearest = (offset: number): [number, Hash] => {
    let best = 0;
    for (const at of checkpoints.keys()) if (at <= offset && at > best) best = at;
    return [best, checkpoints.get(best)!];
  };
  const check = (hash: Hash) => {
    const actual = `sha256:${hash.copy().digest('hex')}`;
    if (actual !== desc.digest) throw mismatch(`does not match its digest (its ${size} bytes are ${actual})`);
  };
  return {
    size,
    openAt: (offset, end) => (async function* () {
      const [from, state] = nearest(offset);
      const hash = state.copy();
      let pos = from;
      const take = (chunk: Uint8Array, last: number) => {
        if (pos + chunk.length > last) throw mismatch(`is longer than its descriptor's ${size} bytes`);
        hash.update(chunk);
        pos += chunk.length;
      };
      if (pos < offset) for await (const chunk of raw.openAt(pos, offset)) take(chunk, offset);
      if (pos !== offset) throw mismatch(`has only ${pos} bytes, its descriptor says ${size}`);
      if (end >= size && size === 0) check(hash);
      for await (const chunk of raw.openAt(offset, end)) {
        take(chunk, end);
        if (pos === size) check(hash);
        yield chunk;
      }
      if (pos !== end) throw mismatch(`has only ${pos} bytes, its descriptor says ${size}`);
      if (!checkpoints.has(end)) checkpoints.set(end, hash);
    })(),
  };
}
