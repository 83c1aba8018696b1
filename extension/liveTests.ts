// The Testing view for live tests (`*.rbtest.yaml`): VS Code glue around core/livetest.
// One item per file, a child per test at its `- name:` line (the gutter ▶), run profiles per
// target (core/livetest/editor.ts decides which and how results read), files watched.
// In Restricted Mode tests are discovered, and running them says why not in one line.
import path from 'node:path';
import * as vscode from 'vscode';
import type { SourceRange } from '../core/diagnostics';
import { liveTestProfiles, testOutcome, testOutput, terminalText, type LiveTestProfile } from '../core/livetest/editor';
import { LIVE_TEST_SUFFIX } from '../core/livetest/discover';
import { parseLiveTestFile, readLiveTestFile } from '../core/livetest/parse';
import { runLiveTestFile, type LiveTestProgress } from '../core/livetest/runner';
import { suiteHeader } from '../core/livetest/reporters/index';
import type { TestResult } from '../core/livetest/model';
import { LOCAL_TARGET } from '../core/transport/registry';
import { messageOf } from '../core/util/errors';
import type { Config } from './config';
import { toExactRange } from './diagnostics';
import { connectOptions, type ConnectCallbacks } from './connection';
import type { Log } from './log';
import { allowedByTrust, isTrusted, restrictedReason } from './trust';

const GLOB = `**/*${LIVE_TEST_SUFFIX}`;
const RUN_ACTION = 'Run Live Tests';

export interface LiveTestsDeps {
  config: Config;
  log: Log;
  callbacks: ConnectCallbacks;
  /** Known targets (Targets view), and an event when they change. */
  knownTargets: () => { configured: string[]; kernels: string[] };
  onDidChangeTargets: vscode.Event<unknown>;
  /** Why running is off in Restricted Mode (the run commands' line). */
  restrictedWhy: string;
}

