/**
 * Typed errors. Every error that reaches the user carries a stable `code`
 * (for scripts and `--json`) and a message written for people.
 */
export type ErrorCode =
  | 'BUILDFILE_NOT_FOUND'
  | 'BUILDFILE_PARSE'
  | 'BUILDFILE_INVALID'
  | 'TEMPLATE'
  | 'PLATFORM_INVALID'
  | 'ACL_INVALID'
  | 'SOURCE_MISSING'
  | 'PATH_ESCAPES'
  | 'BASE_INVALID'
  | 'BASE_PLATFORM_MISSING'
  | 'LAYOUT_INVALID'
  | 'REF_NOT_FOUND'
  | 'DIGEST_MISMATCH'
  | 'TAR_INVALID'
  | 'GZIP_INVALID'
  | 'LAYER_INVALID'
  | 'ZSTD_INVALID'
  | 'TOOL_MISSING'
  | 'ACCOUNTS_CONFLICT'
  | 'USER_UNKNOWN'
  | 'REFERENCE_INVALID'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_ERROR'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_TLS'
  | 'MANIFEST_UNKNOWN'
  | 'CREDENTIALS_INVALID'
  | 'PUSH_VERIFY'
  | 'LOCK_INVALID'
  | 'TOOLCHAIN_FAILED'
  | 'OUTPUT_MISSING'
  | 'SELFCHECK_FAILED'
  | 'QEMU_MISSING'
  | 'IMAGE_CHAIN'
  | 'BASE_FAILED'
  | 'GRAPH_INVALID'
  | 'IO'
  | 'INTERNAL';

export class OciasmError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OciasmError';
    this.code = code;
  }
}

export function isOciasmError(e: unknown): e is OciasmError {
  return e instanceof OciasmError;
}

/** Wraps a Node system error (ENOENT, EACCES, ...) with the path it concerns. */
export function ioError(what: string, path: string, cause: unknown): OciasmError {
  const sys = cause as NodeJS.ErrnoException;
  const reason = sys && typeof sys.code === 'string' ? sys.code : String(cause);
  return new OciasmError('IO', `${what} ${path}: ${reason}`, { cause });
}
