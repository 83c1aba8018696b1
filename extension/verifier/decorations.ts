// The failing path on the source: every line it ran highlighted, the failing line stronger
// with the reason and the fix after it, and the verifier's visits per line as a heat map in
// the gutter (five levels, log scale).
import * as vscode from 'vscode';
import type { Focused } from './state';
import { heatLevel, inlineHint } from './present';

export class VerifierDecorations implements vscode.Disposable {
  private readonly path = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('ringbufStudio.verifierPathBackground'),
    overviewRulerColor: new vscode.ThemeColor('ringbufStudio.verifierPathBackground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly failing = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('ringbufStudio.verifierFailingBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorError.foreground'),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
  });
  private readonly heat: vscode.TextEditorDecorationType[];

  constructor(mediaRoot: vscode.Uri) {
    this.heat = [1, 2, 3, 4, 5].map((level) =>
      vscode.window.createTextEditorDecorationType({ gutterIconPath: vscode.Uri.joinPath(mediaRoot, `heat-${level}.svg`), gutterIconSize: 'contain' }),
    );
  }

  /** Shows `f` on `editor` (or clears when undefined). */
  apply(editor: vscode.TextEditor, f: Focused | undefined): void {
    const file = editor.document.uri.fsPath;
    const pathLines: vscode.DecorationOptions[] = [];
    const failing: vscode.DecorationOptions[] = [];
    const heat: vscode.DecorationOptions[][] = [[], [], [], [], []];
    const lastLine = editor.document.lineCount - 1;
    const range = (line: number): vscode.Range | undefined => (line >= 1 && line - 1 <= lastLine ? editor.document.lineAt(line - 1).range : undefined);
    if (f) {
      const error = f.program.error;
      for (const l of f.byLine.values()) {
        if (l.file !== file) continue;
        const r = range(l.line);
        if (!r) continue;
        const isFailing = error !== null && l.steps.some((s) => s.failing);
        if (isFailing) failing.push({ range: r, renderOptions: { after: { contentText: `   ${inlineHint(error)}`, color: new vscode.ThemeColor('editorError.foreground'), fontStyle: 'italic', margin: '0 0 0 2em' } } });
        else pathLines.push({ range: r });
      }
      // A rejection without a path step there (the log named no source): the hint still goes on the error's line.
      if (error && !failing.length && error.at.file === file) {
        const r = range(error.at.line);
        if (r) failing.push({ range: r, renderOptions: { after: { contentText: `   ${inlineHint(error)}`, color: new vscode.ThemeColor('editorError.foreground'), fontStyle: 'italic' } } });
      }
      const max = Math.max(0, ...f.explanation.heat.map((h) => h.visits));
      for (const h of f.explanation.heat) {
        const r = h.file === file ? range(h.line) : undefined;
        const level = heatLevel(h.visits, max);
        if (r && level) heat[level - 1]?.push({ range: r });
      }
    }
    editor.setDecorations(this.path, pathLines);
    editor.setDecorations(this.failing, failing);
    this.heat.forEach((t, i) => editor.setDecorations(t, heat[i] ?? []));
  }

  dispose(): void {
    for (const d of [this.path, this.failing, ...this.heat]) d.dispose();
  }
}
