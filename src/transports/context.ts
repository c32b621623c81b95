/**
 * A command's TransportContext: the registry clients are made on first use
 * only (undici and TLS are loaded by a dynamic import, so a command with local
 * images only never loads them) and closed by `close()`.
 */
import type { RegistryOptions } from '../registry/registries.js';
import type { Registries } from '../registry/registries.js';
import type { TransportContext } from './index.js';

export interface CommandContext extends TransportContext {
  close(): Promise<void>;
}

export function commandContext(cwd: string, env: NodeJS.ProcessEnv, registry: Omit<RegistryOptions, 'env'>, tmpDir?: string): CommandContext {
  let made: Promise<Registries> | undefined;
  return {
    cwd, env, ...(tmpDir ? { tmpDir } : {}),
    registries: () => (made ??= import('../registry/registries.js').then(({ Registries: R }) => new R({ ...registry, env }))),
    async close() {
      if (made) await (await made).close();
    },
  };
}
