// Runs .rbtest.yaml files: per file and target, connect → setup → load and attach once
// (core/run) → for each test: open a window, run the trigger, wait for its exit, drain,
// judge → stop (final drain) → teardown. Problems around a test (a trigger that does not
// exist or does not finish, a program that does not load, a filter that does not parse)
// make it an *error* with a message and a place in the YAML; nothing here throws for them.
import path from 'node:path';
import fs from 'node:fs';
import { formatDiagnostic, type SourceRange } from '../diagnostics';
import { compileFilter, FilterError, type CompiledFilter } from '../panel/filter';
import { EventTyping } from '../panel/rows';
import { RunError, startRun, type RunHandle } from '../run/run';
import { connectTarget, LOCAL_TARGET, type ConnectTargetOptions } from '../transport/registry';
import type { TargetConnection } from '../transport/types';
import { describeError, messageOf, StudioError } from '../util/errors';
import { commandText, describeExit, indent, missingProgram, runStep, startCommand, type CommandOutcome } from './command';
import { drainRun, StatsWatch } from './drain';
import { judgeWindow, processFieldsByMap, type Verdict } from './judge';
import { summarize, type LiveTestReport, type SuiteResult, type TestResult } from './model';
import { readLiveTestFile, TRIGGER_FIELD, type ParsedLiveTest, type ParsedLiveTestFile } from './parse';
import type { ProcessFields } from './triggerTree';
import { EventWindow } from './window';

/** How long a test's drain (the helper's FLUSH) may take after its trigger exited, and the wait for statistics. */
export const DRAIN_TIMEOUT_MS = 10_000;

export type LiveTestProgress =
  | { kind: 'suite-start'; file: string; target: string; tests: string[] }
  | { kind: 'test-start'; file: string; target: string; name: string }
  | { kind: 'test-end'; file: string; target: string; result: TestResult }
  | { kind: 'suite-end'; suite: SuiteResult };

export interface LiveTestOptions {
  /** Targets for every file (the CLI's --target); default: each file's `targets:`, else local. */
  targets?: string[];
  /** Only tests whose name contains this text (case-insensitive). */
  testFilter?: string;
  /** Only the tests with exactly these names (the editor runs the items it was asked to). */
  only?: readonly string[];
  connect?: ConnectTargetOptions;
  clangPath?: string;
  helperPath?: string;
  signal?: AbortSignal;
  onProgress?: (p: LiveTestProgress) => void;
}

/** Runs every file on its targets, one after the other. */
export async function runLiveTests(files: readonly string[], opts: LiveTestOptions = {}): Promise<LiveTestReport> {
  const began = Date.now();
  const suites: SuiteResult[] = [];
  for (const file of files) {
    if (opts.signal?.aborted) break;
    suites.push(...(await runLiveTestFile(file, opts)));
  }
  return summarize(suites, Date.now() - began);
}

/** One file on each of its targets: one SuiteResult per target (none when --filter leaves no test). */
export async function runLiveTestFile(file: string, opts: LiveTestOptions = {}): Promise<SuiteResult[]> {
  const parsed = await readLiveTestFile(file);
  const target = opts.targets?.[0] ?? LOCAL_TARGET;
  if (!parsed.file) {
    // The file as a whole is unusable: one errored entry named after it, at the first problem.
    const first = parsed.diagnostics[0];
    const began = Date.now();
    const result = errorResult(path.basename(file), path.resolve(file), first ?? lineOne(), first?.message ?? 'the file cannot be read', {
      detail: parsed.diagnostics.slice(1).map(formatDiagnostic).join('\n'),
    });
    const suite: SuiteResult = { file: path.resolve(file), target, program: '', tests: [result], startedAt: began, durationMs: 0, notes: [] };
    opts.onProgress?.({ kind: 'suite-end', suite });
    return [suite];
  }
  const model = parsed.file;
  const needle = opts.testFilter?.toLowerCase();
  const only = opts.only ? new Set(opts.only) : undefined;
  const tests = model.tests.filter((t) => (!needle || t.name.toLowerCase().includes(needle)) && (!only || only.has(t.name)));
  if (tests.length === 0) return [];
  const targets = opts.targets?.length ? opts.targets : (model.targets ?? [LOCAL_TARGET]);
  const out: SuiteResult[] = [];
  for (const t of targets) {
    if (opts.signal?.aborted) break;
    out.push(await runSuite(model, t, tests, opts));
  }
  return out;
}

