/**
 * The thin CLI: parse arguments, call the library, report. Started by
 * cmd/ociasm.ts, which turns on Node's compile cache first.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { BuildResult } from '../src/pipeline/build.js';
import { isOciasmError, printable } from '../src/errors.js';
import { killGroupsSync, removeTrackedSync } from '../src/cas/temp-files.js';
import { byteSize, wholeNumber } from './numbers.js';
import { createReporter, pickProgress, type ProgressChoice, type Reporter } from '../src/report/reporter.js';
import { addRegistryOptions, registryCliOptions } from './registry-options.js';

const io = { stdout: process.stdout, stderr: process.stderr };
// Interrupted: remove this process's temp files, spool folders and lock, then exit as a shell expects (128 + signal).
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    killGroupsSync();
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

// ---- output: --progress auto|tty|plain|json, --quiet, --json, -v/--debug (docs/output.md) ----
function reporterFor(opts: { json?: boolean; verbose?: boolean; debug?: boolean; progress?: string; quiet?: boolean }): Reporter {
  const choice = (opts.quiet ? 'quiet' : (opts.progress ?? (opts.json ? 'quiet' : 'auto'))) as ProgressChoice;
  return createReporter({
    progress: pickProgress(choice, !!process.stderr.isTTY, process.env), json: !!opts.json,
    verbose: !!opts.verbose || !!opts.debug, columns: () => process.stderr.columns,
  }, io);
}

function progressOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--progress <mode>', 'progress output: rows on a terminal, plain lines, or JSON Lines events on stderr')
      .choices(['auto', 'tty', 'plain', 'json']).default('auto'))
    .option('-q, --quiet', 'no progress; only warnings, errors and the result');
}

function reportError(e: unknown, json: boolean | undefined): void {
  const code = isOciasmError(e) ? e.code : 'INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  if (json) process.stdout.write(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
  process.stderr.write(`ociasm: error[${code}]: ${printable(message, true)}\n`);
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

/** `validate` and `build --dry-run`: the plan, checked as a build checks it, printed. */
async function printPlan(reporter: Reporter, buildFile: import('../src/buildfile/types.js').BuildFile, images: string[], opts: Record<string, any>): Promise<void> {
  const { formatPlan, validatePlan } = await import('../src/commands/validate.js');
  const summary = await validatePlan(buildFile, { images, platforms: opts.platform, buildArgs: opts.buildArg, env: process.env });
  for (const text of formatPlan(summary)) reporter.emit({ type: 'line', text });
  reporter.result(summary);
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
  .option('-f, --file <file>', 'build file ("-" reads standard input)', 'ociasm.yaml')
  .option('-o, --output <dest>', 'where to write: TRANSPORT:… (oci:DIR[:REF], docker://REF, …) or a layout directory', 'oci')
  .option('--load', 'load the image into the Docker Engine (the same as -o docker-daemon:)')
  .option('--platform <platform>', 'build only this platform (repeatable)', collect, [])
  .option('-j, --jobs <n>', 'platforms built at once (1 to 1024)', wholeNumber(1, 1024))
  .option('--build-arg <KEY=VAL>', 'set {{args.KEY}} (repeatable)', buildArg, {})
  .option('--extract <dir>', "copy each platform's build outputs to DIR/<platformTag>/")
  .option('--no-cache', 'always run the build steps')
  .option('--no-layer-cache', 'always tar and compress, even when nothing changed')
  .option('--cache-repo <host/repo>', 'keep the layer cache in this registry repository too, so a fresh CI machine reuses layers compressed before (docs/cache-repo.md)')
  .option('--skip-tests', "do not run the images' self-checks")
  .option('--push', 'after a successful build, push every image to its push: references')
  .option('--merge-index', 'when a registry tag names an index with more platforms, merge into it')
  .option('--replace-index', 'when a registry tag names an index with more platforms, replace it anyway')
  .option('--lock', 'resolve registry bases afresh and write ociasm.lock')
  .option('--cache-dir <dir>', 'the registry blob cache (default $XDG_CACHE_HOME/ociasm/registry)')
  .addOption(new Option('--compression <kind>', 'layer compression, over the build file (default gzip)').choices(['gzip', 'zstd']))
  .addOption(new Option('--compression-level <n>', 'gzip 1-9 (default 5, chosen by the bench), zstd 1-19 (default 3)').argParser(wholeNumber(0)))
  .option('--lock-timeout <seconds>', "how long to wait for another build's lock on the layout's index.json (default 120)", wholeNumber(0, 86_400))
  .option('--max-layer-size <size>', 'refuse a base layer that inflates past this size (default 64G; docs/security.md)', byteSize(1))
  .option('--max-inflate-ratio <n>', 'refuse a base layer that inflates more than N times its size, past 64 MiB (default 1000; docs/security.md)', wholeNumber(1))
  .option('--json', 'print the result as JSON')
  .option('--dry-run', 'check the build file and print the plan; build nothing')
  .option('--metadata-file <file>', 'write the build result per image as buildx does (containerimage.digest, …)')
  .option('--iidfile <file>', "write each image's index digest, one per line")
  .option('-v, --verbose', 'print every step')
  // supply chain (docs/supply-chain.md): opt-in, attached as referrers, never changing an image digest
  .option('--sbom', 'attach an SPDX SBOM to every platform manifest')
  .option('--provenance', 'attach SLSA v1 provenance to every image (DSSE-signed with --sign)')
  .option('--sign <key>', 'sign every index and platform manifest (cosign format; password in COSIGN_PASSWORD)');
progressOptions(program.commands.find((c) => c.name() === 'build')!);
addRegistryOptions(program.commands.find((c) => c.name() === 'build')!)
  .action(async (images: string[], opts) =>
    run(opts.json, async () => {
      const reporter = reporterFor(opts);
      try {
        // Each command loads only its own part of the library: start-up is most of a small command's time.
        const { loadBuildFile } = await import('../src/buildfile/load.js');
        const buildFile = await loadBuildFile(opts.file, { stdin: process.stdin });
        if (opts.dryRun) {
          await printPlan(reporter, buildFile, images, opts);
          return;
        }
        const { build } = await import('../src/pipeline/build.js');
        const { hostPlatform } = await import('../src/codec/platform.js');
        const output = loadOutput(opts);
        indexPolicy(opts);
        const result = await build({
          buildFile, output, cwd: process.cwd(), hostPlatform: hostPlatform(process.arch), images, platforms: opts.platform, jobs: opts.jobs,
          compressionLevel: opts.compressionLevel, compression: opts.compression, env: process.env, reporter,
          buildArgs: opts.buildArg, extractDir: opts.extract, noCache: opts.cache === false, layerCache: opts.layerCache !== false, skipTests: !!opts.skipTests,
          ...(opts.cacheRepo !== undefined ? { cacheRepo: opts.cacheRepo } : {}),
          registry: registryCliOptions(opts, reporter),
          supply: { sbom: !!opts.sbom, provenance: !!opts.provenance, ...(opts.sign ? { signKey: opts.sign } : {}), tool: { name: 'ociasm', version } },
          ...(opts.lockTimeout !== undefined ? { lockTimeoutMs: opts.lockTimeout * 1000 } : {}),
          limits: {
            ...(opts.maxLayerSize !== undefined ? { maxLayerBytes: opts.maxLayerSize } : {}),
            ...(opts.maxInflateRatio !== undefined ? { maxInflateRatio: opts.maxInflateRatio } : {}),
          },
        });
        printBuild(reporter, result);
        if (opts.metadataFile || opts.iidfile) {
          const { writeBuildFiles } = await import('../src/commands/build-files.js');
          await writeBuildFiles(result, { metadataFile: opts.metadataFile, iidFile: opts.iidfile });
        }
      } finally {
        reporter.close();
      }
    }),
  );

addRegistryOptions(
  program
    .command('inspect')
    .description('show an image or index from any source: oci:DIR[:REF], docker://REF, a layout DIR[:REF] or a registry reference')
    .argument('<source>', 'the image to show')
    .option('--raw', 'print the manifest or index bytes exactly')
    .option('--config', 'print the config blob (of --platform, else the host\'s platform)')
    .option('--platform <platform>', 'with --config: the platform to read from an index')
    .option('--json', 'print as JSON'),
).action(async (arg: string, opts) =>
  run(opts.json, async () => {
    const reporter = reporterFor(opts);
    const { commandContext } = await import('../src/transports/context.js');
    const { hostPlatform, parsePlatform } = await import('../src/codec/platform.js');
    const cli = registryCliOptions(opts, reporter);
    const { registryOptionsFromCli } = await import('../src/pipeline/registry-session.js');
    const ctx = commandContext(process.cwd(), process.env, registryOptionsFromCli(cli));
    try {
      const inspect = await import('../src/commands/inspect.js');
      const iopts = { ctx, hostPlatform: hostPlatform(process.arch), ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}) };
      if (opts.raw && opts.config) throw new InvalidArgumentError('--raw and --config exclude each other');
      if (opts.raw || opts.config) {
        process.stdout.write(opts.raw ? await inspect.inspectRaw(arg, iopts) : await inspect.inspectConfig(arg, iopts));
        return;
      }
      const r = await inspect.inspectImage(arg, iopts);
      for (const text of inspect.formatInspect(r)) reporter.emit({ type: 'line', text });
      reporter.result(r);
    } finally {
      await ctx.close();
      reporter.close();
    }
  }),
);