export class LiveTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('ringbufStudio.liveTests', 'Ringbuf Live Tests');
  private readonly profiles = new Map<string, vscode.TestRunProfile>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: LiveTestsDeps) {
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discoverAll();
    };
    this.controller.refreshHandler = () => this.discoverAll();
    const watcher = vscode.workspace.createFileSystemWatcher(GLOB);
    this.disposables.push(
      this.controller,
      watcher,
      watcher.onDidCreate((uri) => void this.update(uri)),
      watcher.onDidChange((uri) => void this.update(uri)),
      watcher.onDidDelete((uri) => this.controller.items.delete(uri.toString())),
      // Unsaved edits move the ▶ with the text.
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme === 'file' && e.document.fileName.endsWith(LIVE_TEST_SUFFIX)) this.updateFromText(e.document.uri, e.document.getText());
      }),
      deps.onDidChangeTargets(() => this.refreshProfiles()),
    );
    this.refreshProfiles();
  }

  /** Finds every live test file in the workspace (also what the resolve handler does first). */
  async discoverAll(): Promise<void> {
    const found = await vscode.workspace.findFiles(GLOB, '**/node_modules/**', 2000);
    const keep = new Set(found.map((u) => u.toString()));
    this.controller.items.forEach((item) => {
      if (!keep.has(item.id)) this.controller.items.delete(item.id);
    });
    await Promise.all(found.map((uri) => this.update(uri)));
  }

  private async update(uri: vscode.Uri): Promise<void> {
    try {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      this.updateFromText(uri, open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)));
    } catch (err) {
      this.deps.log.warn(`live tests: cannot read ${vscode.workspace.asRelativePath(uri)}: ${messageOf(err)}`);
    }
  }

  /** The file's item and its tests from the text; a file that does not parse shows its first problem at its line. */
  private updateFromText(uri: vscode.Uri, text: string): void {
    const file = this.controller.items.get(uri.toString()) ?? this.controller.createTestItem(uri.toString(), path.basename(uri.fsPath), uri);
    file.description = vscode.workspace.asRelativePath(path.dirname(uri.fsPath)) === path.dirname(uri.fsPath) ? undefined : vscode.workspace.asRelativePath(path.dirname(uri.fsPath));
    this.controller.items.add(file);
    const parsed = parseLiveTestFile(text, uri.fsPath);
    if (!parsed.file) {
      const first = parsed.diagnostics[0];
      file.range = first ? toExactRange(first) : undefined;
      file.error = first ? `line ${first.line}: ${first.message}` : 'the file cannot be read';
      file.children.replace([]);
      return;
    }
    file.error = undefined;
    file.range = toExactRange(parsed.file.programRange);
    file.children.replace(
      parsed.file.tests.map((t) => {
        const item = this.controller.createTestItem(`${uri.toString()}#${t.name}`, t.name, uri);
        item.range = toExactRange(t.range);
        const problem = t.problems[0];
        item.error = problem ? `line ${problem.line}: ${problem.message}` : undefined;
        return item;
      }),
    );
  }

  /** One profile per known target (added and removed as targets come and go), the file's targets by default. */
  private refreshProfiles(): void {
    const wanted = liveTestProfiles(this.deps.knownTargets());
    const ids = new Set(wanted.map((p) => p.id));
    for (const [id, profile] of this.profiles) {
      if (ids.has(id)) continue;
      profile.dispose();
      this.profiles.delete(id);
    }
    for (const spec of wanted) {
      const existing = this.profiles.get(spec.id);
      if (existing) {
        existing.label = spec.label;
        continue;
      }
      this.profiles.set(spec.id, this.controller.createRunProfile(spec.label, vscode.TestRunProfileKind.Run, (req, token) => this.run(req, token, spec), spec.isDefault));
    }
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken, profile: LiveTestProfile): Promise<void> {
    const files = this.selection(request);
    const run = this.controller.createTestRun(request);
    try {
      if (!isTrusted()) {
        const reason = restrictedReason(RUN_ACTION, this.deps.restrictedWhy);
        for (const [file, tests] of files) for (const item of tests ?? [file]) run.errored(item, new vscode.TestMessage(reason));
        await allowedByTrust(RUN_ACTION, this.deps.restrictedWhy);
        return;
      }
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort(new Error('live tests: cancelled')));
      try {
        for (const [file, tests] of files) {
          if (abort.signal.aborted) break;
          await this.runFile(run, file, tests, profile, abort.signal);
        }
      } finally {
        sub.dispose();
      }
    } finally {
      run.end();
    }
  }

  /** Files to run and, per file, the chosen tests (undefined: all of them). */
  private selection(request: vscode.TestRunRequest): Map<vscode.TestItem, vscode.TestItem[] | undefined> {
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const out = new Map<vscode.TestItem, vscode.TestItem[] | undefined>();
    const roots: vscode.TestItem[] = [];
    if (request.include) roots.push(...request.include);
    else this.controller.items.forEach((i) => roots.push(i));
    for (const item of roots) {
      if (excluded.has(item.id)) continue;
      const file = item.parent ?? item;
      if (item.parent === undefined) {
        const children: vscode.TestItem[] = [];
        item.children.forEach((c) => {
          if (!excluded.has(c.id)) children.push(c);
        });
        out.set(file, children.length === item.children.size ? undefined : children);
      } else if (out.has(file)) {
        out.get(file)?.push(item);
      } else out.set(file, [item]);
    }
    return out;
  }

  private async runFile(run: vscode.TestRun, file: vscode.TestItem, chosen: vscode.TestItem[] | undefined, profile: LiveTestProfile, signal: AbortSignal): Promise<void> {
    const uri = file.uri;
    if (!uri) return;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (doc?.isDirty) await doc.save();
    const items = new Map<string, vscode.TestItem>();
    (chosen ?? childrenOf(file)).forEach((i) => items.set(i.label, i));
    for (const i of items.values()) run.enqueued(i);
    // A verdict waits for every target: the profile's, else the file's own (as the runner reads them).
    const targets = profile.targets ?? (await readLiveTestFile(uri.fsPath)).file?.targets ?? [LOCAL_TARGET];
    const report = new ResultCollector(run, file, items, targets);
    const cfg = this.deps.config.current;
    try {
      await runLiveTestFile(uri.fsPath, {
        ...(profile.targets ? { targets: profile.targets } : {}),
        ...(chosen ? { only: chosen.map((i) => i.label) } : {}),
        signal,
        connect: connectOptions(this.deps.callbacks, cfg, { signal }),
        ...(cfg.clangPath ? { clangPath: cfg.clangPath } : {}),
        ...(cfg.helperPath ? { helperPath: cfg.helperPath } : {}),
        onProgress: (p) => report.progress(p),
      });
    } catch (err) {
      const line = this.deps.log.error(`live tests ${vscode.workspace.asRelativePath(uri)}`, err);
      run.appendOutput(terminalText([line]));
      for (const i of items.values()) if (!report.done(i)) run.errored(i, new vscode.TestMessage(line));
    }
    report.finish();
  }

  dispose(): void {
    for (const p of this.profiles.values()) p.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** Progress events of one file → the Testing view: started, output, one verdict per test once every target reported. */
class ResultCollector {
  private readonly results = new Map<string, Array<{ target: string; result: TestResult }>>();
  private readonly reported = new Set<string>();
  private readonly cwd: string;

  constructor(
    private readonly run: vscode.TestRun,
    private readonly file: vscode.TestItem,
    private readonly items: Map<string, vscode.TestItem>,
    private readonly targets: readonly string[],
  ) {
    this.cwd = vscode.workspace.getWorkspaceFolder(file.uri ?? vscode.Uri.file('/'))?.uri.fsPath ?? path.dirname(file.uri?.fsPath ?? '/');
  }

  done(item: vscode.TestItem): boolean {
    return this.reported.has(item.label);
  }

  progress(p: LiveTestProgress): void {
    switch (p.kind) {
      case 'suite-start':
        this.run.appendOutput(terminalText([suiteHeader({ file: p.file, target: p.target }, { cwd: this.cwd })]));
        return;
      case 'test-start': {
        const item = this.items.get(p.name);
        if (item) this.run.started(item);
        return;
      }
      case 'test-end':
        return this.testEnded(p.target, p.result);
      case 'suite-end':
        return this.suiteEnded(p.suite);
    }
  }

  private testEnded(target: string, result: TestResult): void {
    const item = this.items.get(result.name);
    this.run.appendOutput(testOutput(result, target, this.cwd), location(result.file, result.range), item);
    if (!item) return;
    const list = this.results.get(result.name) ?? [];
    list.push({ target, result });
    this.results.set(result.name, list);
  }

  private suiteEnded(suite: { file: string; target: string; program: string; tests: TestResult[]; notes: string[] }): void {
    for (const n of suite.notes) this.run.appendOutput(terminalText([`   note: ${n}`]));
    // A file that does not parse: one result named after the file.
    if (suite.program === '' && suite.tests.length === 1 && !this.items.has(suite.tests[0]?.name ?? '')) {
      const result = suite.tests[0] as TestResult;
      this.run.appendOutput(testOutput(result, suite.target, this.cwd));
      const message = new vscode.TestMessage(result.message ?? 'the file cannot be used');
      message.location = location(result.file, result.range);
      this.run.errored(this.file, message);
      for (const i of this.items.values()) this.report(i, [{ target: suite.target, result: { ...result, name: i.label } }]);
      return;
    }
    for (const [name, list] of this.results) {
      const item = this.items.get(name);
      if (item && !this.reported.has(name) && this.targets.every((t) => list.some((r) => r.target === t))) this.report(item, list);
    }
  }

  /** After the run: what reported on some targets only (cancelled) gets its verdict so far; what never ran is skipped. */
  finish(): void {
    for (const item of this.items.values()) {
      if (this.reported.has(item.label)) continue;
      const list = this.results.get(item.label);
      if (list?.length) this.report(item, list);
      else this.run.skipped(item);
    }
  }

  private report(item: vscode.TestItem, list: Array<{ target: string; result: TestResult }>): void {
    this.reported.add(item.label);
    const outcome = testOutcome(list);
    const messages = outcome.messages.map((m) => {
      const msg = new vscode.TestMessage(m.text);
      msg.location = location(m.file, m.range);
      return msg;
    });
    if (outcome.status === 'passed') this.run.passed(item, outcome.durationMs);
    else if (outcome.status === 'failed') this.run.failed(item, messages, outcome.durationMs);
    else this.run.errored(item, messages, outcome.durationMs);
  }
}

function childrenOf(item: vscode.TestItem): vscode.TestItem[] {
  const out: vscode.TestItem[] = [];
  item.children.forEach((c) => out.push(c));
  return out;
}

function location(file: string, r: SourceRange): vscode.Location {
  return new vscode.Location(vscode.Uri.file(file), toExactRange(r));
}
