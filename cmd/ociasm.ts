#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * The thin CLI: parse arguments, call the library, report.
 * The shebang's smaller young generation (4 MiB semi-spaces instead of V8's
 * 16) lowers the peak RSS of a large layer build by ~30 MiB and is not slower:
 * the garbage is mostly 1 MiB buffers (docs/bench.md).
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { BuildResult } from '../src/pipeline/build.js';
import { isOciasmError, printable } from '../src/errors.js';
import { removeTrackedSync } from '../src/cas/temp-files.js';
import { byteSize, wholeNumber } from './numbers.js';
import { createReporter, pickMode, type Reporter } from '../src/report/reporter.js';
import { addRegistryOptions, registryCliOptions } from './registry-options.js';

const io = { stdout: process.stdout, stderr: process.stderr };
// Interrupted: remove this process's temp files, spool folders and lock, then exit as a shell expects (128 + signal).
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    removeTrackedSync();
    process.stderr.write(`ociasm: interrupted by ${signal}; temp files removed\n`);
    process.exit(code);
  });
}
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
  process.stderr.write(`ociasm: error[${code}]: ${printable(message)}\n`);
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

// dist/cmd/ociasm.js → the package's own package.json.
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
  .option('-j, --jobs <n>', 'platforms built at once (1 to 1024)', wholeNumber(1, 1024))
  .option('--build-arg <KEY=VAL>', 'set {{args.KEY}} (repeatable)', buildArg, {})
  .option('--extract <dir>', "copy each platform's build outputs to DIR/<platformTag>/")
  .option('--no-cache', 'always run the build steps')
  .option('--no-layer-cache', 'always tar and compress, even when nothing changed')
  .option('--skip-tests', "do not run the images' self-checks")
  .option('--push', 'after a successful build, push every image to its push: references')
  .option('--lock', 'resolve registry bases afresh and write ociasm.lock')
  .option('--cache-dir <dir>', 'the registry blob cache (default $XDG_CACHE_HOME/ociasm/registry)')
  .addOption(new Option('--compression-level <n>', 'gzip level 1-9 (default 5, chosen by the bench)').argParser(wholeNumber(0)))
  .option('--lock-timeout <seconds>', "how long to wait for another build's lock on the layout's index.json (default 120)", wholeNumber(0, 86_400))
  .option('--max-layer-size <size>', 'refuse a base layer that inflates past this size (default 64G; docs/security.md)', byteSize(1))
  .option('--max-inflate-ratio <n>', 'refuse a base layer that inflates more than N times its size, past 64 MiB (default 200; docs/security.md)', wholeNumber(1))
  .option('--json', 'print the result as JSON')
  .option('-v, --verbose', 'print every step')
  // supply chain (docs/supply-chain.md): opt-in, attached as referrers, never changing an image digest
  .option('--sbom', 'attach an SPDX SBOM to every platform manifest')
  .option('--provenance', 'attach SLSA v1 provenance to every image (DSSE-signed with --sign)')
  .option('--sign <key>', 'sign every index and platform manifest (cosign format; password in COSIGN_PASSWORD)');
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
          compressionLevel: opts.compressionLevel, env: process.env, reporter,
          buildArgs: opts.buildArg, extractDir: opts.extract, noCache: opts.cache === false, layerCache: opts.layerCache !== false, skipTests: !!opts.skipTests,
          registry: registryCliOptions(opts, reporter),
          ...(opts.lockTimeout !== undefined ? { lockTimeoutMs: opts.lockTimeout * 1000 } : {}),
          limits: {
            ...(opts.maxLayerSize !== undefined ? { maxLayerBytes: opts.maxLayerSize } : {}),
            ...(opts.maxInflateRatio !== undefined ? { maxInflateRatio: opts.maxInflateRatio } : {}),
          },
          supply: { sbom: !!opts.sbom, provenance: !!opts.provenance, ...(opts.sign ? { signKey: opts.sign } : {}), tool: { name: 'ociasm', version } },
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
    .option('-j, --jobs <n>', 'parallel blob uploads (1 to 64)', wholeNumber(1, 64), 4)
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

