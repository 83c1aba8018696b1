// VS Code glue only: commands, diagnostics, status, webview host. Logic lives in core/.
import * as vscode from 'vscode';

let output: vscode.LogOutputChannel | undefined;

export function activate(context: vscode.ExtensionContext): void {
  output = vscode.window.createOutputChannel('Ringbuf Studio', { log: true });
  context.subscriptions.push(output);
  output.info('Ringbuf Studio activated');
}

export function deactivate(): void {
  output = undefined;
}
