/**
 * Body of the deflate worker, kept as a CommonJS string and started with
 * `new Worker(WORKER_SOURCE, { eval: true })`, so it loads the same way from
 * TypeScript sources (vitest) and from tsc output (dist/), with no loader.
 *
 * Message in:  { id, engine, level, block: Uint8Array, dict: Uint8Array|null, final }
 * Message out: { id, out: Uint8Array } (buffer transferred) or { id, error }
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
    let n = 0;
    for (const p of parts) n += p.length;
    // Copy into a fresh, exactly sized buffer: safe to transfer (never a pool slice).
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    parentPort.postMessage({ id: t.id, out }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: t.id, error: String((e && e.message) || e) });
  }
});
`;
