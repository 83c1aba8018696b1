// The Verifier explorer: "Verify Program" loads the program on the selected target(s)
// without attaching it and shows the kernel's answer on the source — the failing path,
// hovers with the registers that matter, the reason and fix inline, the Verifier view,
// CodeLenses with the figures per target and the heat map. A Run that the verifier
// rejected is shown the same way (from its log); a Run that loads brings the figures of its
// programs (statistics only: the heat map is one CodeLens click away, a level 2
// verification). VS Code glue over core/run/verify.ts.
import path from 'node:path';
import * as vscode from 'vscode';
import { verifyProgram, type TargetVerdict, type VerifyOptions } from '../../core/run/verify';
import { explainVerifierLog } from '../../core/verifier/explain';
import { parseVerifierLog } from '../../core/verifier/log';
import { SourceLocator } from '../../core/verifier/source';
import type { Config, StudioConfig } from '../config';
import type { RegisterCommand } from '../commands';
import { connectOptions, type ConnectCallbacks } from '../connection';
import type { Log } from '../log';
import { isAbort, withCancellableProgress } from '../progress';
import { VerifierDecorations } from './decorations';
import { VerifierHover, VerifierLenses } from './providers';
import { defaultFocus, FigureHistory, focused, mergeVerdicts, type FileResult } from './state';
import { VerifierView } from './view';

const BPF_SOURCE: vscode.DocumentSelector = [{ language: 'c', scheme: 'file', pattern: '**/*.bpf.c' }];

export interface VerifierExplorerDeps {
  log: Log;
  config: Config;
  callbacks: ConnectCallbacks;
  /** The extension's one command registrar (failures reported; Restricted Mode respected). */
  command: RegisterCommand;
  /** The target Run and lint use. */
  selectedTarget: () => string;
  pickTargets: (placeHolder: string) => Promise<string[] | undefined>;
}

/** What Runs passes when the verifier rejected a run (`ringbufStudio.verifier.explainLog`). */
interface RunFailure {
  log: string;
  message: string;
  target: string;
}

function runFailure(v: unknown): RunFailure | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.log !== 'string' || !o.log) return undefined;
  return { log: o.log, message: typeof o.message === 'string' ? o.message : '', target: typeof o.target === 'string' && o.target ? o.target : 'the run\'s target' };
}

export class VerifierExplorer implements vscode.Disposable {
  private readonly results = new Map<string, FileResult>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly decorations: VerifierDecorations;
  private readonly view: VerifierView;
  private readonly lenses: VerifierLenses;
  private readonly history: FigureHistory;

  constructor(
    context: vscode.ExtensionContext,
    private readonly deps: VerifierExplorerDeps,
  ) {
    this.history = new FigureHistory(context.workspaceState);
    this.decorations = new VerifierDecorations(vscode.Uri.joinPath(context.extensionUri, 'extension', 'media'));
    this.view = new VerifierView((file, line) => this.sourceLine(file, line));
    this.lenses = new VerifierLenses((doc) => this.resultOf(doc), this.history);
    const treeView = vscode.window.createTreeView('ringbufStudio.verifier', { treeDataProvider: this.view, showCollapseAll: true });
    this.disposables.push(
      this.decorations,
      this.view,
      this.lenses,
      treeView,
      vscode.languages.registerHoverProvider(BPF_SOURCE, new VerifierHover((doc) => this.resultOf(doc))),
      vscode.languages.registerCodeLensProvider(BPF_SOURCE, this.lenses),
      vscode.window.onDidChangeVisibleTextEditors(() => this.redraw()),
      vscode.window.onDidChangeActiveTextEditor((e) => e && this.showInView(e.document)),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
    );
    this.registerCommands();
  }

