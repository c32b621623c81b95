/**
 * The thin CLI: parse arguments, call the library, report. Started by
 * cmd/ociasm.ts, which turns on Node's compile cache first.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { BuildResult } from '../src/pipeline/build.js';
import { isOciasmError } from '../src/errors.js';
import { createReporter, pickMode, type Reporter } from '../src/report/reporter.js';
import { addRegistryOptions, registryCliOptions } from './registry-options.js';

const io = { stdout: process.stdout, stderr: process.stderr };
// A closed pipe (`ociasm inspect … | head`) ends output quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

function reporterFor(opts: { json?: boolean; verbose?: boolean; debug?: boolean }): Reporter {
  return createReporter(pickMode(!!opts.json, !!process.stderr.isTTY, process.env), io, !!opts.verbose || !!opts.debug);
}

function reportError(e: unknown, json: boolean | undefined): void {
  const code = isOciasmError(e) ? e.code : 'INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  if (json) process.stdout.write(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
  process.stderr.write(`ociasm: error[${code}]: ${message}\n`);
  if (!isOciasmError(e) && e instanceof Error && process.env.OCIASM_DEBUG) process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
}

async function run(json: boolean | undefined, fn: () => Promise<void>): Promise<void> {
  // A rejection nobody awaited is a bug, but the user still gets one line and a non-zero exit, not a stack.
  process.on('unhandledRejection', (e) => reportError(e, false));
  try {
    await fn();
  } catch (e) {
    reportError(e, json);
  }
}

function collect(value: string, prev: string[]): string[] {
  return [...prev, value];
}

function buildArg(value: string, prev: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${value}" is not KEY=VAL`);
  return { ...prev, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function printBuild(reporter: Reporter, r: BuildResult): void {
  for (const img of r.images) {
    reporter.emit({ type: 'line', text: `${img.ref} ${img.index.digest} (${img.platforms.map((p) => p.platform).join(', ')})` });
  }
  reporter.result(r);
}

// dist/cmd/cli.js → the package's own package.json.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('ociasm')
  .version(version)
  .description('Daemonless OCI image assembler: reproducible single-layer multi-platform images')
  .showHelpAfterError();

program
  .command('build')
  .description('build the images of a build file into an OCI image layout')
  .argument('[image...]', 'build only these images')
  .option('-f, --file <file>', 'build file', 'ociasm.yaml')
  .option('-o, --output <dir>', 'OCI layout directory to write', 'oci')
  .option('--platform <platform>', 'build only this platform (repeatable)', collect, [])
  .option('-j, --jobs <n>', 'platforms built at once', (v) => Number(v))
  .option('--build-arg <KEY=VAL>', 'set {{args.KEY}} (repeatable)', buildArg, {})
  .option('--extract <dir>', "copy each platform's build outputs to DIR/<platformTag>/")
  .option('--no-cache', 'always run the build steps')
  .option('--no-layer-cache', 'always tar and compress, even when nothing changed')
  .option('--skip-tests', "do not run the images' self-checks")
  .option('--push', 'after a successful build, push every image to its push: references')
  .option('--lock', 'resolve registry bases afresh and write ociasm.lock')
  .option('--cache-dir <dir>', 'the registry blob cache (default $XDG_CACHE_HOME/ociasm/registry)')
  .addOption(new Option('--compression <kind>', 'layer compression, over the build file (default gzip)').choices(['gzip', 'zstd']))
  .addOption(new Option('--compression-level <n>', 'gzip 1-9 (default 5, chosen by the bench), zstd 1-19 (default 3)').argParser((v) => Number(v)))
  .option('--json', 'print the result as JSON')
  .option('-v, --verbose', 'print every step');
addRegistryOptions(program.commands.find((c) => c.name() === 'build')!)
  .action(async (images: string[], opts) =>
    run(opts.json, async () => {
      const reporter = reporterFor(opts);
      try {
        // Each command loads only its own part of the library: start-up is most of a small command's time.
        const { loadBuildFile } = await import('../src/buildfile/load.js');
        const { build } = await import('../src/pipeline/build.js');
        const buildFile = await loadBuildFile(opts.file);
        const result = await build({
          buildFile, outDir: opts.output, images, platforms: opts.platform, jobs: opts.jobs,
          compressionLevel: opts.compressionLevel, compression: opts.compression, env: process.env, reporter,
          buildArgs: opts.buildArg, extractDir: opts.extract, noCache: opts.cache === false, layerCache: opts.layerCache !== false, skipTests: !!opts.skipTests,
          registry: registryCliOptions(opts, reporter),
        });
        printBuild(reporter, result);
      } finally {
        reporter.close();
      }
    }),
  );

program
  .command('inspect')
  .description('show an image or index in an OCI layout: DIR[:REF]')
  .argument('<layout>', 'DIR or DIR:REF')
  .option('--json', 'print as JSON')
  .action(async (arg: string, opts) =>
    run(opts.json, async () => {
      const reporter = reporterFor(opts);
      const { formatInspect, inspectLayout } = await import('../src/commands/inspect.js');
      const r = await inspectLayout(arg);
      for (const text of formatInspect(r)) reporter.emit({ type: 'line', text });
      reporter.result(r);
      reporter.close();
    }),
  );

addRegistryOptions(
  program
    .command('push')
    .description('push an image or index from an OCI layout to a registry')
    .argument('<layout>', 'DIR or DIR:REF')
    .argument('<dest>', 'registry reference, e.g. 127.0.0.1:5000/app:1.0')
    .option('-j, --jobs <n>', 'parallel blob uploads', (v) => Number(v), 4)
    .option('--json', 'print the result as JSON'),
).action(async (layout: string, dest: string, opts) =>
  run(opts.json, async () => {
    const reporter = reporterFor(opts);
    try {
      const { pushLayout } = await import('../src/commands/push.js');
      reporter.result(await pushLayout(layout, dest, { ...registryCliOptions(opts, reporter), env: process.env, reporter }));
    } finally {
      reporter.close();
    }
  }),
);

await program.parseAsync(process.argv);
