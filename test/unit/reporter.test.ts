/**
 * The reporter's renderings: which one a terminal, CI, TERM=dumb and NO_COLOR
 * get; TTY rows (one per image and platform, within the width, other lines
 * above them); plain lines with no escape codes; JSON Lines events; --json.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createReporter, formatBytes, isCI, pickMode, pickProgress, type ReporterOptions } from '../../src/report/reporter.js';

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return { stream, text: () => chunks.join('') };
}

/** What a terminal shows after the output: cursor-up/erase applied to the lines. */
function screen(text: string): string[] {
  const lines: string[] = [];
  let cur = 0;
  const parts = text.split(/(\x1b\[\d+A\r\x1b\[J|\n)/);
  for (const part of parts) {
    const up = /^\x1b\[(\d+)A\r\x1b\[J$/.exec(part);
    if (up) {
      cur -= Number(up[1]);
      lines.length = cur;
    } else if (part === '\n') cur++;
    else if (part !== '') lines[cur] = (lines[cur] ?? '') + part;
  }
  return lines.filter((l) => l !== undefined);
}

function tty(extra: Partial<ReporterOptions> = {}) {
  const out = sink();
  const err = sink();
  let t = 0;
  const clock = { advance: (ms: number) => (t += ms) };
  const r = createReporter({ progress: 'tty', tickMs: 0, now: () => t, columns: () => 40, ...extra }, { stdout: out.stream, stderr: err.stream });
  return { r, out, err, clock };
}

describe('picking a rendering', () => {
  it('rows only on an interactive terminal outside CI, with TERM not dumb and no NO_COLOR', () => {
    expect(pickProgress('auto', true, {})).toBe('tty');
    expect(pickProgress('auto', true, { CI: 'true' })).toBe('plain');
    expect(pickProgress('auto', true, { CI: 'false' })).toBe('tty');
    expect(pickProgress('auto', true, { CI: '0' })).toBe('tty');
    expect(pickProgress('auto', false, {})).toBe('plain');
    expect(pickProgress('auto', true, { TERM: 'dumb' })).toBe('plain');
    expect(pickProgress('auto', true, { NO_COLOR: '1' })).toBe('plain');
    expect(pickProgress('tty', false, {})).toBe('tty');
    expect(pickProgress('tty', true, { NO_COLOR: '1' })).toBe('plain');
    expect(pickProgress('json', true, {})).toBe('json');
    expect(isCI({ CI: 'false' })).toBe(false);
    expect(isCI({ CI: '1' })).toBe(true);
    expect(pickMode(true, true, {})).toBe('json');
  });
});

describe('TTY rows', () => {
  it('one row per image and platform with step, bytes, rate and elapsed; other lines above; result lines on stdout', () => {
    const { r, out, err, clock } = tty({ columns: () => 100 });
    r.emit({ type: 'step', image: 'app', platform: 'linux/amd64', message: 'writing layer' });
    r.emit({ type: 'step', image: 'app', platform: 'linux/arm/v7', message: 'injecting files' });
    clock.advance(2000);
    r.emit({ type: 'step', image: 'app', platform: 'linux/amd64', message: 'writing layer', bytes: 0 });
    clock.advance(1000);
    r.emit({ type: 'step', image: 'app', platform: 'linux/amd64', message: 'writing layer', bytes: 3 * 1024 * 1024 });
    r.emit({ type: 'log', text: '[app linux/arm/v7] compiling' });
    r.emit({ type: 'done', image: 'app', platform: 'linux/arm/v7', message: 'done 0123456789ab' });
    r.emit({ type: 'line', text: 'app:1.0 sha256:abc' });
    r.close();
    expect(out.text()).toBe('app:1.0 sha256:abc\n');
    expect(screen(err.text())).toEqual([
      '[app linux/arm/v7] compiling',
      '• app linux/amd64 writing layer  3.0 MiB  3.0 MiB/s  3.0s',
      '✓ app linux/arm/v7 done 0123456789ab  3.0s',
    ]);
  });

  it('stays within a 40-column terminal: every drawn line is cut below the width', () => {
    const { r, err } = tty();
    r.emit({ type: 'step', image: 'corpusops/ubuntu:18.04_preprovision', platform: 'linux/arm64/v8', message: 'applying base layer 0123456789ab' });
    r.emit({ type: 'step', image: 'b', platform: 'linux/amd64', message: 'writing layer', bytes: 123456789 });
    r.close();
    const rows = screen(err.text());
    expect(rows).toHaveLength(2);
    for (const row of rows) expect([...row].length).toBeLessThanOrEqual(39);
    expect(rows[0]).toMatch(/^• corpusops\/ubuntu:18\.04_prepro.*…$/);
    expect(rows[1]).toMatch(/^• b linux\/amd64 writing layer/);
  });

  it('-v prints each step above the rows; debug lines only with -v', () => {
    const { r, err } = tty({ verbose: true, columns: () => 80 });
    r.emit({ type: 'step', image: 'app', message: 'resolving base scratch' });
    r.emit({ type: 'debug', message: 'GET https://r/v2/ 200' });
    r.close();
    expect(screen(err.text())).toEqual(['[app] resolving base scratch', 'debug: GET https://r/v2/ 200', '• app resolving base scratch  0.0s']);
    const quiet = tty();
    quiet.r.emit({ type: 'debug', message: 'hidden' });
    quiet.r.close();
    expect(quiet.err.text()).toBe('');
  });

  it('a message cannot drive the terminal', () => {
    const { r, err } = tty({ columns: () => 80 });
    r.emit({ type: 'step', image: 'a\x1b[2Jb', message: 'x\ry' });
    r.close();
    expect(err.text().replace(/\x1b\[\d+A\r\x1b\[J/g, '')).not.toMatch(/\x1b|\r/);
  });
});

describe('line renderings', () => {
  it('plain: lines, no escape codes; steps only with -v', () => {
    const out = sink(); const err = sink();
    const plain = createReporter({ progress: 'plain' }, { stdout: out.stream, stderr: err.stream });
    plain.emit({ type: 'step', image: 'app', message: 'x' });
    plain.emit({ type: 'line', text: 'done' });
    plain.emit({ type: 'warn', message: 'careful' });
    plain.emit({ type: 'log', text: '[app linux/amd64] compiling' });
    plain.emit({ type: 'done', image: 'app' });
    expect(out.text()).toBe('done\n');
    expect(err.text()).toBe('warning: careful\n[app linux/amd64] compiling\n');
    const verr = sink();
    const v = createReporter({ progress: 'plain', verbose: true }, { stdout: sink().stream, stderr: verr.stream });
    v.emit({ type: 'step', image: 'app', platform: 'linux/amd64', message: 'writing layer', bytes: 2048 });
    v.emit({ type: 'done', image: 'app', platform: 'linux/amd64' });
    expect(verr.text()).toBe('[app linux/amd64] writing layer 2.0 KiB\n[app linux/amd64] done\n');
    expect(verr.text()).not.toContain('\x1b');
  });

  it('json: one JSON object per event on stderr; --json: one document on stdout with the warnings', () => {
    const out = sink(); const err = sink();
    const j = createReporter({ progress: 'json', json: true, now: () => 0 }, { stdout: out.stream, stderr: err.stream });
    j.emit({ type: 'step', image: 'app', platform: 'linux/amd64', message: 'writing layer', bytes: 5 });
    j.emit({ type: 'warn', message: 'w' });
    j.emit({ type: 'line', text: 'not printed with --json' });
    j.result({ images: [] });
    expect(err.text().trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { time: '1970-01-01T00:00:00.000Z', type: 'step', image: 'app', platform: 'linux/amd64', message: 'writing layer', bytes: 5 },
      { time: '1970-01-01T00:00:00.000Z', type: 'warn', message: 'w' },
    ]);
    expect(JSON.parse(out.text())).toEqual({ images: [], warnings: ['w'] });
    const q = sink();
    const quiet = createReporter({ progress: 'quiet' }, { stdout: q.stream, stderr: q.stream });
    quiet.emit({ type: 'step', image: 'a', message: 'x' });
    quiet.emit({ type: 'log', text: 'tool output' });
    quiet.emit({ type: 'line', text: 'a:1 sha256:x' });
    expect(q.text()).toBe('a:1 sha256:x\n');
  });

  it('formats bytes in binary units', () => {
    expect([formatBytes(0), formatBytes(1536), formatBytes(5 * 1024 * 1024), formatBytes(3 * 1024 ** 3)]).toEqual(['0 B', '1.5 KiB', '5.0 MiB', '3.00 GiB']);
  });
});
