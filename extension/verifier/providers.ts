// Hover on a line of the failing path (the registers and stack slots of its instructions),
// and a CodeLens on each SEC("…") with the verifier's verdict per target.
import * as vscode from 'vscode';
import { LEVEL2_MAX_INSNS } from '../../core/run/verify';
import { findSectionLine } from '../../core/verifier/source';
import { changeSince, heatHoverMarkdown, heatMapLensTitle, lensTitle, pathHoverMarkdown } from './present';
import { focused, type FigureHistory, type FileResult } from './state';

export class VerifierHover implements vscode.HoverProvider {
  constructor(private readonly resultOf: (doc: vscode.TextDocument) => FileResult | undefined) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const f = focused(this.resultOf(document));
    if (!f) return undefined;
    const key = `${document.uri.fsPath}:${position.line + 1}`;
    const parts: string[] = [];
    const line = f.byLine.get(key);
    if (line) {
      const where = `${f.target.target}${f.target.kernel ? ` (Linux ${f.target.kernel})` : ''}, program ${f.program.name}`;
      parts.push(pathHoverMarkdown(line, f.passes.get(key) ?? 1, where, f.program.error ?? undefined));
    }
    const heat = f.explanation.heat.find((h) => h.file === document.uri.fsPath && h.line === position.line + 1);
    if (heat) {
      const total = f.explanation.heat.reduce((n, h) => n + h.visits, 0);
      const scope = f.explanation.heatComplete ? 'all' : f.program.logLevel === 2 ? 'tail' : 'path';
      parts.push(heatHoverMarkdown(heat.visits, total, scope, f.program.insnsProcessed));
    }
    if (!parts.length) return undefined;
    const md = new vscode.MarkdownString(parts.join('\n\n---\n\n'));
    md.isTrusted = false;
    md.supportHtml = false;
    return new vscode.Hover(md, document.lineAt(position.line).range);
  }
}

export class VerifierLenses implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(
    private readonly resultOf: (doc: vscode.TextDocument) => FileResult | undefined,
    private readonly history: FigureHistory,
  ) {}

  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const r = this.resultOf(document);
    if (!r) return [];
    const text = document.getText();
    const lenses: vscode.CodeLens[] = [];
    for (const t of r.verdicts) {
      for (const p of t.programs) {
        const at = findSectionLine(text, p.section);
        if (!at) continue;
        const range = new vscode.Range(at.line - 1, 0, at.line - 1, 0);
        const previous = this.history.before(r.file, t.target, p.name);
        const title = lensTitle(t.target, p, previous);
        const tooltip = p.insnsProcessed !== null ? (changeSince(previous, p.insnsProcessed) ?? 'no earlier build to compare with') : undefined;
        lenses.push(new vscode.CodeLens(range, { title, command: 'ringbufStudio.verifier.focus', arguments: [document.uri.toString(), t.target, p.name], ...(tooltip ? { tooltip } : {}) }));
        const heat = heatMapLensTitle(p, LEVEL2_MAX_INSNS);
        if (heat) {
          const tip = `Verify '${p.name}' on ${t.target} again with the verifier's every-path (level 2) log: its visits per source line, in the gutter`;
          lenses.push(new vscode.CodeLens(range, { title: heat, command: 'ringbufStudio.verifyWithHeatMap', arguments: [document.uri.toString(), t.target, p.name], tooltip: tip }));
        }
      }
    }
    return lenses;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
