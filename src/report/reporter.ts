/**
 * The one channel for output. Library code only emits events; the renderings:
 * - `tty`: one row per image and platform on stderr (step, bytes, rate,
 *   elapsed), redrawn in place within the terminal's width; every other line
 *   (warnings, tool output, -v/--debug lines) prints above the rows;
 * - `plain`: lines only (CI, pipes, TERM=dumb, NO_COLOR): no escape codes at all;
 * - `json`: JSON Lines events on stderr, one object per event (`--progress json`);
 * - `quiet`: only warnings and the result.
 * Independently, `--json` prints the command's result as one JSON document on
 * stdout at the end (and the result lines are then not printed).
 * Every line, step and warning is passed through printable() (errors.ts), so
 * input quoted in a message (entry names, refs) cannot drive the terminal;
 * a tool's own `log` lines pass as they are, except in the TTY rendering.
 */
import type { Writable } from 'node:stream';
import { printable } from '../errors.js';

export type ReportEvent =
  /** A platform's (or a push's) current step; `bytes` so far when the step writes or sends data. */
  | { type: 'step'; image: string; platform?: string; message: string; bytes?: number }
  /** A row is finished (its image and platform are built and checked). */
  | { type: 'done'; image: string; platform?: string; message?: string }
  | { type: 'warn'; message: string }
  /** `--debug` detail (registry requests): shown with -v/--debug only. */
  | { type: 'debug'; message: string }
  | { type: 'line'; text: string; json?: unknown }
  /** A tool's own output (the toolchain's lines): stderr in every mode, so stdout stays the result. */
  | { type: 'log'; text: string };

export interface Reporter {
  emit(event: ReportEvent): void;
  /** The command's result: printed as JSON with --json, ignored otherwise. */
  result(value: unknown): void;
  close(): void;
}

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';
export type ProgressChoice = ProgressMode | 'auto';
/** Kept for callers that picked one of the three original renderings. */
export type ReporterMode = 'tty' | 'plain' | 'json';

export interface ReporterStreams {
  stdout: Writable;
  stderr: Writable;
}

export interface ReporterOptions {
  progress: ProgressMode;
  /** `--json`: the result as one JSON document on stdout. */
  json?: boolean;
  /** `-v` / `--debug`: print every step and debug line. */
  verbose?: boolean;
  /** The terminal's width in columns (read at each redraw); default 80. */
  columns?: () => number | undefined;
  /** The clock, in milliseconds (tests pass their own). */
  now?: () => number;
  /** Redraw the rows this often while nothing happens, for the elapsed time (0: never). Default 1000. */
  tickMs?: number;
}

