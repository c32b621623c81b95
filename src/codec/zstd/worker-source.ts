/**
 * Body of the zstd worker, a CommonJS string started with
 * `new Worker(ZSTD_WORKER_SOURCE, { eval: true })` (as the deflate worker).
 * It loads the pinned WebAssembly build once, then compresses one block per
 * message into one frame with ZSTD_compress().
 *
 * Message in:  { id, level, block: Uint8Array }
 * Message out: { id, out: Uint8Array, block } (both transferred) or { id, error }
 */
export const ZSTD_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const zstd = require(workerData.zstdPath);
const ready = zstd.init();
parentPort.on('message', (t) => {
  ready.then(() => {
    const out = zstd.compress(t.block, t.level); // a fresh, exactly sized copy out of the wasm heap
    parentPort.postMessage({ id: t.id, out, block: t.block }, [out.buffer, t.block.buffer]);
  }).catch((e) => {
    parentPort.postMessage({ id: t.id, error: String((e && e.message) || e) });
  });
});
`;