function indexPolicy(opts: { mergeIndex?: boolean; replaceIndex?: boolean }): 'refuse' | 'merge' | 'replace' {
  if (opts.mergeIndex && opts.replaceIndex) throw new InvalidArgumentError('--merge-index and --replace-index exclude each other');
  return opts.mergeIndex ? 'merge' : opts.replaceIndex ? 'replace' : 'refuse';
}

function loadOutput(opts: { load?: boolean; output: string }): string {
  if (!opts.load) return opts.output;
  if (opts.output !== 'oci') throw new InvalidArgumentError('--load writes to the Docker Engine: give it or -o, not both');
  return 'docker-daemon:';
}

addRegistryOptions(
  program
    .command('copy')
    .description('copy an image or index between any two transports (skopeo copy spellings; a bare name is a registry reference)')
    .argument('<source>', 'e.g. docker://HOST/REPO:TAG, oci:DIR:REF')
    .argument('<dest>', 'e.g. oci:DIR:REF, docker://HOST/REPO:TAG')
    .option('--all', 'copy every platform of an index (the default)')
    .option('--platform <platform>', 'copy only this platform (repeatable: several make a new index)', collect, [])
    .option('--merge-index', 'when the destination tag names an index with more platforms, merge into it')
    .option('--replace-index', 'when the destination tag names an index with more platforms, replace it anyway')
    .option('-j, --jobs <n>', 'parallel blob copies (1 to 64)', wholeNumber(1, 64), 4)
    .option('--referrers', 'also copy the OCI 1.1 referrers: SBOMs, provenance, signatures (docs/supply-chain.md)')
    .option('--json', 'print the result as JSON'),
).action(async (src: string, dest: string, opts) =>
  run(opts.json, async () => {
    const reporter = reporterFor(opts);
    try {
      const { copyCommand } = await import('../src/commands/copy.js');
      const { hostPlatform } = await import('../src/codec/platform.js');
      const r = await copyCommand(src, dest, {
        ...registryCliOptions(opts, reporter), env: process.env, cwd: process.cwd(), reporter,
        all: !!opts.all, platforms: opts.platform, hostPlatform: hostPlatform(process.arch), existingIndex: indexPolicy(opts),
        referrers: !!opts.referrers,
      });
      for (const img of r.images) reporter.emit({ type: 'line', text: `copied ${r.source} → ${img.destination} ${img.digest}` });
      reporter.result(r);
    } finally {
      reporter.close();
    }
  }),
);

