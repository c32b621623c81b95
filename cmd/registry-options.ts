/** The registry flags shared by `build` and `push`, and their mapping to library options. */
import { type Command, InvalidArgumentError } from 'commander';
import type { RegistryCliOptions } from '../src/pipeline/registry-session.js';
import type { Reporter } from '../src/report/reporter.js';

function collect(value: string, prev: string[]): string[] {
  return [...prev, value];
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  return n;
}

export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .option('--creds <[HOST[:PORT]=]USER:PASS>', 'registry credentials (repeatable, one HOST= per registry; without HOST=, for the registries pushed to)', collect, [])
    .option('--insecure-registry <host[:port]>', 'allow plain HTTP or unverified TLS for this registry (repeatable)', collect, [])
    .option('--ca-file <file>', 'trust this CA (PEM) for registries (repeatable)', collect, [])
    .option('--max-chunk-size <bytes>', 'largest upload request; bigger blobs go in chunks (default 32 MiB)', positive)
    .option('--request-timeout <seconds>', 'total time for one registry request, plus 1 s per 64 KiB it moves (default 120)', positive)
    .option('--debug', 'print every registry request (method, URL, status; never credentials)');
}

export function registryCliOptions(opts: Record<string, any>, reporter: Reporter): RegistryCliOptions {
  return {
    ...(opts.creds?.length ? { creds: opts.creds } : {}),
    ...(opts.requestTimeout ? { limits: { requestTimeoutMs: opts.requestTimeout * 1000 } } : {}),
    warn: (message: string) => reporter.emit({ type: 'warn', message }),
    insecureRegistries: opts.insecureRegistry ?? [],
    caFiles: opts.caFile ?? [],
    ...(opts.maxChunkSize ? { maxChunkSize: opts.maxChunkSize } : {}),
    ...(opts.jobs ? { jobs: opts.jobs } : {}),
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    push: !!opts.push,
    ...(opts.mergeIndex || opts.replaceIndex ? { existingIndex: opts.mergeIndex ? 'merge' : 'replace' } : {}),
    lock: !!opts.lock,
    ...(opts.debug ? { debug: (message: string) => reporter.emit({ type: 'debug', message }) } : {}),
  };
}
