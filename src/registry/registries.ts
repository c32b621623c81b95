/**
 * Everything one command needs to talk to registries: the transport (TLS,
 * keep-alive agents), the credential store, and one client per registry, so
 * tokens and connections are reused across images and platforms.
 */
import { CredentialStore } from './credentials.js';
import { RegistryClient } from './client.js';
import { RegistryRepository } from './repository.js';
import type { Clock, RetryPolicy } from './retry.js';
import type { NetworkLimits } from './limits.js';
import { Transport } from './transport.js';

export interface RegistryOptions {
  env: NodeJS.ProcessEnv;
  insecureRegistries?: string[];
  caFiles?: string[];
  /** `--creds [HOST=]USER:PASS`, repeatable (one HOST= per registry). */
  creds?: string | string[];
  /** Registries pushed to: plain --creds and OCIASM_USERNAME apply to them. */
  pushRegistries?: string[];
  maxChunkSize?: number;
  retry?: RetryPolicy;
  debug?: (message: string) => void;
  /** Warnings for the reporter (a token realm on another host). */
  warn?: (message: string) => void;
  /** Size caps, deadlines and stall limits (docs/security.md). */
  limits?: Partial<NetworkLimits>;
  /** Time for retries (tests). */
  clock?: Clock;
}

export class Registries {
  readonly transport: Transport;
  readonly credentials: CredentialStore;
  private readonly clients = new Map<string, RegistryClient>();

  constructor(readonly opts: RegistryOptions) {
    this.transport = new Transport({
      env: opts.env, ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}), ...(opts.caFiles ? { caFiles: opts.caFiles } : {}),
      ...(opts.limits?.requestTimeoutMs ? { probeTimeoutMs: opts.limits.requestTimeoutMs } : {}),
    });
    this.credentials = new CredentialStore({ env: opts.env, ...(opts.creds ? { creds: opts.creds } : {}), pushRegistries: opts.pushRegistries ?? [] });
  }

  client(registry: string): RegistryClient {
    let c = this.clients.get(registry);
    if (!c) {
      c = new RegistryClient(registry, {
        transport: this.transport, credentials: this.credentials,
        ...(this.opts.retry ? { retry: this.opts.retry } : {}), ...(this.opts.debug ? { debug: this.opts.debug } : {}),
        ...(this.opts.warn ? { warn: this.opts.warn } : {}), ...(this.opts.limits ? { limits: this.opts.limits } : {}),
        ...(this.opts.clock ? { clock: this.opts.clock } : {}),
      });
      this.clients.set(registry, c);
    }
    return c;
  }

  repository(registry: string, repository: string): RegistryRepository {
    const debug = this.opts.debug;
    return new RegistryRepository(this.client(registry), repository, {
      ...(this.opts.maxChunkSize ? { maxChunkSize: this.opts.maxChunkSize } : {}),
      ...(debug ? { onResume: (d: string, offset: number) => debug(`resuming upload of ${d} at byte ${offset}`) } : {}),
    });
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