// `ociasm index create|append DEST SRC…` (src/commands/index.ts).
const indexCommand = program.command('index').description('make one image index from per-platform images in registries or layouts');
for (const verb of ['create', 'append'] as const) {
  addRegistryOptions(
    indexCommand
      .command(verb)
      .description(verb === 'create'
        ? 'write to DEST one index of the SRC images (each a manifest, its platform from its config, or an index)'
        : "add the SRC images to DEST's index, replacing the entries of their platforms")
      .argument('<dest>', 'where the index goes: HOST/REPO:TAG, docker://…, oci:DIR:REF')
      .argument('<src...>', 'per-platform images or indexes: HOST/REPO@sha256:…, docker://…, oci:DIR:REF')
      .option('-j, --jobs <n>', 'parallel blob copies', (v) => Number(v), 4)
      .option('--json', 'print the result as JSON'),
  ).action(async (dest: string, srcs: string[], opts) =>
    run(opts.json, async () => {
      const reporter = reporterFor(opts);
      try {
        const { indexContext, indexImages } = await import('../src/commands/index.js');
        const ctx = indexContext(dest, process.cwd(), process.env, registryCliOptions(opts, reporter));
        try {
          const r = await indexImages(dest, srcs, ctx, {
            append: verb === 'append', jobs: opts.jobs,
            progress: (message) => reporter.emit({ type: 'step', image: 'index', message }),
          });
          for (const p of r.platforms) reporter.emit({ type: 'line', text: `  ${p.platform} ${p.digest}` });
          reporter.emit({ type: 'line', text: `${r.destination} ${r.digest} (${r.platforms.length} images)` });
          reporter.result(r);
        } finally {
          await ctx.close();
        }
      } finally {
        reporter.close();
      }
    }),
  );
}

// Supply chain: sbom, sign, verify-signature, keygen (src/commands/supply.ts, docs/supply-chain.md).
addRegistryOptions(program.command('sbom').description('print the SBOM of an image: oci:DIR[:REF] or a registry reference')
  .argument('<image>').option('--format <format>', 'spdx (SPDX 2.3 JSON) or cyclonedx (CycloneDX 1.6 JSON)', 'spdx')
  .option('--platform <platform>', 'the platform of an index to describe')).action(async (src: string, opts) => run(false, async () => {
  const { sbomCommand } = await import('../src/commands/supply.js');
  process.stdout.write(await sbomCommand(src, { ...registryCliOptions(opts, reporterFor(opts)), env: process.env, format: opts.format, platform: opts.platform, tool: `ociasm-${version}` }));
}));
addRegistryOptions(program.command('sign').description('sign an image and its platform manifests in cosign\'s format (password in COSIGN_PASSWORD)')
  .argument('<key>').argument('<image>').option('--json', 'print the result as JSON')).action(async (key: string, ref: string, opts) => run(opts.json, async () => {
  const reporter = reporterFor(opts);
  const { signCommand } = await import('../src/commands/supply.js');
  const r = await signCommand(key, ref, { ...registryCliOptions(opts, reporter), env: process.env });
  for (const s of r.signed) reporter.emit({ type: 'line', text: `signed ${s.digest}` });
  reporter.result(r);
  reporter.close();
}));
addRegistryOptions(program.command('verify-signature').description("check an image's cosign signatures (index and every platform) with a public key")
  .argument('<key>').argument('<image>').option('--json', 'print the result as JSON')).action(async (key: string, ref: string, opts) => run(opts.json, async () => {
  const reporter = reporterFor(opts);
  const { verifySignatureCommand } = await import('../src/commands/supply.js');
  const r = await verifySignatureCommand(key, ref, { ...registryCliOptions(opts, reporter), env: process.env });
  for (const v of r.verified) reporter.emit({ type: 'line', text: `verified ${v.digest}${v.platform ? ` (${v.platform})` : ''}` });
  reporter.result(r);
  reporter.close();
}));
program.command('keygen').description('make a P-256 key pair in cosign\'s format: PREFIX.key (encrypted with COSIGN_PASSWORD) and PREFIX.pub')
  .option('--output-key-prefix <prefix>', 'file name prefix', 'cosign').option('--json', 'print the result as JSON').action(async (opts) => run(opts.json, async () => {
    const reporter = reporterFor(opts);
    const { keygenCommand } = await import('../src/commands/supply.js');
    const r = await keygenCommand(opts.outputKeyPrefix, process.env);
    reporter.emit({ type: 'line', text: `wrote ${r.privateKey} and ${r.publicKey}` });
    reporter.result(r);
    reporter.close();
  }));

await program.parseAsync(process.argv);
