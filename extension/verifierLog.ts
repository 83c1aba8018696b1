// The full verifier / loader log, one click away: a read-only virtual document.
import * as vscode from 'vscode';

export const verifierLogScheme = 'ringbuf-studio-log';

export class VerifierLog implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private text = 'No verifier log yet: run a program first (Ringbuf Studio: Run on Local Host).\n';
  readonly uri = vscode.Uri.from({ scheme: verifierLogScheme, path: '/verifier.log' });

  set(title: string, log: string): void {
    this.text = `${title}\n${'='.repeat(Math.min(title.length, 100))}\n\n${log.endsWith('\n') ? log : `${log}\n`}`;
    this.changed.fire(this.uri);
  }

  provideTextDocumentContent(): string {
    return this.text;
  }

  async show(): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(this.uri);
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
