/**
 * One error type for the whole tool. `kind` decides the exit code the CLI uses:
 * usage errors (bad flags, bad class names) exit 2, runtime failures exit 1.
 */
export type ErrorKind = 'usage' | 'runtime';

export class OccludeError extends Error {
  readonly kind: ErrorKind;
  readonly file?: string;
  constructor(message: string, opts: { kind?: ErrorKind; file?: string; cause?: unknown } = {}) {
    // a file name with a newline would cut the one-line message short: it is shown quoted
    const quoted = opts.file !== undefined && shownPath(opts.file) !== opts.file ? message.split(opts.file).join(shownPath(opts.file)) : message;
    super(quoted, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OccludeError';
    this.kind = opts.kind ?? 'runtime';
    this.file = opts.file;
  }
  get exitCode(): number {
    return this.kind === 'usage' ? 2 : 1;
  }
}

/**
 * sharp-style message: `Expected positive integer for patch but received 0`, optionally followed by why
 * (`: ...`). Text is shown quoted (`received "0"`), lists and objects as JSON. The validators are in options.ts.
 */
export function invalidParameter(name: string, expected: string, actual: unknown, why?: string): OccludeError {
  const shown = typeof actual === 'string' || (typeof actual === 'object' && actual !== null) ? JSON.stringify(actual) : String(actual);
  return new OccludeError(`Expected ${expected} for ${name} but received ${shown}${why ? `: ${why}` : ''}`, { kind: 'usage' });
}

export function usageError(message: string, file?: string): OccludeError {
  return new OccludeError(message, { kind: 'usage', file });
}

export function runtimeError(message: string, file?: string, cause?: unknown): OccludeError {
  return new OccludeError(message, { kind: 'runtime', file, cause });
}

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * A path as shown in one-line messages: as it is, or JSON-quoted (`"new\nline.jpg"`) when it holds
 * a control character, which would break the line or drive the terminal.
 */
export function shownPath(p: string): string {
  if (!CONTROL.test(p)) return p;
  return JSON.stringify(p).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** `file: message`, unless the message names the file already; the name quoted when it holds control characters. */
export function withName(message: string, file: string): string {
  return message.includes(shownPath(file)) ? message : `${shownPath(file)}: ${message}`;
}

/** Why a file could not be written or created, from its errno code: `read-only file system`, `no space left on device`... */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    ENOENT: 'its folder does not exist',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a part of its path is not a folder',
  };
  return (code && reasons[code]) ?? messageOf(err);
}

/** A write failure that every later write would hit too (full disk, quota, read-only mount): the run stops. */
export function isFatalWriteError(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'EROFS') return true;
  }
  return false;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