addRegistryOptions(
  program
    .command('push')
    .description('push an image or index from an OCI layout to a registry (the same as copy oci:DIR[:REF] docker://DEST)')
    .argument('<layout>', 'DIR or DIR:REF')
    .argument('<dest>', 'registry reference, e.g. 127.0.0.1:5000/app:1.0')
    .option('--merge-index', 'when the destination tag names an index with more platforms, merge into it')
    .option('--replace-index', 'when the destination tag names an index with more platforms, replace it anyway')
    .option('-j, --jobs <n>', 'parallel blob uploads (1 to 64)', wholeNumber(1, 64), 4)
    .option('--json', 'print the result as JSON')
    .option('-v, --verbose', 'print every step'),
);
progressOptions(program.commands.find((c) => c.name() === 'push')!).action(async (layout: string, dest: string, opts) =>
  run(opts.json, async () => {
    const reporter = reporterFor(opts);
    try {
      const { pushLayout } = await import('../src/commands/copy.js');
      reporter.result(await pushLayout(layout, dest, {
        ...registryCliOptions(opts, reporter), env: process.env, cwd: process.cwd(), reporter, existingIndex: indexPolicy(opts),
      }));
    } finally {
      reporter.close();
    }
  }),
);

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

addRegistryOptions(program.command('verify').description('rebuild an image from its build file and compare it, per platform, with the published one')
  .argument('<image>', 'oci:DIR[:REF] or a registry reference').option('-f, --file <file>', 'build file', 'ociasm.yaml')
  .option('--image <name>', 'the image of the build file').option('--build-arg <KEY=VAL>', 'as for build (repeatable)', buildArg, {})
  .option('--cache-dir <dir>', 'as for build').option('--json', 'print the result as JSON').option('-v, --verbose', 'print every step'))
  .action(async (ref: string, opts) => run(opts.json, async () => {
    const reporter = reporterFor(opts);
    try {
      const { loadBuildFile } = await import('../src/buildfile/load.js');
      const { verifyImage } = await import('../src/commands/verify.js');
      const r = await verifyImage(ref, {
        buildFile: await loadBuildFile(opts.file), env: process.env, reporter, buildArgs: opts.buildArg,
        ...(opts.image ? { image: opts.image } : {}), registry: registryCliOptions(opts, reporter),
      });
      for (const p of r.platforms) reporter.emit({ type: 'line', text: p.match ? `${p.platform}: reproduced ${p.published}` : `${p.platform}: DIFFERS: ${p.difference}` });
      reporter.result(r);
      const bad = r.platforms.find((p) => !p.match);
      if (bad) {
        // The result (with every platform's verdict) is the output; the error line and exit code say it failed.
        process.stderr.write(`ociasm: error[VERIFY_MISMATCH]: ${ref} does not rebuild to the same digest: ${bad.platform}: ${bad.difference}\n`);
        process.exitCode = 1;
      }
    } finally {
      reporter.close();
    }
  }));