  private registerCommands(): void {
    const { command } = this.deps;
    const loadsAsRoot = "it loads this folder's program into the kernel as root";
    command('verify', () => this.verify([this.deps.selectedTarget()]), { restricted: { action: 'Verify Program', why: loadsAsRoot } });
    command('verifyOnSeveralTargets', async () => {
      const targets = await this.deps.pickTargets('Verify on these targets (a verdict per target)');
      if (targets?.length) await this.verify(targets);
    }, { restricted: { action: 'Verify on Several Targets', why: loadsAsRoot } });
    command('verifier.focus', (uri, target, program) => this.focus(String(uri), String(target), String(program)));
    command('verifier.reveal', (file, line) => this.reveal(String(file), Number(line)));
    command('verifier.explainLog', (uri, failure) => this.explainLog(String(uri), runFailure(failure)));
    command('verifier.showRun', (uri, verdicts) => this.showRun(String(uri), verdicts));
    command('verifyWithHeatMap', (uri, target, program) => this.verifyWithHeatMap(uri, target, program), { restricted: { action: 'Verify with Heat Map', why: loadsAsRoot } });
    command('verifier.clear', () => this.clear());
  }

  private resultOf(doc: vscode.TextDocument): FileResult | undefined {
    const r = this.results.get(doc.uri.toString());
    return r && r.version === doc.version ? r : undefined;
  }

  /** Loads the active program on `targets` without attaching it and shows the verdicts. */
  async verify(targets: string[], document?: vscode.TextDocument, extra: Pick<VerifyOptions, 'heatMap' | 'programs'> = {}): Promise<TargetVerdict[] | undefined> {
    const doc = document ?? vscode.window.activeTextEditor?.document;
    if (!doc || !/\.bpf\.c$/.test(doc.fileName)) {
      void vscode.window.showWarningMessage('Ringbuf Studio: open a *.bpf.c file to verify.');
      return undefined;
    }
    if (doc.isDirty) await doc.save();
    const cfg = this.deps.config.current;
    const where = targets.join(', ');
    const what = extra.programs ? `${extra.programs.join(', ')} in ${path.basename(doc.fileName)}` : path.basename(doc.fileName);
    this.deps.log.info(`verify ${what} on ${where}${extra.heatMap === 'always' ? ' with its heat map (level 2 log)' : ''}`);
    const started = Date.now();
    let verdicts: TargetVerdict[];
    try {
      verdicts = await withCancellableProgress(`Ringbuf Studio: verifying ${what} on ${where}`, (signal) => verifyProgram(doc.fileName, { ...this.options(targets, cfg, signal), ...extra }));
    } catch (err) {
      if (isAbort(err)) return undefined;
      throw err;
    }
    this.deps.log.info(`verified in ${Date.now() - started} ms`);
    for (const v of verdicts) this.logVerdict(v);
    await this.history.record(doc.fileName, verdicts);
    // A verification of some programs keeps the verdicts of the others.
    const before = extra.programs ? this.resultOf(doc)?.verdicts : undefined;
    const shown = before ? mergeVerdicts(before, verdicts) : verdicts;
    const focus = extra.programs?.[0] && targets[0] ? { target: targets[0], program: extra.programs[0] } : defaultFocus(shown);
    this.setResult(doc, { file: doc.fileName, version: doc.version, verdicts: shown, ...(focus ? { focus } : {}) });
    return verdicts;
  }