async function runSuite(file: ParsedLiveTestFile, target: string, tests: ParsedLiveTest[], opts: LiveTestOptions): Promise<SuiteResult> {
  const began = Date.now();
  const suite: SuiteResult = {
    file: file.file,
    target,
    program: path.relative(path.dirname(file.file), file.program),
    tests: [],
    startedAt: began,
    durationMs: 0,
    notes: [],
  };
  opts.onProgress?.({ kind: 'suite-start', file: file.file, target, tests: tests.map((t) => t.name) });
  const record = (r: TestResult): void => {
    suite.tests.push(r);
    opts.onProgress?.({ kind: 'test-end', file: file.file, target, result: r });
  };
  const errorAll = (message: string, range: SourceRange, detail?: string): void => {
    for (const t of tests) record(errorResult(t.name, file.file, range, message, detail ? { detail } : {}));
  };
  if (!fs.existsSync(file.program)) {
    errorAll(`the program ${suite.program} does not exist (program: is relative to the test file)`, file.programRange);
  } else {
    const conn = await connect(target, opts).catch((err: unknown) => {
      errorAll(`cannot connect to ${target}: ${messageOf(err)}`, file.programRange, describeError(err));
      return undefined;
    });
    if (conn) {
      try {
        await runOnTarget(file, conn, tests, opts, { record, errorAll, notes: suite.notes });
      } finally {
        await conn.close().catch((err: unknown) => suite.notes.push(`closing ${target}: ${messageOf(err)}`));
      }
    }
  }
  suite.durationMs = Date.now() - began;
  opts.onProgress?.({ kind: 'suite-end', suite });
  return suite;
}

function connect(target: string, opts: LiveTestOptions): Promise<TargetConnection> {
  return connectTarget(target, {
    ...opts.connect,
    ...(opts.signal ? { signal: opts.signal } : {}),
    local: { ...opts.connect?.local, ...(opts.helperPath ? { helperPath: opts.helperPath } : {}) },
  });
}

interface SuiteSink {
  record(r: TestResult): void;
  errorAll(message: string, range: SourceRange, detail?: string): void;
  notes: string[];
}

