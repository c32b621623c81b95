/**
 * Runs a user's command (no shell) with its output streamed line by line
 * through the reporter, each line prefixed `[image platform]`. A failure is
 * an error giving the exit code (or signal) and the last lines of output.
 */
import { execa } from 'execa';
import { trackGroup, untrackGroup } from '../cas/temp-files.js';
import { type ErrorCode, OciasmError } from '../errors.js';
import type { Reporter } from '../report/reporter.js';

const TAIL_LINES = 20;

export interface RunToolOptions {
  argv: string[];
  cwd: string;
  /** The complete environment of the command. */
  env: NodeJS.ProcessEnv;
  /** `[image platform]` or similar; every line of output is prefixed with it. */
  prefix: string;
  reporter: Reporter;
  /** What this command is, for error messages, e.g. `file: image "app" [linux/arm/v7]: build.run`. */
  what: string;
  errorCode: ErrorCode;
  signal?: AbortSignal;
}

export async function runTool(o: RunToolOptions): Promise<void> {
  const tail: string[] = [];
  const sp = execa(o.argv[0]!, o.argv.slice(1), {
    cwd: o.cwd, env: o.env, extendEnv: false, stdin: 'ignore', all: true, buffer: false, reject: false,
    // Its own process group: a cancel or an interrupted ociasm ends the tool's children too, not only the tool.
    detached: true,
    ...(o.signal ? { cancelSignal: o.signal } : {}),
  });
  const pgid = sp.pid;
  const killGroup = () => {
    if (pgid !== undefined) try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
  };
  if (pgid !== undefined) trackGroup(pgid);
  o.signal?.addEventListener('abort', killGroup, { once: true });
  try {
    for await (const line of sp.iterable({ from: 'all' })) {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      o.reporter.emit({ type: 'log', text: `${o.prefix} ${line}` });
    }
  } catch {
    // the result below says what happened
  }
  const r = await sp;
  o.signal?.removeEventListener('abort', killGroup);
  if (pgid !== undefined) untrackGroup(pgid);
  if (r.exitCode === 0 && !r.failed) return;
  const shown = o.argv.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
  let why: string;
  if (r.isCanceled) why = 'was cancelled after another platform of the image failed';
  else if (r.exitCode !== undefined) why = `exited with code ${r.exitCode}`;
  else if (r.signal) why = `was killed by ${r.signal}`;
  else why = `could not start (${r.code ?? r.originalMessage ?? 'unknown error'}${r.code === 'ENOENT' ? `: "${o.argv[0]}" not found in ${o.cwd} or on PATH` : ''})`;
  const last = tail.length > 0 ? `; last lines:\n${tail.map((l) => `  | ${l}`).join('\n')}` : '';
  throw new OciasmError(o.errorCode, `${o.what}: \`${shown}\` ${why}${last}`);
}
