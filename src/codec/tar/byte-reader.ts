/**
 * Pull-based reader over an async iterable of byte chunks. Holds at most one
 * source chunk at a time (plus what a caller explicitly asks to collect), so
 * memory stays bounded whatever the archive size and however input is split.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private current: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Bytes consumed so far (the archive offset of the next byte). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.iterator = Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : (async function* () { yield* source; })();
  }

  /** Makes `current` non-empty; false at end of input. */
  private async fill(): Promise<boolean> {
    while (this.current.length === 0) {
      if (this.ended) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      const chunk = next.value;
      this.current = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    return true;
  }

  /** Takes up to `max` bytes from the current chunk (a view, no copy); empty at EOF. */
  async take(max: number): Promise<Buffer> {
    if (max <= 0 || !(await this.fill())) return Buffer.alloc(0);
    const piece = this.current.subarray(0, max);
    this.current = this.current.subarray(piece.length);
    this.offset += piece.length;
    return piece;
  }

  /** Exactly `n` bytes, or fewer only if input ends first. */
  async read(n: number): Promise<Buffer> {
    const first = await this.take(n);
    if (first.length === n || first.length === 0) return first;
    const pieces = [first];
    let got = first.length;
    while (got < n) {
      const piece = await this.take(n - got);
      if (piece.length === 0) break;
      pieces.push(piece);
      got += piece.length;
    }
    return Buffer.concat(pieces, got);
  }

  /** Discards up to `n` bytes; returns how many were discarded. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      const piece = await this.take(n - skipped);
      if (piece.length === 0) break;
      skipped += piece.length;
    }
    return skipped;
  }

  /** Lets the source release its resources (file handles, sockets). */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.iterator.return?.();
    }
  }
}