/** Setup → load once → every test → stop (final drain) → teardown, on one connected target. */
async function runOnTarget(file: ParsedLiveTestFile, conn: TargetConnection, tests: ParsedLiveTest[], opts: LiveTestOptions, sink: SuiteSink): Promise<void> {
  // Triggers on this machine start in the test file's folder, so `run: [./trigger.sh]` works.
  const cwd = conn.capabilities.sharesHostKernel ? path.dirname(file.file) : undefined;
  const stepOpts = { ...(cwd !== undefined ? { cwd } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
  try {
    for (const step of file.setup) {
      const problem = await runStep(conn, step, stepOpts);
      if (problem) return sink.errorAll(`setup failed on ${conn.name}: ${problem.split('\n')[0] ?? problem}`, step.range, problem);
    }
    let handle: RunHandle;
    try {
      handle = await startRun({
        file: file.program,
        targets: [conn],
        maxEntries: file.maxEntries,
        ...(opts.clangPath ? { clangPath: opts.clangPath } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      return sink.errorAll(loadFailure(err, file, conn.name), file.programRange, loadDetail(err));
    }
    const suite = new SuiteRun(file, conn, handle, cwd, opts);
    try {
      const noStats = await suite.stats.firstStats(DRAIN_TIMEOUT_MS).then(
        () => undefined,
        (err: unknown) => err,
      );
      // Without statistics from the helper no test can be judged (the drop counters' baseline).
      if (noStats) return sink.errorAll(`${conn.name}: ${messageOf(noStats)}`, file.programRange, describeError(noStats));
      for (const test of tests) {
        if (opts.signal?.aborted) break;
        opts.onProgress?.({ kind: 'test-start', file: file.file, target: conn.name, name: test.name });
        const internal = (err: unknown): TestResult => errorResult(test.name, file.file, test.range, `internal error: ${messageOf(err)}`, { detail: describeError(err) });
        sink.record(await suite.runTest(test).catch(internal));
      }
    } finally {
      suite.dispose();
      const end = await handle.stop();
      if (end.reason !== 'stopped') sink.notes.push(`${conn.name}: ${end.message}`);
    }
  } finally {
    for (const step of file.teardown) {
      const problem = await runStep(conn, step, stepOpts);
      if (problem) sink.notes.push(`teardown on ${conn.name}: ${problem}`);
    }
  }
}

function loadFailure(err: unknown, file: ParsedLiveTestFile, target: string): string {
  const prog = path.relative(path.dirname(file.file), file.program);
  return `the program ${prog} could not be loaded on ${target}: ${messageOf(err)}`;
}

/** What the message does not say already: the hint and the errors at their source lines. */
function loadDetail(err: unknown): string {
  const diags = err instanceof RunError ? err.diagnostics.filter((d) => d.severity === 'error') : [];
  const hint = err instanceof StudioError && err.hint ? [`hint: ${err.hint}`] : [];
  return [...hint, ...diags.map(formatDiagnostic)].join('\n');
}

/** One loaded program on one target, running tests one after the other. */
class SuiteRun {
  readonly stats: StatsWatch;
  private readonly typing: EventTyping;
  private readonly processFields: Map<string, ProcessFields>;
  private window: EventWindow | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly file: ParsedLiveTestFile,
    private readonly conn: TargetConnection,
    private readonly handle: RunHandle,
    private readonly cwd: string | undefined,
    private readonly opts: LiveTestOptions,
  ) {
    this.stats = new StatsWatch(handle);
    const eventTypes = [...handle.layouts].map(([map, layout]) => ({ map, layout }));
    this.typing = new EventTyping(eventTypes, { multiHost: false, multiMap: eventTypes.length > 1 });
    this.processFields = processFieldsByMap(handle.layouts);
    this.unsubscribe = handle.onBatch((b) => this.window?.add(b));
  }

  dispose(): void {
    this.unsubscribe();
    this.stats.dispose();
  }

  async runTest(test: ParsedLiveTest): Promise<TestResult> {
    const began = Date.now();
    const fail = (message: string, range: SourceRange, extra: Partial<TestResult> = {}): TestResult =>
      errorResult(test.name, this.file.file, range, message, { ...extra, durationMs: Date.now() - began });
    const problem = test.problems[0];
    if (problem) return fail(problem.message, problem);
    const filters = this.compileFilters(test);
    if ('error' in filters) return fail(filters.error.message, filters.error.range);
    const window = new EventWindow();
    const before = this.dropCounters();
    this.window = window;
    let outcome: CommandOutcome;
    let pid: number | undefined;
    let started: Awaited<ReturnType<typeof startCommand>> | undefined;
    try {
      started = await startCommand(this.conn, test.trigger, { ...(this.cwd !== undefined ? { cwd: this.cwd } : {}), ...(this.opts.signal ? { signal: this.opts.signal } : {}) });
      pid = started.pid;
      outcome = await started.finished;
      const cause = triggerProblem(test, outcome, this.conn.name);
      if (cause) return fail(cause.message, cause.range, { detail: cause.detail, exit: outcome.exit });
      await drainRun(this.handle, { timeoutMs: DRAIN_TIMEOUT_MS, ...(this.opts.signal ? { signal: this.opts.signal } : {}) });
      // Drop counters come with STATS: one computed after the drain counts the trigger's drops.
      if (this.dropCounters().size > 0) await this.stats.fresh(DRAIN_TIMEOUT_MS);
    } catch (err) {
      return fail(triggerStartProblem(err, test, this.conn.name), test.trigger.range, { detail: describeError(err) });
    } finally {
      this.window = undefined;
      await started?.process.terminate(0);
    }
    if (window.overflowed) {
      return fail(`more than ${window.received - window.overflowed} events (256 MiB) arrived during the test; the window cannot hold them`, test.range, {
        detail: 'narrow what the program emits (filter in the kernel), or shorten the trigger',
      });
    }
    const drops = dropDelta(before, this.dropCounters());
    const verdict = judgeWindow({
      events: window.events(),
      expectations: test.expect.map((spec, k) => ({ spec, filter: filters.filters[k] ?? null })),
      order: test.order,
      typing: this.typing,
      processFields: this.processFields,
      roots: pid === undefined ? [] : [pid],
    });
    return verdictResult(test, this.file.file, verdict, { drops, window, outcome, pid, durationMs: Date.now() - began });
  }

  /** Filters with the loaded program's field names: an unknown field is an error at its column. */
  private compileFilters(test: ParsedLiveTest): { filters: Array<CompiledFilter | null> } | { error: { message: string; range: SourceRange } } {
    const known = [...this.typing.fieldNames, TRIGGER_FIELD];
    const filters: Array<CompiledFilter | null> = [];
    for (const x of test.expect) {
      try {
        filters.push(compileFilter(x.where, known, { pseudoFields: [TRIGGER_FIELD] }));
      } catch (err) {
        if (!(err instanceof FilterError)) throw err;
        return { error: { message: `expectation ${x.index + 1}: \`where\`: ${err.message}`, range: x.whereRange(err.position, err.length) } };
      }
      if (filters[filters.length - 1]?.fields.includes(TRIGGER_FIELD) && ![...this.processFields.values()].some((f) => f.ids.length || f.parents.length)) {
        const at = x.where.indexOf(TRIGGER_FIELD);
        return {
          error: {
            message: `expectation ${x.index + 1}: \`$trigger\` needs an event field named pid, tgid or ppid (an integer), and the program's events have none`,
            range: x.whereRange(Math.max(0, at), TRIGGER_FIELD.length),
          },
        };
      }
    }
    return { filters };
  }

  /** The program's drop counters by name, from the latest STATS. */
  private dropCounters(): Map<string, number> {
    const counters = this.stats.latest(this.conn.name)?.counters ?? [];
    // A global (in .bss/.data) is known by its name; a counter map by map and name.
    return new Map(counters.map((c) => [c.map.startsWith('.') || c.map === c.name ? c.name : `${c.map}.${c.name}`, c.value]));
  }
}

/** How much each drop counter rose: the total, and "dropped +3" per counter that moved. */
function dropDelta(before: Map<string, number>, after: Map<string, number>): { total: number; text: string } {
  const moved = [...after].map(([name, v]) => [name, v - (before.get(name) ?? 0)] as const).filter(([, d]) => d > 0);
  return { total: moved.reduce((n, [, d]) => n + d, 0), text: moved.map(([name, d]) => `${name} +${d}`).join(', ') };
}

/** A trigger that ran but makes the test an error: it timed out, or (remote) its program was not found. */
function triggerProblem(test: ParsedLiveTest, outcome: CommandOutcome, target: string): { message: string; range: SourceRange; detail: string } | undefined {
  const out = outcome.output.trim();
  const detail = out ? `trigger output:\n${indent(out)}` : 'the trigger printed nothing';
  if (outcome.timedOut) {
    return {
      message: `the trigger \`${commandText(test.trigger)}\` did not exit within ${test.trigger.timeoutMs / 1000} s (killed); raise \`timeout:\` or make it finish`,
      range: test.trigger.timeoutRange ?? test.trigger.range,
      detail,
    };
  }
  if (missingProgram(test.trigger, outcome)) {
    return { message: `the trigger ${test.trigger.argv[0] ?? ''} does not exist on ${target}`, range: test.trigger.range, detail };
  }
  return undefined;
}

function triggerStartProblem(err: unknown, test: ParsedLiveTest, target: string): string {
  const code = err instanceof StudioError ? err.code : undefined;
  const program = test.trigger.argv[0] ?? '';
  if (code === 'ENOENT') {
    return `the trigger ${program} does not exist on ${target}; to exec a missing file on purpose, write it as a shell line: shell: "${program}"`;
  }
  if (code === 'EDRAIN' || code === 'EABORTED') return messageOf(err);
  if (code === 'EACCES') return `the trigger ${program} is not executable on ${target} (chmod +x it, or run it through its interpreter)`;
  return `the trigger \`${commandText(test.trigger)}\` could not run on ${target}: ${messageOf(err)}`;
}

interface RunFacts {
  drops: { total: number; text: string };
  window: EventWindow;
  outcome: CommandOutcome;
  pid: number | undefined;
  durationMs: number;
}

function verdictResult(test: ParsedLiveTest, file: string, v: Verdict, facts: RunFacts): TestResult {
  const failing = v.expectations.filter((e) => !e.ok);
  const dropFailure =
    facts.drops.total > test.drops
      ? `the program's drop counters rose by ${facts.drops.total} during the test (${facts.drops.text}); drops: ${test.drops} allows ${test.drops === 0 ? 'none' : `at most ${test.drops}`}`
      : undefined;
  const messages = [...failing.map((e) => e.message ?? ''), ...(dropFailure ? [dropFailure] : [])];
  const status = messages.length ? 'failed' : 'passed';
  const firstFailing = failing[0];
  const range = firstFailing?.range ?? (dropFailure ? (test.dropsRange ?? test.range) : test.range);
  const trigger = `trigger: \`${commandText(test.trigger)}\`${facts.pid !== undefined ? ` (pid ${facts.pid})` : ''}, ${describeExit(facts.outcome.exit)}`;
  const shownFrom = {
    'too-many-matches': `the ${firstFailing?.seen ?? 0} matching events`,
    trigger: `the ${v.triggerEvents} events from the trigger's process tree (${facts.window.received} in the window)`,
    window: `the ${facts.window.received} events in the window (none from the trigger's process tree)`,
  }[v.closestKind];
  const shown = v.closest.length
    ? [`last ${v.closest.length} of ${shownFrom}:`, ...v.closest.map((e) => `  ${e.text}${e.trigger ? '  ← trigger' : ''}`)]
    : ['the window had no events'];
  return {
    name: test.name,
    status,
    durationMs: facts.durationMs,
    file,
    range,
    ...(messages.length ? { message: messages[0], detail: [...messages.slice(1), trigger, ...shown].join('\n') } : {}),
    expectations: v.expectations,
    events: facts.window.received,
    triggerEvents: v.triggerEvents,
    drops: facts.drops.total,
    closest: status === 'passed' ? [] : v.closest,
    exit: { code: facts.outcome.exit.code, signal: facts.outcome.exit.signal },
  };
}

function errorResult(name: string, file: string, range: SourceRange, message: string, extra: Partial<TestResult> = {}): TestResult {
  return {
    name,
    status: 'error',
    durationMs: 0,
    file,
    range: { line: range.line, column: range.column, endLine: range.endLine, endColumn: range.endColumn },
    message,
    expectations: [],
    events: 0,
    triggerEvents: 0,
    drops: 0,
    closest: [],
    ...extra,
  };
}

function lineOne(): SourceRange {
  return { line: 1, column: 1, endLine: 1, endColumn: 1 };
}
