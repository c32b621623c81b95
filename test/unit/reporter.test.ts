import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createReporter, pickMode } from '../../src/report/reporter.js';

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return { stream, text: () => chunks.join('') };
}

describe('reporter', () => {
  it('picks TTY progress only on an interactive terminal outside CI', () => {
    expect(pickMode(false, true, {})).toBe('tty');
    expect(pickMode(false, true, { CI: 'true' })).toBe('plain');
    expect(pickMode(false, false, {})).toBe('plain');
    expect(pickMode(true, true, {})).toBe('json');
  });

  it('redraws progress in place on a TTY and keeps result lines on stdout', () => {
    const out = sink(); const err = sink();
    const r = createReporter('tty', { stdout: out.stream, stderr: err.stream });
    r.emit({ type: 'step', image: 'app', platform: 'linux/amd64', message: 'writing layer' });
    r.emit({ type: 'line', text: 'app:1.0 sha256:abc' });
    r.close();
    expect(err.text()).toBe('[app linux/amd64] writing layer\r\x1b[K');
    expect(out.text()).toBe('app:1.0 sha256:abc\n');
  });

  it('prints plain lines without progress, and one JSON document in --json mode', () => {
    const out = sink(); const err = sink();
    const plain = createReporter('plain', { stdout: out.stream, stderr: err.stream });
    plain.emit({ type: 'step', image: 'app', message: 'x' });
    plain.emit({ type: 'line', text: 'done' });
    plain.emit({ type: 'warn', message: 'careful' });
    plain.emit({ type: 'log', text: '[app linux/amd64] compiling' });
    expect(out.text()).toBe('done\n');
    expect(err.text()).toBe('warning: careful\n[app linux/amd64] compiling\n');
    const jout = sink();
    const json = createReporter('json', { stdout: jout.stream, stderr: sink().stream });
    json.emit({ type: 'line', text: 'ignored' });
    json.emit({ type: 'warn', message: 'w' });
    json.result({ images: [] });
    expect(JSON.parse(jout.text())).toEqual({ images: [], warnings: ['w'] });
  });
});
