// The Testing view's decisions without VS Code: which run profiles exist (and which is the
// default), how a result on one or several targets becomes one verdict with messages at
// lines of the YAML, and the output lines (\r\n) a passed test shows with its counts.
import { describe, expect, it } from 'vitest';
import { ALL_TARGETS_PROFILE, FILE_TARGETS_PROFILE, countsLine, liveTestProfiles, messageText, testOutcome, testOutput } from '../../../core/livetest/editor';
import type { TestResult } from '../../../core/livetest/model';

const file = '/ws/probes/execve.rbtest.yaml';
const passed: TestResult = {
  name: 'exec of true is seen',
  status: 'passed',
  durationMs: 120,
  file,
  range: { line: 4, column: 5, endLine: 4, endColumn: 30 },
  expectations: [{ index: 0, where: '$trigger && comm == "true"', count: { op: '==', n: 1 }, seen: 1, ok: true, range: { line: 8, column: 9, endLine: 8, endColumn: 40 } }],
  events: 7,
  triggerEvents: 1,
  drops: 0,
  closest: [],
};
const failed: TestResult = {
  ...passed,
  status: 'failed',
  durationMs: 300,
  range: { line: 8, column: 9, endLine: 8, endColumn: 40 },
  message: "expectation 1: `$trigger && comm == \"true\"` expected count 2, saw 1 (7 events in the window, 1 from the trigger's process tree)",
  detail: 'trigger: `/bin/true` (pid 42), exit status 0\nlast 1 of the 1 events from the trigger\'s process tree (7 in the window):\n  {"pid":42,"comm":"true"}  ← trigger',
};
const errored: TestResult = {
  ...passed,
  status: 'error',
  durationMs: 0,
  range: { line: 5, column: 5, endLine: 5, endColumn: 25 },
  message: 'the trigger /nonexistent does not exist on local',
  expectations: [],
};

describe('run profiles', () => {
  it("offers the file's targets as the default, one profile per target (VM kernels included) and All Targets as a matrix", () => {
    const profiles = liveTestProfiles({ configured: ['local', 'box', 'local'], kernels: ['qemu:debian-5.10', 'qemu:debian-6.12-arm64-16k'] });
    expect(profiles.map((p) => p.label)).toEqual([
      "Run on the File's Targets (default: local)",
      'Run on local',
      'Run on box',
      'Run on qemu:debian-5.10',
      'Run on qemu:debian-6.12-arm64-16k',
      'Run on All Targets (4)',
    ]);
    expect(profiles.filter((p) => p.isDefault).map((p) => p.id)).toEqual([FILE_TARGETS_PROFILE]);
    expect(profiles[0]?.targets).toBeUndefined();
    expect(profiles.find((p) => p.id === ALL_TARGETS_PROFILE)?.targets).toEqual(['local', 'box', 'qemu:debian-5.10', 'qemu:debian-6.12-arm64-16k']);
    expect(profiles.find((p) => p.label === 'Run on box')?.id).toBe('target:box');
  });
});

describe('results → the Testing view', () => {
  it('a failure is a message at the expectation line with the expectation, the counts and the closest events', () => {
    const o = testOutcome([{ target: 'local', result: failed }]);
    expect(o.status).toBe('failed');
    expect(o.durationMs).toBe(300);
    expect(o.messages).toHaveLength(1);
    expect(o.messages[0]?.range.line).toBe(8);
    expect(o.messages[0]?.file).toBe(file);
    expect(o.messages[0]?.text.split('\n')[0]).toBe(failed.message);
    expect(o.messages[0]?.text).toContain('{"pid":42,"comm":"true"}  ← trigger');
  });

  it('an error is errored with its message at its own line', () => {
    const o = testOutcome([{ target: 'local', result: errored }]);
    expect(o.status).toBe('errored');
    expect(o.messages.map((m) => [m.range.line, m.text])).toEqual([[5, 'the trigger /nonexistent does not exist on local']]);
  });

  it('on several targets: passes only when it passes on each; each failing target has its own labelled message', () => {
    expect(testOutcome([{ target: 'local', result: passed }, { target: 'qemu:debian-6.1', result: passed }])).toEqual({ status: 'passed', durationMs: 240, messages: [] });
    const o = testOutcome([
      { target: 'local', result: passed },
      { target: 'qemu:debian-5.10', result: failed },
      { target: 'qemu:debian-6.1', result: errored },
    ]);
    expect(o.status).toBe('errored');
    expect(o.messages.map((m) => m.text.split('\n')[0])).toEqual([`[qemu:debian-5.10] ${failed.message}`, `[qemu:debian-6.1] ${errored.message}`]);
  });

  it('message text falls back to the status when the runner gave none', () => {
    expect(messageText({ ...failed, message: undefined, detail: undefined })).toBe('the test failed');
  });

  it('a passed test shows its duration and counts in the output, with \\r\\n line ends', () => {
    const out = testOutput(passed, 'local', '/ws');
    expect(out).toBe(' ✓ exec of true is seen 120 ms [local]\r\n     7 events (1 from the trigger), no drops; `$trigger && comm == "true"`: 1 (expected 1)\r\n');
    expect(out.replace(/\r\n/g, '')).not.toContain('\n');
    const failing = testOutput(failed, 'local', '/ws');
    expect(failing).toContain('probes/execve.rbtest.yaml:8:9: expectation 1');
    expect(failing.split('\r\n').length).toBeGreaterThan(4);
  });

  it('counts name an expectation with an empty where as any event, and drops', () => {
    expect(countsLine({ ...passed, drops: 3, expectations: [{ ...passed.expectations[0]!, where: ' ', seen: 0, count: { op: '==', n: 0 } }] })).toBe(
      '7 events (1 from the trigger), 3 dropped; `any event`: 0 (expected 0 (never))',
    );
  });
});
