// Command registration in one place: every `ringbufStudio.<id>` command reports its
// failure (log + short notification) instead of rejecting into the void, and a command
// that compiles or runs names why it is off in Restricted Mode.
import * as vscode from 'vscode';
import type { Log } from './log';
import { allowedByTrust } from './trust';

export interface CommandOptions {
  /**
   * Set for commands that compile or run something: the one line that says why the
   * command is off in Restricted Mode (e.g. "it loads this folder's program into the kernel as root").
   */
  restricted?: { action: string; why: string };
}

export type RegisterCommand = (id: string, run: (...args: unknown[]) => unknown, options?: CommandOptions) => void;

export function commandRegistrar(own: (d: vscode.Disposable) => void, log: Log): RegisterCommand {
  return (id, run, options = {}) => {
    own(
      vscode.commands.registerCommand(`ringbufStudio.${id}`, async (...args: unknown[]) => {
        try {
          if (options.restricted && !(await allowedByTrust(options.restricted.action, options.restricted.why))) return undefined;
          return await run(...args);
        } catch (err) {
          await log.notifyError(id, err);
          return undefined;
        }
      }),
    );
  };
}
