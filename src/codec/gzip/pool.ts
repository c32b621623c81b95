/**
 * A small pool of worker_threads that compress one block per task (deflate;
 * zstd uses libzstd's own threads instead, src/codec/zstd).
 * Workers are started lazily, ref'd only while busy (an idle pool never keeps
 * the process alive) and terminated by close().
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { OciasmError } from '../../errors.js';
import type { GzipEngine } from './format.js';
import { WORKER_SOURCE } from './worker-source.js';

export interface DeflateTask {
  engine: GzipEngine;
  level: number;
  /** Transferred to the worker: the caller must not use it afterwards. */
  block: Uint8Array;
  /** Transferred too; must not share an ArrayBuffer with `block`. */
  dict: Uint8Array | null;
  final: boolean;
}

/** What every task carries: its block (and optional dictionary) are transferred, not copied. */
export interface PoolTask {
  block: Uint8Array;
  dict?: Uint8Array | null;
}

export interface DeflateResult {
  out: Uint8Array;
  /** The task's block, handed back for reuse (absent if the worker kept it). */
  block?: Uint8Array;
}

interface Job {
  id: number;
  task: PoolTask;
  resolve: (r: DeflateResult) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

interface Reply {
  id: number;
  out?: Uint8Array;
  block?: Uint8Array;
  error?: string;
}

/** pako's CJS build, loaded with require() inside the eval'd worker. */
const PAKO_PATH = createRequire(import.meta.url).resolve('pako');

function closedError(): OciasmError {
  return new OciasmError('INTERNAL', 'gzip compressor is closed');
}

export class DeflatePool<T extends PoolTask = DeflateTask> {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  /** `source`/`workerData`: the worker body (CommonJS, eval'd) and its data; the deflate worker by default. */
  constructor(
    readonly size: number,
    private readonly source: string = WORKER_SOURCE,
    private readonly workerData: unknown = { pakoPath: PAKO_PATH },
  ) {}

  run(task: T): Promise<DeflateResult> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<DeflateResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(closedError());
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.job?.reject(closedError());
      s.job = null;
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      const { block, dict } = job.task;
      const transfer = [block.buffer as ArrayBuffer];
      if (dict) transfer.push(dict.buffer as ArrayBuffer);
      slot.worker.postMessage({ id: job.id, ...job.task }, transfer);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.source, { eval: true, workerData: this.workerData });
    worker.unref();
    const slot: Slot = { worker, job: null };
    this.slots.push(slot);
    worker.on('message', (m: Reply) => {
      const job = slot.job;
      slot.job = null;
      worker.unref();
      if (!job || job.id !== m.id) {
        this.fail(slot, new Error(`unexpected reply ${m.id}`));
        job?.reject(new OciasmError('INTERNAL', 'gzip worker protocol error'));
      } else if (m.error !== undefined || !m.out) {
        job.reject(new OciasmError('INTERNAL', `gzip worker failed: ${m.error ?? 'no output'}`));
      } else {
        job.resolve(m.block ? { out: m.out, block: m.block } : { out: m.out });
      }
      this.pump();
    });
    worker.on('error', (err) => this.fail(slot, err));
    worker.on('exit', (code) => this.fail(slot, new Error(`exited with code ${code}`)));
    return slot;
  }

  /** A worker died: fail its job, forget it; the next pump() starts a replacement. */
  private fail(slot: Slot, cause: unknown): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    void slot.worker.terminate();
    const job = slot.job;
    slot.job = null;
    job?.reject(new OciasmError('INTERNAL', `gzip worker died: ${String(cause)}`, { cause }));
    this.pump();
  }
}
