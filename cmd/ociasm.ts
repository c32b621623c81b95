#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * The `ociasm` executable. Start-up is most of a small command's time (a
 * push's first request waits for it), so before any of the CLI is loaded:
 * - Node 22.1+ keeps the compiled code of our modules and dependencies in
 *   its compile cache (module.enableCompileCache; NODE_COMPILE_CACHE picks
 *   the folder, NODE_DISABLE_COMPILE_CACHE=1 turns it off). On Node 20 the
 *   function does not exist and nothing happens.
 * - The shebang's smaller young generation (2 MiB semi-spaces instead of
 *   V8's 16) lowers the peak RSS of a large layer build by ~30 MiB (4 MiB
 *   gave most of it; 2 MiB another ~20 MiB on the 200k-file tree) and is not
 *   slower: the garbage is mostly 1 MiB buffers (docs/bench.md).
 * The cache only holds V8 code for files it checks by content hash: it can
 * never change what a command does (docs/bench.md, "Push start-up").
 */
import module from 'node:module';

const enable = (module as { enableCompileCache?: () => unknown }).enableCompileCache;
try {
  enable?.();
} catch {
  // A cache folder that cannot be created only means a slower start.
}
await import('./cli.js');
