// A parsed `<name>.rbtest.yaml` (core/livetest/parse.ts) and the results of running it
// (core/livetest/runner.ts → reporters). Every part keeps the range it came from, so
// errors and failures point at a line of the YAML.
import type { SourceRange } from '../diagnostics';

/** How many matching events an expectation wants: `op n`, e.g. `>= 1`; `== 0` is "never". */
export interface CountSpec {
  op: '==' | '>=' | '<=' | '>' | '<';
  n: number;
}

/** A command on the target: argv (no shell) or a command line for /bin/sh -c. */
export interface LiveTestCommand {
  /** What the file says: `run` (argv) or `shell` (a command line). */
  kind: 'run' | 'shell';
  /** What is executed: the argv, or ['/bin/sh', '-c', line]. */
  argv: string[];
  env: Record<string, string>;
  timeoutMs: number;
  /** The `run:`/`shell:` entry. */
  range: SourceRange;
  /** The `timeout:` entry, when the file has one. */
  timeoutRange?: SourceRange;
}

export interface Expectation {
  /** 0-based position in the test's `expect` list. */
  index: number;
  /** The filter text ('' = every event). */
  where: string;
  count: CountSpec;
  /** The whole list item (`- where: …`). */
  range: SourceRange;
  /** Maps a 0-based offset in `where` to the range of that character in the YAML. */
  whereRange(offset: number, length?: number): SourceRange;
}

export interface LiveTest {
  name: string;
  /** The test's `- name:` line. */
  range: SourceRange;
  trigger: LiveTestCommand;
  expect: Expectation[];
  drops: number;
  /** The `drops:` entry, when the file has one. */
  dropsRange?: SourceRange;
  order: boolean;
}

export interface LiveTestFile {
  /** Absolute path of the .rbtest.yaml. */
  file: string;
  /** Absolute path of the program (.bpf.c or .o). */
  program: string;
  programRange: SourceRange;
  /** Targets the file names (undefined: the caller's default, `local`). */
  targets?: string[];
  maxEntries: Record<string, number>;
  setup: LiveTestCommand[];
  teardown: LiveTestCommand[];
  tests: LiveTest[];
}

// ───────────────────────────── results ─────────────────────────────

export type TestStatus = 'passed' | 'failed' | 'error';

/** A decoded event shown next to a failure. */
export interface ShownEvent {
  /** One line: the decoded fields as JSON (or hex for an untyped ring). */
  text: string;
  map: string;
  timeMs: number;
  /** Belongs to the trigger's process tree. */
  trigger: boolean;
}

export interface ExpectationResult {
  index: number;
  where: string;
  count: CountSpec;
  /** Matching events in the window. */
  seen: number;
  ok: boolean;
  /** Why it failed: the count, or `order: true` not met. */
  message?: string;
  range: SourceRange;
}

export interface TestResult {
  name: string;
  status: TestStatus;
  durationMs: number;
  /** Where the result points in the YAML: the first failing expectation, the cause of an error, or the test. */
  file: string;
  range: SourceRange;
  /** One-line summary of a failure or error. */
  message?: string;
  /** More about a failure or error than `message`: the other failing expectations, drops, the trigger, the closest events. */
  detail?: string;
  expectations: ExpectationResult[];
  /** Events in the test's window, and how many of them came from the trigger's process tree. */
  events: number;
  triggerEvents: number;
  drops: number;
  /** The last events of the window (decoded), shown with a failure. */
  closest: ShownEvent[];
  /** The trigger's exit, when it ran. */
  exit?: { code: number | null; signal: string | null };
}

/** One file on one target (a JUnit testsuite). */
export interface SuiteResult {
  file: string;
  target: string;
  /** The program, as the file names it. */
  program: string;
  tests: TestResult[];
  startedAt: number;
  durationMs: number;
  /** What went wrong around the tests (teardown), reported beside them. */
  notes: string[];
}

export interface LiveTestReport {
  suites: SuiteResult[];
  passed: number;
  failed: number;
  errored: number;
  durationMs: number;
}

/** Totals over suites. */
export function summarize(suites: SuiteResult[], durationMs: number): LiveTestReport {
  const all = suites.flatMap((s) => s.tests);
  return {
    suites,
    passed: all.filter((t) => t.status === 'passed').length,
    failed: all.filter((t) => t.status === 'failed').length,
    errored: all.filter((t) => t.status === 'error').length,
    durationMs,
  };
}

export function describeCount(c: CountSpec): string {
  if (c.op === '==' && c.n === 0) return '0 (never)';
  return c.op === '==' ? String(c.n) : `${c.op} ${c.n}`;
}

export function countHolds(c: CountSpec, seen: number): boolean {
  switch (c.op) {
    case '==':
      return seen === c.n;
    case '>=':
      return seen >= c.n;
    case '<=':
      return seen <= c.n;
    case '>':
      return seen > c.n;
    case '<':
      return seen < c.n;
  }
}

/** True when the count needs at least one matching event (so it can take part in `order`). */
export function countNeedsEvents(c: CountSpec): boolean {
  return !countHolds(c, 0);
}
