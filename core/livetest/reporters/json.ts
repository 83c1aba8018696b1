// The machine-readable report: the results model as JSON, ranges flattened to
// line/column (1-based, endColumn exclusive) like the CLI's diagnostics.
import type { LiveTestReport, TestResult } from '../model';
import { shownPath, type ReportOptions } from './common';

function testJson(t: TestResult, opts: ReportOptions): Record<string, unknown> {
  const { range, file, ...rest } = t;
  return { ...rest, file: shownPath(file, opts), line: range.line, column: range.column, endLine: range.endLine, endColumn: range.endColumn };
}

export function formatJsonReport(report: LiveTestReport, opts: ReportOptions = {}): string {
  const doc = {
    version: 1,
    passed: report.passed,
    failed: report.failed,
    errored: report.errored,
    durationMs: report.durationMs,
    suites: report.suites.map((s) => ({ ...s, file: shownPath(s.file, opts), tests: s.tests.map((t) => testJson(t, opts)) })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
