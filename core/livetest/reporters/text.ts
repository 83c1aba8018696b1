// The human report, in the style of vitest and go test: one line per test as it ends,
// failures and errors with their place in the YAML and the closest events, and a last
// line `N passed, N failed` (errors count as failed there; the line above breaks them down).
import type { LiveTestReport, SuiteResult, TestResult } from '../model';
import { suiteTitle, testLocation, type ReportOptions } from './common';

const MARK: Record<TestResult['status'], string> = { passed: '✓', failed: '✗', error: '!' };

export function suiteHeader(suite: Pick<SuiteResult, 'file' | 'target'>, opts: ReportOptions = {}): string {
  return suiteTitle(suite, opts);
}

/** One test as it ends: a line, and for a failure or error its place, message and detail, indented. */
export function formatTestLine(test: TestResult, opts: ReportOptions = {}): string {
  const head = ` ${MARK[test.status]} ${test.name}${test.status === 'error' ? ' (error)' : ''} ${Math.round(test.durationMs)} ms`;
  if (test.status === 'passed') return head;
  const lines = [head, `     ${testLocation(test, opts)}: ${test.message ?? test.status}`];
  const detail = (test.detail ?? '').split('\n').filter((l) => l !== '');
  for (const l of detail) lines.push(`       ${l}`);
  return lines.join('\n');
}

export function formatSummary(report: LiveTestReport): string {
  const failed = report.failed + report.errored;
  const breakdown =
    report.errored > 0 ? `${report.failed} failed, ${report.errored} could not run (errors)` : `${report.failed} failed`;
  const files = new Set(report.suites.map((s) => s.file)).size;
  const targets = new Set(report.suites.map((s) => s.target)).size;
  return [
    `${files} file${files === 1 ? '' : 's'} on ${targets} target${targets === 1 ? '' : 's'}, ${(report.durationMs / 1000).toFixed(1)} s: ${report.passed} passed, ${breakdown}`,
    `${report.passed} passed, ${failed} failed`,
  ].join('\n');
}

/** The whole report at once (for --output FILE). */
export function formatTextReport(report: LiveTestReport, opts: ReportOptions = {}): string {
  const out: string[] = [];
  for (const suite of report.suites) {
    out.push(suiteHeader(suite, opts));
    for (const t of suite.tests) out.push(formatTestLine(t, opts));
    for (const n of suite.notes) out.push(`   note: ${n}`);
  }
  out.push('', formatSummary(report));
  return `${out.join('\n')}\n`;
}