const MiB = 1024 * 1024;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / 1024 / MiB).toFixed(2)} GiB`;
}

function label(image: string, platform?: string): string {
  return printable(`${image}${platform ? ` ${platform}` : ''}`);
}

/** Line-oriented renderings: plain, json lines, quiet. */
class LineReporter implements Reporter {
  private readonly warnings: string[] = [];
  constructor(private readonly io: ReporterStreams, private readonly o: ReporterOptions) {}
  emit(e: ReportEvent): void {
    const mode = this.o.progress;
    if (e.type === 'warn') this.warnings.push(e.message);
    if (mode === 'json') {
      if (e.type === 'line' && !this.o.json) this.io.stdout.write(printable(e.text) + '\n');
      else if (e.type !== 'line') this.io.stderr.write(JSON.stringify({ time: new Date(this.now()).toISOString(), ...e }) + '\n');
      return;
    }
    if (e.type === 'line') {
      if (!this.o.json) this.io.stdout.write(printable(e.text) + '\n');
    } else if (e.type === 'warn') this.io.stderr.write(`warning: ${printable(e.message)}\n`);
    else if (mode === 'quiet') return;
    else if (e.type === 'log') this.io.stderr.write(e.text + '\n');
    else if (!this.o.verbose) return;
    else if (e.type === 'debug') this.io.stderr.write(`debug: ${printable(e.message)}\n`);
    else if (e.type === 'step') this.io.stderr.write(`[${label(e.image, e.platform)}] ${printable(e.message)}${e.bytes !== undefined ? ` ${formatBytes(e.bytes)}` : ''}\n`);
    else this.io.stderr.write(`[${label(e.image, e.platform)}] ${printable(e.message ?? 'done')}\n`);
  }
  private now(): number {
    return (this.o.now ?? Date.now)();
  }
  result(value: unknown): void {
    if (!this.o.json) return;
    const doc = this.warnings.length > 0 && value && typeof value === 'object' && !Array.isArray(value) ? { ...value, warnings: this.warnings } : value;
    this.io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  }
  close(): void {}
}

interface Row {
  key: string;
  step: string;
  bytes?: number;
  /** When the current byte count started (for the rate). */
  bytesSince?: number;
  started: number;
  ended?: number;
}

/** One row per image and platform, redrawn in place; other output above the rows. */
class TtyReporter implements Reporter {
  private readonly rows: Row[] = [];
  private drawn = 0;
  private readonly warnings: string[] = [];
  private readonly timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly io: ReporterStreams, private readonly o: ReporterOptions) {
    const tick = o.tickMs ?? 1000;
    if (tick > 0) {
      this.timer = setInterval(() => this.redraw(), tick);
      this.timer.unref();
    }
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private width(): number {
    const c = this.o.columns?.();
    return c && c > 10 ? c : 80;
  }

  /** A row's text within `width` columns: label and step first, then bytes, rate, elapsed as they fit. */
  rowText(r: Row, width: number): string {
    const end = r.ended ?? this.now();
    const secs = (end - r.started) / 1000;
    const tail: string[] = [];
    if (r.bytes !== undefined) {
      tail.push(formatBytes(r.bytes));
      const dt = (end - (r.bytesSince ?? r.started)) / 1000;
      if (dt > 0.05 && r.ended === undefined) tail.push(`${formatBytes(Math.round(r.bytes / dt))}/s`);
    }
    tail.push(`${secs.toFixed(1)}s`);
    const head = `${r.ended !== undefined ? '✓' : '•'} ${r.key} ${r.step}`;
    const max = width - 1; // never the last column: some terminals wrap there
    let text = head;
    for (let i = 0; i < tail.length; i++) {
      const rest = `  ${tail.slice(i).join('  ')}`;
      if (head.length + rest.length <= max) {
        text = head + rest;
        break;
      }
    }
    return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
  }

  private erase(): void {
    if (this.drawn === 0) return;
    this.io.stderr.write(`\x1b[${this.drawn}A\r\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (this.closed || this.rows.length === 0) return;
    const width = this.width();
    // Rows beyond the terminal's height would scroll away; keep the last ones.
    const shown = this.rows.slice(-20);
    this.io.stderr.write(shown.map((r) => this.rowText(r, width)).join('\n') + '\n');
    this.drawn = shown.length;
  }

  private redraw(): void {
    if (this.closed || this.rows.length === 0) return;
    this.erase();
    this.draw();
  }

  /** Writes a finished line above the rows. */
  private above(stream: Writable, text: string): void {
    this.erase();
    stream.write(text + '\n');
    this.draw();
  }

  private row(image: string, platform?: string): Row {
    const key = label(image, platform);
    let r = this.rows.find((x) => x.key === key);
    if (!r) {
      r = { key, step: '', started: this.now() };
      this.rows.push(r);
    }
    return r;
  }

  emit(e: ReportEvent): void {
    switch (e.type) {
      case 'step': {
        const r = this.row(e.image, e.platform);
        const step = printable(e.message);
        if (step !== r.step) {
          r.step = step;
          delete r.bytes;
          delete r.bytesSince;
        }
        if (e.bytes !== undefined) {
          r.bytesSince ??= this.now();
          r.bytes = e.bytes;
        }
        delete r.ended;
        if (this.o.verbose) this.above(this.io.stderr, `[${r.key}] ${step}`);
        else this.redraw();
        return;
      }
      case 'done': {
        const r = this.row(e.image, e.platform);
        r.ended = this.now();
        r.step = printable(e.message ?? 'done');
        delete r.bytesSince;
        this.redraw();
        return;
      }
      case 'line':
        if (!this.o.json) this.above(this.io.stdout, printable(e.text));
        return;
      case 'log':
        this.above(this.io.stderr, printable(e.text));
        return;
      case 'debug':
        if (this.o.verbose) this.above(this.io.stderr, `debug: ${printable(e.message)}`);
        return;
      case 'warn':
        this.warnings.push(e.message);
        this.above(this.io.stderr, `warning: ${printable(e.message)}`);
    }
  }

  result(value: unknown): void {
    if (!this.o.json) return;
    this.erase();
    const doc = this.warnings.length > 0 && value && typeof value === 'object' && !Array.isArray(value) ? { ...value, warnings: this.warnings } : value;
    this.io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    this.draw();
  }

  /** The rows stay on screen as the build's summary. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.redraw();
    this.closed = true;
  }
}

export function createReporter(mode: ReporterMode | ReporterOptions, io: ReporterStreams, verbose = false): Reporter {
  const o: ReporterOptions = typeof mode === 'string'
    ? (mode === 'json' ? { progress: 'quiet', json: true, verbose } : { progress: mode, verbose, tickMs: 0 })
    : mode;
  return o.progress === 'tty' ? new TtyReporter(io, o) : new LineReporter(io, o);
}

/** True when the environment says CI: `CI` set to anything but empty, `0` or `false`. */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && !/^(0|false|no|off)$/i.test(v);
}

/**
 * The progress rendering. `auto`: rows on an interactive stderr, outside CI,
 * with TERM not `dumb` and NO_COLOR unset; else plain lines. Even an asked-for
 * `tty` is plain under TERM=dumb or NO_COLOR: they get no escape codes.
 */
export function pickProgress(choice: ProgressChoice, isTTY: boolean, env: NodeJS.ProcessEnv): ProgressMode {
  const noEscapes = env.TERM === 'dumb' || (env.NO_COLOR !== undefined && env.NO_COLOR !== '');
  if (choice === 'tty') return noEscapes ? 'plain' : 'tty';
  if (choice !== 'auto') return choice;
  return isTTY && !isCI(env) && !noEscapes ? 'tty' : 'plain';
}

/** The original three-way choice: `--json` alone, else auto. */
export function pickMode(json: boolean, isTTY: boolean, env: NodeJS.ProcessEnv): ReporterMode {
  if (json) return 'json';
  return pickProgress('auto', isTTY, env) === 'tty' ? 'tty' : 'plain';
}
