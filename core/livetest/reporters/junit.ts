// JUnit XML as GitLab, GitHub (test reporters) and Jenkins read it: one <testsuite> per
// file × target, one <testcase> per test, <failure> for a failed expectation (message: the
// expectation, the count expected and the count seen; text: its place and the closest
// events), <error> for a test that could not run. Validated in tests against the Jenkins
// JUnit schema (test/fixtures/livetest/junit/jenkins-junit.xsd).
import type { LiveTestReport, SuiteResult, TestResult } from '../model';
import { seconds, suiteTitle, testLocation, type ReportOptions } from './common';

/** Text safe inside XML 1.0 (escaped, and without the control characters XML forbids). */
export function xmlEscape(s: string): string {
  return [...s]
    .map((c) => (forbiddenInXml(c.charCodeAt(0)) ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c))
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** C0 controls other than tab, LF, CR, and U+FFFE/U+FFFF: not allowed anywhere in XML 1.0. */
function forbiddenInXml(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0xfffe || code === 0xffff;
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

function testcase(t: TestResult, suite: SuiteResult, opts: ReportOptions): string {
  const head = `    <testcase${attrs({ name: t.name, classname: suiteTitle(suite, opts), time: seconds(t.durationMs) })}`;
  if (t.status === 'passed') return `${head}/>`;
  const tag = t.status === 'failed' ? 'failure' : 'error';
  const type = t.status === 'failed' ? 'expectation' : 'error';
  const body = [`${testLocation(t, opts)}: ${t.message ?? ''}`, ...(t.detail ? [t.detail] : [])].join('\n');
  return `${head}>\n      <${tag}${attrs({ message: t.message ?? t.status, type })}>${xmlEscape(body)}</${tag}>\n    </testcase>`;
}

function testsuite(suite: SuiteResult, id: number, opts: ReportOptions): string {
  const count = (s: TestResult['status']): number => suite.tests.filter((t) => t.status === s).length;
  const head = `  <testsuite${attrs({
    name: suiteTitle(suite, opts),
    tests: suite.tests.length,
    failures: count('failed'),
    errors: count('error'),
    skipped: 0,
    time: seconds(suite.durationMs),
    timestamp: new Date(suite.startedAt).toISOString().slice(0, 19),
    hostname: suite.target,
    id,
  })}>`;
  const props = `    <properties>\n${[
    ['program', suite.program],
    ['target', suite.target],
  ]
    .map(([name, value]) => `      <property${attrs({ name: name ?? '', value: value ?? '' })}/>`)
    .join('\n')}\n    </properties>`;
  const cases = suite.tests.map((t) => testcase(t, suite, opts));
  const notes = suite.notes.length ? [`    <system-err>${xmlEscape(suite.notes.join('\n'))}</system-err>`] : [];
  return [head, props, ...cases, ...notes, '  </testsuite>'].join('\n');
}

export function formatJunitReport(report: LiveTestReport, opts: ReportOptions = {}): string {
  const head = `<testsuites${attrs({
    name: 'ringbuf-studio test',
    tests: report.passed + report.failed + report.errored,
    failures: report.failed,
    errors: report.errored,
    time: seconds(report.durationMs),
  })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...report.suites.map((s, i) => testsuite(s, i, opts)), '</testsuites>', ''].join('\n');
}
