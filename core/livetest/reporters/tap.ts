// TAP version 13: one `ok`/`not ok` line per test; failures and errors carry a YAML
// block with the message, severity (fail | error), place and detail.
import type { LiveTestReport } from '../model';
import { shownPath, suiteTitle, type ReportOptions } from './common';

function yamlString(s: string): string {
  return JSON.stringify(s);
}

function block(text: string, indent: string): string {
  return text
    .split('\n')
    .map((l) => `${indent}${l}`)
    .join('\n');
}

export function formatTapReport(report: LiveTestReport, opts: ReportOptions = {}): string {
  const lines = ['TAP version 13'];
  const tests = report.suites.flatMap((s) => s.tests.map((t) => ({ suite: s, t })));
  lines.push(`1..${tests.length}`);
  tests.forEach(({ suite, t }, i) => {
    // '#' starts a TAP directive: keep it out of the description.
    const title = `${suiteTitle(suite, opts)} › ${t.name}`.replace(/#/g, '\\#');
    if (t.status === 'passed') {
      lines.push(`ok ${i + 1} - ${title}`);
      return;
    }
    lines.push(`not ok ${i + 1} - ${title}`, '  ---', `  message: ${yamlString(t.message ?? t.status)}`, `  severity: ${t.status === 'failed' ? 'fail' : 'error'}`);
    lines.push('  at:', `    file: ${yamlString(shownPath(t.file, opts))}`, `    line: ${t.range.line}`, `    column: ${t.range.column}`);
    if (t.detail) lines.push('  detail: |-', block(t.detail, '    '));
    lines.push('  ...');
  });
  lines.push(`# ${report.passed} passed, ${report.failed + report.errored} failed`);
  return `${lines.join('\n')}\n`;
}