// ---- validate: the build file checked and planned, nothing built ----
program
  .command('validate')
  .description('check a build file and print its plan without building (as build --dry-run)')
  .argument('[image...]', 'plan only these images (NAME or NAME:TAG)')
  .option('-f, --file <file>', 'build file ("-" reads standard input)', 'ociasm.yaml')
  .option('--platform <platform>', 'plan only this platform (repeatable)', collect, [])
  .option('--build-arg <KEY=VAL>', 'set {{args.KEY}} (repeatable)', buildArg, {})
  .option('--json', 'print the plan as JSON')
  .action(async (images: string[], opts) =>
    run(opts.json, async () => {
      const reporter = reporterFor(opts);
      try {
        const { loadBuildFile } = await import('../src/buildfile/load.js');
        await printPlan(reporter, await loadBuildFile(opts.file, { stdin: process.stdin }), images, opts);
      } finally {
        reporter.close();
      }
    }),
  );

// ---- tag / untag: refs of an OCI layout, as crane and oras tag ----
program
  .command('tag')
  .description('give an image of an OCI layout more refs: DIR:REF NEW… (NEW without ":" is a tag of REF\'s name)')
  .argument('<layout>', 'DIR:REF (or DIR when it holds one image)')
  .argument('<new...>', 'new tags or ref names')
  .option('--json', 'print the result as JSON')
  .action(async (layout: string, names: string[], opts) =>
    run(opts.json, async () => {
      const reporter = reporterFor(opts);
      const { tagLayout } = await import('../src/commands/tag.js');
      const r = await tagLayout(layout, names);
      for (const ref of r.tagged) reporter.emit({ type: 'line', text: `tagged ${r.layout}:${ref} ${r.digest}` });
      reporter.result(r);
      reporter.close();
    }),
  );

program
  .command('untag')
  .description('remove refs from an OCI layout (blobs are kept): DIR:REF…')
  .argument('<ref...>', 'DIR:REF')
  .option('--ignore-missing', 'a ref that is not there is not an error')
  .option('--json', 'print the result as JSON')
  .action(async (refs: string[], opts) =>
    run(opts.json, async () => {
      const reporter = reporterFor(opts);
      const { untagLayout } = await import('../src/commands/tag.js');
      const results = await untagLayout(refs, { ignoreMissing: !!opts.ignoreMissing });
      for (const r of results) {
        for (const u of r.untagged) reporter.emit({ type: 'line', text: `untagged ${r.layout}:${u.ref} ${u.digest}` });
        for (const m of r.missing) reporter.emit({ type: 'warn', message: `${r.layout}: no ref "${m}" (ignored)` });
      }
      reporter.result(results);
      reporter.close();
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

await program.parseAsync(process.argv);
