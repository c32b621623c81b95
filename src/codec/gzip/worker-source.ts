/**
 * Body of the deflate worker, kept as a CommonJS string and started with
 * `new Worker(WORKER_SOURCE, { eval: true })`, so it loads the same way from
 * TypeScript sources (vitest) and from tsc output (dist/), with no loader.
 *
 * Message in:  { id, engine, level, block: Uint8Array, dict: Uint8Array|null, final }
 * Message out: { id, out: Uint8Array, block } (both buffers transferred) or { id, error }
 *
 * Memory: a worker allocates almost no JS objects, so its garbage collector
 * seldom runs and dead ArrayBuffers would pile up (tens of MiB per worker).
 * So it keeps nothing: the input block goes back to the caller for reuse, and
 * the native output is zlib's own single chunk, transferred without a copy.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const pako = require(workerData.pakoPath);
const Z_SYNC_FLUSH = 2, Z_FINISH = 4;

function nativeDeflate(t) {
  const opts = {
    level: t.level, windowBits: 15, memLevel: 8, strategy: 0,
    finishFlush: t.final ? Z_FINISH : Z_SYNC_FLUSH,
    // One output chunk (never a pooled Buffer: >= 64 KiB), so no concat and no copy.
    chunkSize: Math.max(65536, t.block.length + (t.block.length >>> 3) + 1024),
  };
  if (t.dict) opts.dictionary = t.dict;
  return [zlib.deflateRawSync(t.block, opts)];
}

function pakoDeflate(t) {
  const opts = { raw: true, level: t.level, windowBits: 15, memLevel: 8, strategy: 0 };
  if (t.dict) opts.dictionary = t.dict;
  const d = new pako.Deflate(opts);
  const chunks = [];
  d.onData = (c) => { chunks.push(c); };
  d.push(t.block, t.final ? Z_FINISH : Z_SYNC_FLUSH);
  if (d.err) throw new Error('pako deflate failed: ' + d.msg + ' (' + d.err + ')');
  return chunks;
}

parentPort.on('message', (t) => {
  try {
    const parts = t.engine === 'native' ? nativeDeflate(t) : pakoDeflate(t);
    let out;
    if (parts.length === 1 && parts[0].buffer.byteLength >= 65536) {
      out = parts[0]; // zlib's own chunk: a whole, unpooled ArrayBuffer
    } else {
      let n = 0;
      for (const p of parts) n += p.length;
      // Copy into a fresh, exactly sized buffer: safe to transfer (never a pool slice).
      out = new Uint8Array(n);
      let o = 0;
      for (const p of parts) { out.set(p, o); o += p.length; }
    }
    const transfer = [out.buffer];
    if (t.block.buffer !== out.buffer) transfer.push(t.block.buffer);
    parentPort.postMessage({ id: t.id, out, block: t.block }, transfer);
  } catch (e) {
    parentPort.postMessage({ id: t.id, error: String((e && e.message) || e) });
  }
});
`;
