// The four reporters over one report with a pass, a failure, an error and awkward text
// (quotes, <, &, control bytes from event data). JUnit output is checked against the
// Jenkins JUnit schema with xmllint, as CI systems would read it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarize, type LiveTestReport, type SuiteResult, type TestResult } from '../../../core/livetest/model';
import { formatReport } from '../../../core/livetest/reporters/index';
import { repoRoot } from '../../support/compile';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-reporters-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const xsd = path.join(repoRoot, 'test/fixtures/livetest/junit/jenkins-junit.xsd');
const cwd = '/work/project';
const file = `${cwd}/probes/execve.rbtest.yaml`;

const base: Omit<TestResult, 'name' | 'status'> = {
  durationMs: 412,
  file,
  range: { line: 5, column: 5, endLine: 5, endColumn: 30 },
  expectations: [],
  events: 3,
  triggerEvents: 1,
  drops: 0,
  closest: [],
};
const failed: TestResult = {
  ...base,
  name: 'exec of "true" <is> seen & counted',
  status: 'failed',
  range: { line: 9, column: 9, endLine: 9, endColumn: 40 },
  message: 'expectation 1: `$trigger && comm == "true"` expected count 2, saw 1 (3 events in the window, 1 from the trigger\'s process tree)',
  detail: 'trigger: `/bin/true` (pid 42), exit status 0\nlast 1 of the 1 events from the trigger\'s process tree (3 in the window):\n  {"pid":42,"comm":"tr\u0001ue"}  ← trigger',
};
const errored: TestResult = {
  ...base,
  name: 'missing trigger',
  status: 'error',
  range: { line: 14, column: 5, endLine: 14, endColumn: 20 },
  message: 'the trigger /nonexistent does not exist on local',
};
const suite: SuiteResult = {
  file,
  target: 'local',
  program: 'execve.bpf.c',
  tests: [{ ...base, name: 'passes', status: 'passed' }, failed, errored],
  startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  durationMs: 2345,
  notes: ['teardown on local: `rm /tmp/x` failed: exit status 1'],
};
const report: LiveTestReport = summarize([suite, { ...suite, target: 'build-box' }], 5000);

describe('reporters', () => {
  it('text: a line per test, the failure at its YAML line with the closest events, and "N passed, N failed" last', () => {
    const text = formatReport(report, 'text', { cwd });
    expect(text).toContain('probes/execve.rbtest.yaml [local]\n ✓ passes 412 ms\n ✗ exec of "true" <is> seen & counted 412 ms\n');
    expect(text).toContain('     probes/execve.rbtest.yaml:9:9: expectation 1: `$trigger && comm == "true"` expected count 2, saw 1');
    expect(text).toContain('         {"pid":42,"comm":"tr\u0001ue"}  ← trigger');
    expect(text).toContain(' ! missing trigger (error) 412 ms\n     probes/execve.rbtest.yaml:14:5: the trigger /nonexistent does not exist on local');
    expect(text).toContain('   note: teardown on local');
    expect(text.trimEnd().split('\n').pop()).toBe('2 passed, 4 failed');
    expect(text).toContain('1 file on 2 targets, 5.0 s: 2 passed, 2 failed, 2 could not run (errors)');
  });

  it('junit: valid against the Jenkins JUnit schema; one testsuite per file × target; failure message states the expectation and counts', () => {
    const xml = formatReport(report, 'junit', { cwd });
    const out = path.join(tmp, 'report.xml');
    fs.writeFileSync(out, xml);
    let verdict: string;
    try {
      verdict = execFileSync('xmllint', ['--noout', '--schema', xsd, out], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    } catch (err) {
      const e = err as { code?: string; stderr?: Buffer };
      throw new Error(e.code === 'ENOENT' ? 'xmllint is missing: apt-get install libxml2-utils (scripts/setup.sh test)' : `xmllint rejected the report:\n${e.stderr?.toString()}`);
    }
    expect(verdict).toBe('');
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml).toContain('<testsuite name="probes/execve.rbtest.yaml [build-box]" tests="3" failures="1" errors="1"');
    expect(xml).toContain('timestamp="2026-01-02T03:04:05" hostname="local"');
    expect(xml).toContain(
      '<testcase name="exec of &quot;true&quot; &lt;is&gt; seen &amp; counted" classname="probes/execve.rbtest.yaml [local]" time="0.412">',
    );
    expect(xml).toContain('<failure message="expectation 1: `$trigger &amp;&amp; comm == &quot;true&quot;` expected count 2, saw 1');
    expect(xml).toContain('probes/execve.rbtest.yaml:9:9: expectation 1');
    expect(xml).toContain('{&quot;pid&quot;:42,&quot;comm&quot;:&quot;tr\\x01ue&quot;}'); // a control byte XML cannot carry, spelled out
    expect(xml).toContain('<error message="the trigger /nonexistent does not exist on local" type="error">');
    expect(xml).toContain('<system-err>teardown on local');
  });

  it('json: the results with lines and columns', () => {
    const doc = JSON.parse(formatReport(report, 'json', { cwd })) as { passed: number; failed: number; errored: number; suites: Array<{ file: string; tests: Array<Record<string, unknown>> }> };
    expect(doc).toMatchObject({ passed: 2, failed: 2, errored: 2 });
    expect(doc.suites[0]?.file).toBe('probes/execve.rbtest.yaml');
    expect(doc.suites[0]?.tests[1]).toMatchObject({ name: failed.name, status: 'failed', line: 9, column: 9, file: 'probes/execve.rbtest.yaml' });
  });

  it('tap: a plan, ok / not ok with a YAML block naming severity and place', () => {
    const tap = formatReport(report, 'tap', { cwd });
    const lines = tap.split('\n');
    expect(lines.slice(0, 3)).toEqual(['TAP version 13', '1..6', 'ok 1 - probes/execve.rbtest.yaml [local] › passes']);
    expect(tap).toContain('not ok 2 - probes/execve.rbtest.yaml [local] › exec of "true" <is> seen & counted\n  ---\n  message: ');
    expect(tap).toContain('  severity: error\n  at:\n    file: "probes/execve.rbtest.yaml"\n    line: 14\n');
    expect(tap.trimEnd().split('\n').pop()).toBe('# 2 passed, 4 failed');
  });
});