  /** The CodeLens's "Heat map": one program (or all) on one target (or the selected one), with its level 2 log whatever it costs. */
  private async verifyWithHeatMap(uri: unknown, target: unknown, program: unknown): Promise<void> {
    const doc = typeof uri === 'string' ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri) : vscode.window.activeTextEditor?.document;
    await this.verify([typeof target === 'string' ? target : this.deps.selectedTarget()], doc, { heatMap: 'always', ...(typeof program === 'string' ? { programs: [program] } : {}) });
  }

  /** A Run that loaded: the figures of each program on each target (statistics only), for the CodeLens. */
  private async showRun(uri: string, verdicts: unknown): Promise<void> {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    if (!doc || !Array.isArray(verdicts)) return;
    const figures = (verdicts as TargetVerdict[]).filter((t) => t.programs.length > 0);
    if (!figures.length) return;
    await this.history.record(doc.fileName, figures);
    this.setResult(doc, { file: doc.fileName, version: doc.version, verdicts: figures });
  }

  private options(targets: string[], cfg: StudioConfig, signal: AbortSignal): VerifyOptions {
    return {
      targets,
      logLevel: 2,
      signal,
      ...(cfg.clangPath ? { clangPath: cfg.clangPath } : {}),
      ...(cfg.helperPath ? { helperPath: cfg.helperPath } : {}),
      connect: connectOptions(this.deps.callbacks, cfg, { log: (level, msg) => this.deps.log[level](msg) }),
    };
  }

  private logVerdict(v: TargetVerdict): void {
    if (v.failure) {
      this.deps.log.error(`verify on ${v.target}`, v.failure);
      return;
    }
    for (const w of v.warnings ?? []) this.deps.log.warn(`${v.target}: ${w}`);
    for (const p of v.programs) {
      const e = p.error;
      const figures = p.insnsProcessed !== null ? ` — ${p.insnsProcessed} instructions processed, ${p.totalStates ?? '?'} states (peak ${p.peakStates ?? '?'})${p.log ? `, log level ${p.logLevel ?? '?'}: ${p.log.length} bytes` : ''}` : '';
      this.deps.log.info(`${v.target}: ${p.name} ${p.loaded ? 'loads' : `rejected (${e?.category ?? '?'}) at ${e?.at.file ?? '?'}:${e?.at.line ?? '?'}: ${e?.message ?? ''}`}${figures}`);
    }
  }

  /** A Run the verifier rejected: its log (level 1, the failing path) shown like a verification. */
  private explainLog(uri: string, failure: RunFailure | undefined): void {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    if (!doc || !failure) return;
    const { log, target } = failure;
    const parsed = parseVerifierLog(log);
    if (!parsed.error) return;
    const explanation = explainVerifierLog(parsed, new SourceLocator({ file: doc.fileName, text: doc.getText() }));
    const name = /program '([^']+)'/.exec(failure.message)?.[1] ?? 'the rejected program';
    const s = parsed.stats;
    const verdict: TargetVerdict = {
      target,
      source: { file: doc.fileName },
      programs: [{ name, section: '', loaded: false, insnsProcessed: s?.insnsProcessed ?? null, totalStates: s?.totalStates ?? null, peakStates: s?.peakStates ?? null, error: explanation.error ?? null, explanation, log }],
    };
    this.setResult(doc, { file: doc.fileName, version: doc.version, verdicts: [verdict], focus: { target, program: name } });
  }

  private setResult(doc: vscode.TextDocument, r: FileResult): void {
    this.results.set(doc.uri.toString(), r);
    this.lenses.refresh();
    this.redraw();
    this.view.show(doc.uri.toString(), r);
    void vscode.commands.executeCommand('setContext', 'ringbufStudio.verifierHasResult', true);
  }

  private async focus(uri: string, target: string, program: string): Promise<void> {
    const r = this.results.get(uri);
    if (!r) return;
    r.focus = { target, program };
    this.redraw();
    const f = focused(r);
    const at = f?.program.error?.at;
    if (at) await this.reveal(at.file, at.line);
  }

  private async reveal(file: string, line: number): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const editor = await vscode.window.showTextDocument(doc, { preserveFocus: false, preview: false });
    const pos = new vscode.Position(Math.max(0, line - 1), 0);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private redraw(): void {
    for (const editor of vscode.window.visibleTextEditors) this.decorations.apply(editor, focused(this.resultOf(editor.document)));
  }

  private showInView(doc: vscode.TextDocument): void {
    const r = this.resultOf(doc);
    if (r) this.view.show(doc.uri.toString(), r);
  }

  /** An edit moves lines: the verdicts no longer match the text. */
  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    if (!e.contentChanges.length || !this.results.has(e.document.uri.toString())) return;
    this.results.delete(e.document.uri.toString());
    this.lenses.refresh();
    this.redraw();
    if (this.view.current?.uri === e.document.uri.toString()) this.view.show(e.document.uri.toString(), undefined);
  }

  private clear(): void {
    this.results.clear();
    this.lenses.refresh();
    this.redraw();
    this.view.show('', undefined);
    void vscode.commands.executeCommand('setContext', 'ringbufStudio.verifierHasResult', false);
  }

  private sourceLine(file: string, line: number): string {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    return doc && line >= 1 && line <= doc.lineCount ? doc.lineAt(line - 1).text : '';
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
