// A run that could not start, at which stage and with which diagnostics.
import type { Diagnostic } from '../diagnostics';
import { StudioError } from '../util/errors';
import type { RunStage } from './types';

/** A run that could not start; `diagnostics` point at source lines when there are any. */
export class RunError extends StudioError {
  constructor(
    message: string,
    readonly stage: RunStage,
    readonly diagnostics: Diagnostic[] = [],
    opts: { hint?: string; detail?: string; code?: string; cause?: unknown; target?: string } = {},
  ) {
    super(message, {
      code: opts.code ?? `ERUN_${stage.toUpperCase()}`,
      ...(opts.hint ? { hint: opts.hint } : {}),
      ...(opts.detail ? { detail: opts.detail } : {}),
      ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
    });
    this.name = 'RunError';
    this.target = opts.target;
  }
  readonly target: string | undefined;
}

/** A RunError's options carrying what a StudioError cause said (hint, detail, code). */
export function errorOpts(err: unknown, target?: string): { hint?: string; detail?: string; code?: string; cause: unknown; target?: string } {
  const s = err instanceof StudioError ? err : undefined;
  return {
    ...(s?.hint ? { hint: s.hint } : {}),
    ...(s?.detail ? { detail: s.detail } : {}),
    ...(s?.code ? { code: s.code } : {}),
    cause: err,
    ...(target ? { target } : {}),
  };
}
