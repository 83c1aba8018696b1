// One diagnostic shape for everything that points at source: lint rules, clang,
// verifier rejections and attach failures. The CLI prints it, the extension maps
// it to vscode.Diagnostic, tests assert on it.

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** 1-based line and column, like compilers print them. endColumn is exclusive. */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface TextEdit {
  file: string;
  range: SourceRange;
  newText: string;
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
  /** True when this is the obvious fix the editor may offer as "preferred". */
  preferred?: boolean;
}

export interface RelatedInformation {
  file: string;
  range: SourceRange;
  message: string;
}

export interface Diagnostic extends SourceRange {
  file: string;
  severity: Severity;
  /** Stable code, e.g. "RB001" for lint rules, "clang" / "clang-note" for the compiler, "verifier", "attach". */
  code: string;
  message: string;
  /** Where it came from: "lint", "clang", "verifier", "attach", "loader". */
  source: string;
  fixes?: QuickFix[];
  related?: RelatedInformation[];
  /** Longer raw detail (e.g. the full verifier log), shown one click away. */
  detail?: string;
}

/** The JSON shape the CLI prints with --format json (fixed in design.md). */
export interface JsonDiagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  code: string;
  message: string;
}

export function toJsonDiagnostic(d: Diagnostic): JsonDiagnostic {
  return {
    file: d.file,
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    severity: d.severity,
    code: d.code,
    message: d.message,
  };
}

/** "file:line:col: severity: message [code]" — the way compilers print. */
export function formatDiagnostic(d: Diagnostic): string {
  const sev = d.severity === 'information' || d.severity === 'hint' ? 'note' : d.severity;
  return `${d.file}:${d.line}:${d.column}: ${sev}: ${d.message} [${d.code}]`;
}
