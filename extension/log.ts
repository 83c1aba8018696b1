// One logger for the whole extension (rust-analyzer style): everything goes to one
// LogOutputChannel; user-facing notices stay short and point to it.
import * as vscode from 'vscode';
import { StudioError, describeError, messageOf } from '../core/util/errors';

export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('Ringbuf Studio', { log: true });
  }

  info(message: string): void {
    this.channel.info(message);
  }
  warn(message: string): void {
    this.channel.warn(message);
  }
  debug(message: string): void {
    this.channel.debug(message);
  }

  /** Logs the whole error (message, hint, raw detail) and returns the one-line version. */
  error(context: string, err: unknown): string {
    this.channel.error(`${context}: ${describeError(err)}`);
    const detail = err instanceof StudioError ? err.detail : undefined;
    if (detail) this.channel.error(detail);
    else if (err instanceof Error && !(err instanceof StudioError) && err.stack) this.channel.debug(err.stack);
    return `${context}: ${messageOf(err)}`;
  }

  /** A short notification (cause + what to do) with the log one click away. */
  async notifyError(context: string, err: unknown): Promise<void> {
    const line = this.error(context, err);
    const hint = err instanceof StudioError && err.hint ? ` — ${err.hint}` : '';
    const choice = await vscode.window.showErrorMessage(`${line}${hint}`, 'Show Log');
    if (choice === 'Show Log') this.channel.show(true);
  }

  /** A notification with no buttons: nothing to wait for (it resolves when closed), and it is logged too. */
  tell(level: 'info' | 'warn', message: string): void {
    if (level === 'info') this.info(message);
    else this.warn(message);
    const text = `Ringbuf Studio: ${message}`;
    this.background('show a notification', level === 'info' ? vscode.window.showInformationMessage(text) : vscode.window.showWarningMessage(text));
  }

  /** For work nobody awaits (event handlers, notifications' buttons): a failure is logged with its context, never lost. */
  background(context: string, work: Thenable<unknown>): void {
    work.then(undefined, (err: unknown) => this.error(context, err));
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
