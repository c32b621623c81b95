/**
 * The network limits of the registry client, all stated in docs/security.md
 * ("Network") with how to change them: `Registries`/`RegistryClient` take a
 * `limits` option; `--request-timeout` sets `requestTimeoutMs` from the CLI.
 * Pure data and one function.
 */

export interface NetworkLimits {
  /** A manifest or index read into memory (containerd's 4 MiB). */
  maxManifestBytes: number;
  /** A token server's response. */
  maxTokenBytes: number;
  /** How much of an error body is read for its message; the rest is dropped. */
  maxErrorBodyBytes: number;
  /** A blob read into memory whole (`readBytes`: configs). */
  maxBlobInMemoryBytes: number;
  /** Total time for one request (headers, redirects, body) before the transfer allowance. */
  requestTimeoutMs: number;
  /** The slowest transfer still accepted: a request of N bytes gets `requestTimeoutMs + N / minBytesPerSecond`. */
  minBytesPerSecond: number;
  /** The deadline of a blob download whose size is not known (only the library's `open(digest)` without a size). */
  unknownSizeTimeoutMs: number;
  /** Accepted PATCHes in a row after which the registry's offset has not moved: the upload fails. */
  maxUploadStalls: number;
}

export const DEFAULT_LIMITS: NetworkLimits = {
  maxManifestBytes: 4 << 20,
  maxTokenBytes: 1 << 20,
  maxErrorBodyBytes: 64 << 10,
  maxBlobInMemoryBytes: 16 << 20,
  requestTimeoutMs: 120_000,
  minBytesPerSecond: 64 << 10,
  unknownSizeTimeoutMs: 3_600_000,
  maxUploadStalls: 3,
};

/** The total deadline of one request moving `bytes` (sent or received). */
export function transferDeadline(limits: NetworkLimits, bytes: number, unknownSize: boolean): number {
  if (unknownSize) return Math.max(limits.unknownSizeTimeoutMs, limits.requestTimeoutMs);
  return limits.requestTimeoutMs + Math.ceil((bytes * 1000) / Math.max(1, limits.minBytesPerSecond));
}
