/**
 * The one channel for output. Three renderings: TTY progress (on stderr,
 * redrawn in place), plain lines (CI, pipes) and `--json` (one document on
 * stdout at the end). Library code only emits events.
 * Every line, step and warning is passed through printable() (errors.ts), so
 * input quoted in a message (entry names, refs) cannot drive the terminal;
 * a tool's own `log` lines pass as they are.
 */
import type { Writable } from 'node:stream';
import { printable } from '../errors.js';

export type ReportEvent =
  | { type: 'step'; image: string; platform?: string; message: string }
  | { type: 'warn'; message: string }
  | { type: 'line'; text: string; json?: unknown }
  /** A tool's own output (the toolchain's lines): stderr in every mode, so stdout stays the result. */
  | { type: 'log'; text: string };

export interface Reporter {
  emit(event: ReportEvent): void;
  /** The command's result: printed as JSON in --json mode, ignored otherwise. */
  result(value: unknown): void;
  close(): void;
}

export type ReporterMode = 'tty' | 'plain' | 'json';

export interface ReporterStreams {
  stdout: Writable;
  stderr: Writable;
}

class PlainReporter implements Reporter {
  constructor(private readonly io: ReporterStreams, private readonly verbose: boolean) {}
  emit(e: ReportEvent): void {
    if (e.type === 'line') this.io.stdout.write(printable(e.text) + '\n');
    else if (e.type === 'log') this.io.stderr.write(e.text + '\n');
    else if (e.type === 'warn') this.io.stderr.write(`warning: ${printable(e.message)}\n`);
    else if (this.verbose) this.io.stderr.write(printable(`[${e.image}${e.platform ? ` ${e.platform}` : ''}] ${e.message}`) + '\n');
  }
  result(): void {}
  close(): void {}
}

class TtyReporter implements Reporter {
  private status = '';
  constructor(private readonly io: ReporterStreams) {}
  private clear(): void {
    if (this.status) this.io.stderr.write('\r\x1b[K');
  }
  emit(e: ReportEvent): void {
    this.clear();
    if (e.type === 'step') {
      this.status = printable(`[${e.image}${e.platform ? ` ${e.platform}` : ''}] ${e.message}`);
      this.io.stderr.write(this.status.slice(0, 200));
      return;
    }
    this.status = '';
    if (e.type === 'line') this.io.stdout.write(printable(e.text) + '\n');
    else if (e.type === 'log') this.io.stderr.write(e.text + '\n');
    else this.io.stderr.write(`warning: ${printable(e.message)}\n`);
  }
  result(): void {}
  close(): void {
    this.clear();
    this.status = '';
  }
}

class JsonReporter implements Reporter {
  private readonly warnings: string[] = [];
  constructor(private readonly io: ReporterStreams) {}
  emit(e: ReportEvent): void {
    if (e.type === 'warn') this.warnings.push(e.message);
    else if (e.type === 'log') this.io.stderr.write(e.text + '\n');
  }
  result(value: unknown): void {
    const doc = this.warnings.length > 0 && value && typeof value === 'object' ? { ...value, warnings: this.warnings } : value;
    this.io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  }
  close(): void {}
}

export function createReporter(mode: ReporterMode, io: ReporterStreams, verbose = false): Reporter {
  if (mode === 'json') return new JsonReporter(io);
  if (mode === 'tty') return new TtyReporter(io);
  return new PlainReporter(io, verbose);
}

/** TTY progress only on an interactive stderr outside CI. */
export function pickMode(json: boolean, isTTY: boolean, env: NodeJS.ProcessEnv): ReporterMode {
  if (json) return 'json';
  return isTTY && !env.CI ? 'tty' : 'plain';
}
