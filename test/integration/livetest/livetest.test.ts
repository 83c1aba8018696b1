// Live tests on the local kernel through core: every template's shipped .rbtest.yaml
// passes; deliberately failing and erroring files give the messages and lines a user
// sees; drops, $trigger under noise, setup/teardown and env behave as documented.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLiveTestFiles, formatReport, runLiveTests, type LiveTestReport, type TestResult } from '../../../core/livetest/index';
import { available } from '../../support/prereq';
import { prepare, root } from '../run/support';

const fixtures = path.join(root, 'test/fixtures/livetest');
const fixture = (name: string): string => path.join(fixtures, name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-livetest-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function byName(report: LiveTestReport): Map<string, TestResult> {
  return new Map(report.suites.flatMap((s) => s.tests.map((t) => [t.name, t] as const)));
}

/** "status line:col message" — what a user reads in the text report, in one string. */
function seen(t: TestResult | undefined): string {
  return `${t?.status} ${t?.range.line}:${t?.range.column} ${t?.message ?? ''}`;
}

describe.skipIf(!available('bpf'))('live tests on the local kernel', () => {
  beforeAll(() => prepare());

  it("every template's .rbtest.yaml passes", async () => {
    const files = await findLiveTestFiles([path.join(root, 'bpf-templates')]);
    expect(files.map((f) => path.basename(f)).sort()).toEqual([
      'drop-counter.rbtest.yaml',
      'dynptr.rbtest.yaml',
      'execve-output.rbtest.yaml',
      'execve.rbtest.yaml',
      'perf-to-ringbuf.rbtest.yaml',
      'process-exit.rbtest.yaml',
      'uprobe-readline.rbtest.yaml',
    ]);
    const report = await runLiveTests(files);
    const text = formatReport(report, 'text');
    expect(report.failed + report.errored, text).toBe(0);
    expect(report.passed).toBeGreaterThanOrEqual(15);
    expect(report.suites.every((s) => s.target === 'local' && s.notes.length === 0)).toBe(true);
  });

  describe('a deliberately failing file and a deliberately erroring one', () => {
    let report: LiveTestReport;
    beforeAll(async () => {
      report = await runLiveTests([fixture('failing.rbtest.yaml'), fixture('erroring.rbtest.yaml')]);
    });

    it('failures state the expectation, the count expected and seen, at the expectation line, with the trigger events', () => {
      const r = byName(report);
      expect(r.get('passes')?.status).toBe('passed');
      expect(seen(r.get('wrong count'))).toMatch(/^failed 11:9 expectation 1: `\$trigger && comm == "true"` expected count 2, saw 1 \(\d+ events? in the window, 1 from the trigger's process tree\)$/);
      expect(r.get('wrong count')?.detail).toMatch(/trigger: `\/bin\/true` \(pid \d+\), exit status 0\nlast 1 of the 1 events from the trigger's process tree \(\d+ in the window\):\n {2}\{"pid":\d+,"ppid":\d+,"uid":\d+,"comm":"true","filename":"\/bin\/true"\} {2}← trigger/);
      expect(seen(r.get('never, but it happens'))).toMatch(/^failed 16:9 expectation 1: `\$trigger && filename == "\/bin\/true"` expected count 0 \(never\), saw 1 /);
      expect(r.get('never, but it happens')?.detail).toContain('last 1 of the 1 matching events:');
      expect(seen(r.get('out of order'))).toMatch(/^failed 23:9 expectation 2: `\$trigger && comm == "true"` was not met after expectation 1 \(order: true\)/);
    });

    it('errors name the cause, at its line, and the remaining tests still run', () => {
      const r = byName(report);
      expect(seen(r.get('missing trigger'))).toBe(
        'error 5:5 the trigger /nonexistent/trigger does not exist on local; to exec a missing file on purpose, write it as a shell line: shell: "/nonexistent/trigger"',
      );
      expect(seen(r.get('slow trigger'))).toBe('error 10:5 the trigger `/bin/sleep 5` did not exit within 0.3 s (killed); raise `timeout:` or make it finish');
      expect(seen(r.get('filter does not parse'))).toBe("error 16:21 expectation 1: `where` does not parse: '=' at 6: use '==' to compare");
      expect(seen(r.get('unknown field'))).toBe("error 20:28 expectation 1: `where`: unknown field 'filname' at 13 (fields: pid, ppid, uid, comm, filename)");
      expect(r.get('still runs after the others')?.status).toBe('passed');
      expect(report).toMatchObject({ passed: 2, failed: 3, errored: 4 });
    });

    it('the JUnit report of the run validates against the JUnit schema', () => {
      const out = path.join(tmp, 'junit.xml');
      fs.writeFileSync(out, formatReport(report, 'junit'));
      execFileSync('xmllint', ['--noout', '--schema', fixture('junit/jenkins-junit.xsd'), out], { stdio: 'pipe' });
      const xml = fs.readFileSync(out, 'utf8');
      expect(xml.match(/<testsuite /g)).toHaveLength(2);
      expect(xml.match(/<failure /g)).toHaveLength(3);
      expect(xml.match(/<error /g)).toHaveLength(4);
    });
  });

  it('a program that does not load makes every test an error at program:, with the cause at its source line', async () => {
    const report = await runLiveTests([fixture('broken-program.rbtest.yaml')]);
    const tests = report.suites[0]?.tests ?? [];
    expect(tests.map((t) => `${t.status} ${t.range.line}`)).toEqual(['error 2', 'error 2']);
    expect(tests[0]?.message).toMatch(/^the program \.\.\/run\/verifier_leak\.bpf\.c could not be loaded on local: /);
    expect(tests[0]?.detail).toMatch(/verifier_leak\.bpf\.c:26:3: error: .*neither submitted nor discarded/);
  });

  it('a file that does not match the schema is one error at the offending key', async () => {
    const report = await runLiveTests([fixture('bad-schema.rbtest.yaml')]);
    expect(report.errored).toBe(1);
    expect(seen(report.suites[0]?.tests[0])).toMatch(/^error 4:5 test 1 \(typo\) lacks `expect`/);
    expect(report.suites[0]?.tests[0]?.detail).toContain('6:5: error: unknown key `expects` in test 1 (typo) — did you mean `expect`?');
  });

  it('$trigger keeps a count honest while another process execs the same program', async () => {
    const noise = setInterval(() => spawn('/bin/true', { stdio: 'ignore' }), 15);
    try {
      const r = byName(await runLiveTests([fixture('noise.rbtest.yaml')]));
      expect(seen(r.get('scoped to the trigger'))).toBe('passed 4:5 ');
      expect(seen(r.get('not scoped'))).toMatch(/^failed 12:9 expectation 1: `comm == "true"` expected count 1, saw \d+ /);
      expect(r.get('not scoped')?.expectations[0]?.seen).toBeGreaterThan(1);
    } finally {
      clearInterval(noise);
    }
  });

  it('the window closes after the drain: records written right before the exit are all counted', async () => {
    // The helper holds a batch up to 100 ms (its longest hold) before shipping it, so the
    // last records are still on their way when the trigger's exit is seen.
    process.env.RINGBUF_HELPER_HOLD_US = '100000';
    let report: LiveTestReport;
    try {
      report = await runLiveTests([fixture('burst.rbtest.yaml')]);
    } finally {
      delete process.env.RINGBUF_HELPER_HOLD_US;
    }
    const r = byName(report);
    expect(seen(r.get('a burst right before the exit is counted in full'))).toBe('passed 6:5 ');
  });

  it('drops: 0 fails a test when the program counts drops during it; a tolerance passes', async () => {
    const r = byName(await runLiveTests([fixture('drops.rbtest.yaml')]));
    expect(seen(r.get('no drops allowed'))).toMatch(/^failed 4:5 the program's drop counters rose by \d+ during the test \(dropped \+\d+\); drops: 0 allows none$/);
    expect(r.get('no drops allowed')?.drops).toBeGreaterThan(0);
    expect(r.get('drops tolerated')?.status).toBe('passed');
    // dd exits within milliseconds: only statistics asked for after the drain can show its drops.
    const quick = byName(await runLiveTests([fixture('quick-drops.rbtest.yaml')]));
    expect(seen(quick.get('a quick overflow is counted'))).toMatch(/^failed 6:5 the program's drop counters rose by \d+ during the test \(dropped \+\d+\); drops: 0 allows none$/);
  });

  it('setup runs before the tests and teardown after; env and the file folder reach the trigger; a failing setup errors every test', async () => {
    const program = path.join(root, 'bpf-templates/execve/execve.bpf.c');
    const file = path.join(tmp, 'steps.rbtest.yaml');
    fs.writeFileSync(
      file,
      `program: ${program}
setup:
  - shell: "echo ready > marker"
teardown:
  - run: ["/bin/rm", "marker"]
tests:
  - name: the setup's file is there
    run: ["/bin/cat", "marker"]
    expect:
      - where: $trigger && comm == "cat"
        count: 1
  - name: env reaches the trigger
    shell: 'test "$GREETING" = hello && exec /bin/true'
    env: { GREETING: hello }
    expect:
      - where: $trigger && comm == "true"
        count: 1
`,
    );
    const ok = await runLiveTests([file]);
    expect(ok.suites[0]?.tests.map((t) => `${t.status} ${t.name}`)).toEqual(['passed the setup\'s file is there', 'passed env reaches the trigger']);
    expect(fs.existsSync(path.join(tmp, 'marker'))).toBe(false);

    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('  - shell: "echo ready > marker"', '  - run: ["/bin/false"]'));
    const broken = await runLiveTests([file]);
    expect(broken.suites[0]?.tests.map(seen)).toEqual([
      'error 3:5 setup failed on local: `/bin/false` failed: exit status 1',
      'error 3:5 setup failed on local: `/bin/false` failed: exit status 1',
    ]);
    expect(broken.suites[0]?.notes).toEqual(['teardown on local: `/bin/rm marker` failed: exit status 1\n    /bin/rm: cannot remove \'marker\': No such file or directory']);
  });
});
