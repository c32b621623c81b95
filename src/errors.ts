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
  | 'XZ_INVALID'
  | 'ROOTFS_INVALID'
  | 'TOOL_MISSING'
  | 'ACCOUNTS_CONFLICT'
  | 'USER_UNKNOWN'
  | 'REFERENCE_INVALID'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_ERROR'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_TLS'
  /** A registry response over its size limit (docs/security.md). */
  | 'REGISTRY_TOO_LARGE'
  /** A registry request past its total deadline (docs/security.md). */
  | 'REGISTRY_TIMEOUT'
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
  | 'KEY_INVALID'
  | 'KEY_PASSWORD'
  | 'KEY_EXISTS'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'SBOM_PLATFORM'
  | 'VERIFY_MISMATCH'
  | 'GRAPH_INVALID'
  | 'INDEX_NARROWED'
  | 'ARCHIVE_INVALID'
  | 'DAEMON_UNREACHABLE'
  | 'DAEMON_ERROR'
  | 'IO'
  | 'LIMIT_EXCEEDED'
  | 'CACHE_MISMATCH'
  | 'GRAPH_INVALID'
  | 'LOCK_TIMEOUT'
  | 'USAGE'
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

/** What to do about the system errors a user can fix. */
const IO_HINTS: Record<string, string> = {
  ENOSPC: 'no space left on the file system: free space, or point -o / TMPDIR / --cache-dir at a larger one',
  EDQUOT: 'disk quota exceeded: free space, or point -o / TMPDIR / --cache-dir elsewhere',
  EACCES: 'permission denied: make it writable for this user, or choose another path',
  EPERM: 'operation not permitted: make it writable for this user, or choose another path',
  EROFS: 'read-only file system: choose a path on a writable file system',
  EMFILE: 'too many open files: raise the limit (ulimit -n) or lower --jobs',
  ENFILE: 'too many open files on the system: lower --jobs',
  ELOOP: 'a symlink where none may be (symlinks are never followed there)',
  ENOTDIR: 'a parent of the path is not a directory',
};

/** Wraps a Node system error (ENOENT, EACCES, ...) with the path it concerns and, for the fixable ones, what to do. */
export function ioError(what: string, path: string, cause: unknown): OciasmError {
  const sys = cause as NodeJS.ErrnoException;
  const code = sys && typeof sys.code === 'string' ? sys.code : undefined;
  const reason = code ? (IO_HINTS[code] ? `${code} (${IO_HINTS[code]})` : code) : String(cause);
  return new OciasmError('IO', `${what} ${printable(path)}: ${reason}`, { cause });
}

/** The system error code of an error, if it has one. */
export function errnoOf(e: unknown): string | undefined {
  const c = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
}

/**
 * Text made safe to print on a terminal: C0/C1 control characters (ESC, CR,
 * BEL, ...), DEL and Unicode line/paragraph separators become `\xNN` /
 * `\u{NNNN}` escapes; a line feed is kept only when `keepNewlines`. Every
 * message that reaches the user goes through this once, when it is printed
 * (cmd/ociasm.ts, src/report/), so quoted input can never drive the terminal.
 */
export function printable(text: string, keepNewlines = false): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n' && keepNewlines) return c;
    const n = c.codePointAt(0)!;
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

/**
 * JSON.parse that never quotes the input in its error: V8's message carries
 * the start of the text ("Unexpected token 'T', \"TOPSECRET...\" is not valid
 * JSON"), and the text may be a secret a symlink pointed at, or a password in
 * a docker config. The error says only where parsing stopped.
 */
export function parseJsonText(text: string, what: string, code: ErrorCode, hint = ''): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new OciasmError(code, `${what}: not valid JSON (${jsonErrorPlace(text, e)})${hint}`);
  }
}

function jsonErrorPlace(text: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : '';
  const at = /at position (\d+)/.exec(msg);
  if (at) return `at byte position ${at[1]} of ${text.length}`;
  if (/end of JSON input/i.test(msg)) return `it ends early, after ${text.length} characters`;
  return `an unexpected character; ${text.length} characters`;
}
