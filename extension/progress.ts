// Long steps (compile, upload, vmlinux.h) run under a cancellable progress
// notification; cancellation becomes an AbortSignal that core functions honour.
import * as vscode from 'vscode';

export type ProgressReport = (message: string) => void;

export async function withCancellableProgress<T>(
  title: string,
  task: (signal: AbortSignal, report: ProgressReport) => Promise<T>,
  outer?: AbortSignal,
): Promise<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const onOuterAbort = (): void => controller.abort(outer?.reason);
      outer?.addEventListener('abort', onOuterAbort, { once: true });
      const sub = token.onCancellationRequested(() => controller.abort(new Error(`${title}: cancelled`)));
      try {
        return await task(controller.signal, (message) => progress.report({ message }));
      } finally {
        sub.dispose();
        outer?.removeEventListener('abort', onOuterAbort);
      }
    },
  );
}

/** True when err is the result of the user pressing Cancel (or another abort). */
export function isAbort(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  return err instanceof Error && (err.name === 'AbortError' || /\bcancell?ed\b|\baborted\b/i.test(err.message));
}
