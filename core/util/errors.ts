// Errors that name the cause and the fix. Wrapped with lower-case context at each
// layer (cilium/ebpf style) so the final message reads as a path to the cause.

export interface StudioErrorOptions {
  /** What the user can do about it, e.g. "install clang: apt-get install clang". */
  hint?: string;
  /** Raw detail (a full log, an errno) kept one click away. */
  detail?: string;
  cause?: unknown;
  /** Stable machine-readable code, e.g. "ENOCLANG", "EHOSTKEY". */
  code?: string;
}

export class StudioError extends Error {
  readonly hint: string | undefined;
  readonly detail: string | undefined;
  readonly code: string | undefined;
  constructor(message: string, options: StudioErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StudioError';
    this.hint = options.hint;
    this.detail = options.detail;
    this.code = options.code;
  }
}

/** Prefixes context: wrap(err, 'load program handle_exec') → "load program handle_exec: <cause>". */
export function wrapError(err: unknown, context: string): StudioError {
  const inner = err instanceof StudioError ? err : undefined;
  return new StudioError(`${context}: ${messageOf(err)}`, {
    hint: inner?.hint,
    detail: inner?.detail,
    code: inner?.code,
    cause: err,
  });
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** One or two lines for a person: the message and, if known, what to do. */
export function describeError(err: unknown): string {
  const msg = messageOf(err);
  const hint = err instanceof StudioError ? err.hint : undefined;
  return hint ? `${msg}\n  hint: ${hint}` : msg;
}
