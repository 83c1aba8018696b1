// A lint diagnostic plus the identity used to merge the two layers.
import type { Diagnostic, QuickFix, SourceRange } from '../diagnostics';
import { ruleOf, type RuleCode } from './rules';

export interface Finding extends Diagnostic {
  /** Identity of the finding across layers, e.g. "RB002 map rb". Never shown. */
  key: string;
}

export function finding(
  code: RuleCode,
  file: string,
  range: SourceRange,
  message: string,
  key: string,
  fixes?: QuickFix[],
): Finding {
  const f: Finding = { ...range, file, severity: ruleOf(code).severity, code, message, source: 'lint', key };
  if (fixes && fixes.length > 0) f.fixes = fixes;
  return f;
}

/** Strips the merge key so callers get plain Diagnostics. */
export function toDiagnostic(f: Finding): Diagnostic {
  const { key: _key, ...d } = f;
  return d;
}

export const FIRST_LINE: SourceRange = { line: 1, column: 1, endLine: 1, endColumn: 1 };
