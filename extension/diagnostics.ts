// core Diagnostic → vscode.Diagnostic, one collection per source so lint results
// (on every keystroke) never clobber clang's or the verifier's, and quick fixes
// from each diagnostic's `fixes`.
import path from 'node:path';
import * as vscode from 'vscode';
import type { Diagnostic, QuickFix, Severity, SourceRange } from '../core/diagnostics';

export type DiagnosticSource = 'lint' | 'clang' | 'verifier';

const severityMap: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

/** 1-based, endColumn exclusive → 0-based vscode.Range; a zero-width range widens to the word/line end. */
export function toRange(r: SourceRange): vscode.Range {
  const line = Math.max(0, r.line - 1);
  const col = Math.max(0, r.column - 1);
  const endLine = Math.max(line, (r.endLine || r.line) - 1);
  let endCol = Math.max(0, (r.endColumn || r.column) - 1);
  if (endLine === line && endCol <= col) endCol = col + 1;
  return new vscode.Range(line, col, endLine, endCol);
}

function resolveFile(file: string, base: vscode.Uri | undefined): vscode.Uri {
  if (path.isAbsolute(file)) return vscode.Uri.file(file);
  if (base) return vscode.Uri.joinPath(base, '..', file);
  return vscode.Uri.file(path.resolve(file));
}

export class DiagnosticsHub implements vscode.Disposable {
  private readonly collections = new Map<DiagnosticSource, vscode.DiagnosticCollection>();
  /** The quick fixes of each diagnostic we published, for the CodeActionProvider. */
  private readonly fixes = new WeakMap<vscode.Diagnostic, QuickFix[]>();

  constructor() {
    for (const s of ['lint', 'clang', 'verifier'] as const) {
      this.collections.set(s, vscode.languages.createDiagnosticCollection(`ringbufStudio.${s}`));
    }
  }

  private collection(source: DiagnosticSource): vscode.DiagnosticCollection {
    const c = this.collections.get(source);
    if (!c) throw new Error(`no diagnostic collection for ${source}`);
    return c;
  }

  /**
   * Replaces the diagnostics of `source` for `forFile` (and for any other file the
   * diagnostics point at, e.g. a header) with `diags`.
   */
  publish(source: DiagnosticSource, forFile: vscode.Uri, diags: readonly Diagnostic[]): void {
    const byFile = new Map<string, { uri: vscode.Uri; list: vscode.Diagnostic[] }>();
    byFile.set(forFile.toString(), { uri: forFile, list: [] });
    for (const d of diags) {
      const uri = d.file ? resolveFile(d.file, forFile) : forFile;
      const key = uri.toString();
      let entry = byFile.get(key);
      if (!entry) byFile.set(key, (entry = { uri, list: [] }));
      entry.list.push(this.convert(d, forFile));
    }
    const c = this.collection(source);
    for (const { uri, list } of byFile.values()) c.set(uri, list);
  }

  clear(source: DiagnosticSource, uri?: vscode.Uri): void {
    if (uri) this.collection(source).delete(uri);
    else this.collection(source).clear();
  }

  get(source: DiagnosticSource, uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.collection(source).get(uri) ?? [];
  }

  fixesOf(d: vscode.Diagnostic): QuickFix[] | undefined {
    return this.fixes.get(d);
  }

  private convert(d: Diagnostic, base: vscode.Uri): vscode.Diagnostic {
    const v = new vscode.Diagnostic(toRange(d), d.message, severityMap[d.severity] ?? vscode.DiagnosticSeverity.Error);
    v.source = `ringbuf-studio ${d.source}`;
    v.code = d.source === 'verifier' || d.detail
      ? { value: d.code, target: vscode.Uri.parse('command:ringbufStudio.showVerifierLog') }
      : d.code;
    if (d.related?.length) {
      v.relatedInformation = d.related.map(
        (r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(resolveFile(r.file, base), toRange(r.range)), r.message),
      );
    }
    if (d.fixes?.length) this.fixes.set(v, d.fixes);
    return v;
  }

  dispose(): void {
    for (const c of this.collections.values()) c.dispose();
    this.collections.clear();
  }
}

/** Turns each diagnostic's `fixes` into quick fixes (the first preferred one is offered by Ctrl+.). */
export class RingbufCodeActions implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly hub: DiagnosticsHub) {}

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const diag of context.diagnostics) {
      if (!diag.range.intersection(range) && !diag.range.contains(range)) continue;
      for (const fix of this.hub.fixesOf(diag) ?? []) {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diag];
        action.isPreferred = fix.preferred ?? false;
        const edit = new vscode.WorkspaceEdit();
        for (const e of fix.edits) {
          const uri = e.file ? resolveFile(e.file, document.uri) : document.uri;
          edit.replace(uri, toExactRange(e.range), e.newText);
        }
        action.edit = edit;
        actions.push(action);
      }
    }
    return actions;
  }
}

/**
 * 1-based, endColumn exclusive → 0-based vscode.Range, exactly (an empty range stays empty: an
 * edit's insertion point), unlike a diagnostic's range. Also for test items and locations.
 */
export function toExactRange(r: SourceRange): vscode.Range {
  return new vscode.Range(Math.max(0, r.line - 1), Math.max(0, r.column - 1), Math.max(0, Math.max(r.line, r.endLine) - 1), Math.max(0, r.endColumn - 1));
}
