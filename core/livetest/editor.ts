// What the editor's Testing view shows for live tests, decided without VS Code
// (extension/liveTests.ts is the glue): the run profiles (the file's own targets, one per
// known target, all of them as a matrix) and how results on one or several targets become
// one verdict per test, with messages at lines of the YAML and terminal-friendly output.
import type { SourceRange } from '../diagnostics';
import { describeCount, type TestResult } from './model';
import { formatTestLine } from './reporters/text';

// ───────────────────────────── run profiles ─────────────────────────────

export interface LiveTestProfile {
  /** Stable: a profile keeps its id (and the user's choice of default) across refreshes. */
  id: string;
  label: string;
  /** undefined: each file's `targets:` (else local). */
  targets?: string[];
  isDefault: boolean;
}

export interface KnownTargets {
  /** `local`, then SSH aliases and ringbufStudio.targets, as the Targets view lists them. */
  configured: readonly string[];
  /** The built-in VM kernels, `qemu:<name>`. */
  kernels: readonly string[];
}

export const FILE_TARGETS_PROFILE = 'file-targets';
export const ALL_TARGETS_PROFILE = 'all-targets';

/**
 * The file's targets first (the default: what `ringbuf-studio test` does without --target),
 * then one profile per target, then "Run on All Targets" (every known target, a matrix).
 */
export function liveTestProfiles(known: KnownTargets): LiveTestProfile[] {
  const every = [...new Set([...known.configured, ...known.kernels])];
  return [
    { id: FILE_TARGETS_PROFILE, label: "Run on the File's Targets (default: local)", isDefault: true },
    ...every.map((t) => ({ id: `target:${t}`, label: `Run on ${t}`, targets: [t], isDefault: false })),
    { id: ALL_TARGETS_PROFILE, label: `Run on All Targets (${every.length})`, targets: every, isDefault: false },
  ];
}

// ───────────────────────────── results → the Testing view ─────────────────────────────

export type OutcomeStatus = 'passed' | 'failed' | 'errored';

export interface OutcomeMessage {
  /** The text VS Code shows in the peek at `range` (several lines). */
  text: string;
  file: string;
  range: SourceRange;
}

/** One test's verdict over the targets it ran on. */
export interface TestOutcome {
  status: OutcomeStatus;
  durationMs: number;
  messages: OutcomeMessage[];
}

const rank: Record<TestResult['status'], number> = { passed: 0, failed: 1, error: 2 };

/**
 * A test on several targets is one item with one verdict: it passes when it passes on every
 * target; otherwise each target that failed or errored adds its own message (prefixed with
 * the target when there are several) at its line of the YAML. An error anywhere makes it errored.
 */
export function testOutcome(results: ReadonlyArray<{ target: string; result: TestResult }>): TestOutcome {
  const several = new Set(results.map((r) => r.target)).size > 1;
  let worst: TestResult['status'] = 'passed';
  const messages: OutcomeMessage[] = [];
  for (const { target, result } of results) {
    if (rank[result.status] > rank[worst]) worst = result.status;
    if (result.status === 'passed') continue;
    messages.push({ text: messageText(result, several ? target : undefined), file: result.file, range: result.range });
  }
  return {
    status: worst === 'error' ? 'errored' : worst,
    durationMs: results.reduce((n, r) => n + r.result.durationMs, 0),
    messages,
  };
}

/** The peek's text: the one-line message (the expectation, the count expected and seen), then the trigger and the closest events. */
export function messageText(result: TestResult, target?: string): string {
  const head = result.message ?? (result.status === 'error' ? 'the test could not run' : 'the test failed');
  const lines = [target ? `[${target}] ${head}` : head, ...(result.detail ?? '').split('\n').filter((l) => l !== '')];
  return lines.join('\n');
}

/** The text reporter's lines for a test, plus its counts, with \r\n for the Test Results terminal. */
export function testOutput(result: TestResult, target: string, cwd: string): string {
  const lines = formatTestLine(result, { cwd }).split('\n');
  lines[0] = `${lines[0] ?? ''} [${target}]`;
  if (result.status !== 'error') lines.push(`     ${countsLine(result)}`);
  return terminalText(lines);
}

/** "3 events (1 from the trigger), no drops; `comm == "true"`: 1 (expected 1)" */
export function countsLine(result: TestResult): string {
  const events = `${result.events} event${result.events === 1 ? '' : 's'} (${result.triggerEvents} from the trigger)`;
  const drops = result.drops ? `${result.drops} dropped` : 'no drops';
  const expectations = result.expectations.map((e) => `\`${e.where.trim() || 'any event'}\`: ${e.seen} (expected ${describeCount(e.count)})`);
  return [`${events}, ${drops}`, ...expectations].join('; ');
}

/** Lines for the Test Results terminal: \r\n line ends, one at the end. */
export function terminalText(lines: readonly string[]): string {
  return `${lines.join('\r\n').replace(/\r?\n/g, '\r\n')}\r\n`;
}
