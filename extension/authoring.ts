// Write → lint → compile in the editor: lint while typing (debounced), build on
// save or on command; clang's and the linter's diagnostics in their own collections.
import fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { compileBpf, type BuildResult } from '../core/compile/build';
import type { Diagnostic } from '../core/diagnostics';
import { lintFile, lintSource } from '../core/lint';
import type { Config } from './config';
import type { DiagnosticsHub } from './diagnostics';
import type { Log } from './log';
import { isAbort, withCancellableProgress } from './progress';
import type { StatusIndicator } from './status';
import { isTrusted } from './trust';

const lintDelayMs = 300;

export function isBpfSource(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && doc.fileName.endsWith('.bpf.c');
}

export class Authoring implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly building = new Map<string, AbortController>();

  constructor(
    private readonly config: Config,
    private readonly hub: DiagnosticsHub,
    private readonly log: Log,
    private readonly status: StatusIndicator,
    private readonly pageSize: () => number,
  ) {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.scheduleLint(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length && this.config.current.lintOnType) this.scheduleLint(e.document, lintDelayMs);
      }),
      vscode.workspace.onDidSaveTextDocument((d) => this.onSave(d)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
    );
    for (const d of vscode.workspace.textDocuments) this.scheduleLint(d, 0);
  }

  /** Re-lint every open program (e.g. after the page size changed with the target). */
  relintAll(): void {
    for (const d of vscode.workspace.textDocuments) this.scheduleLint(d, 0);
  }

  scheduleLint(doc: vscode.TextDocument, delayMs: number): void {
    if (!isBpfSource(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        this.lintNow(doc);
      }, delayMs),
    );
  }

  private lintNow(doc: vscode.TextDocument): void {
    if (doc.isClosed) return;
    try {
      // Source layer only: fast enough for every (debounced) keystroke, and runs nothing.
      const diags = lintSource(doc.getText(), doc.fileName, { pageSize: this.pageSize() });
      this.hub.publish('lint', doc.uri, diags);
      this.noteLintSeen(diags);
    } catch (err) {
      this.log.error(`lint ${vscode.workspace.asRelativePath(doc.uri)}`, err);
    }
  }

  /** Build on save (quiet: clang's findings go to Problems); in Restricted Mode only the source lint runs. */
  private onSave(doc: vscode.TextDocument): void {
    if (!isBpfSource(doc)) return;
    if (this.config.current.buildOnSave && isTrusted()) this.log.background(`build ${vscode.workspace.asRelativePath(doc.uri)}`, this.build(doc, { quiet: true }));
    else this.scheduleLint(doc, 0);
  }

  /**
   * Compiles the document; clang's diagnostics go to Problems, then the linter runs
   * on source + object (the object layer sees expanded macros). Returns the object path.
   */
  async build(doc: vscode.TextDocument, opts: { quiet?: boolean; signal?: AbortSignal } = {}): Promise<string | undefined> {
    const key = doc.uri.toString();
    this.building.get(key)?.abort(new Error('superseded by a newer build'));
    const controller = new AbortController();
    this.building.set(key, controller);
    const rel = vscode.workspace.asRelativePath(doc.uri);
    const cfg = this.config.current;
    const text = doc.getText();
    const before = this.status.current;
    this.status.set({ state: 'building', what: `compiling ${rel}` });
    try {
      const run = async (signal: AbortSignal): Promise<BuildResult> => {
        const abort = (): void => controller.abort(signal.reason);
        signal.addEventListener('abort', abort, { once: true });
        opts.signal?.addEventListener('abort', abort, { once: true });
        return compileBpf({ file: doc.fileName, signal: controller.signal, ...(cfg.clangPath ? { clangPath: cfg.clangPath } : {}) });
      };
      const result = opts.quiet ? await run(controller.signal) : await withCancellableProgress(`Ringbuf Studio: compiling ${rel}`, run);
      if (controller.signal.aborted) return undefined;
      this.hub.publish('clang', doc.uri, result.diagnostics);
      // Source + compiled object: the object layer sees the macros expanded (authoritative values).
      const object = result.object ?? (result.objectPath ? new Uint8Array(await fs.readFile(result.objectPath)) : undefined);
      const lint = lintFile(object ? { file: doc.fileName, text, object } : { file: doc.fileName, text }, { pageSize: this.pageSize() });
      if (!controller.signal.aborted) this.hub.publish('lint', doc.uri, lint);
      const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
      this.log.info(`build ${rel}: ${result.ok ? 'ok' : `failed (${errors} error(s))`}${result.objectPath ? ` → ${result.objectPath}` : ''}`);
      this.status.set(before.state === 'building' ? { state: 'idle' } : before);
      if (!result.ok && !opts.quiet) {
        const shown = vscode.window.showErrorMessage(`Ringbuf Studio: ${rel} does not compile (${errors} error(s)); see Problems.`, 'Show Problems');
        this.log.background('show Problems', shown.then((c) => (c ? vscode.commands.executeCommand('workbench.actions.view.problems') : undefined)));
      }
      return result.ok ? result.objectPath : undefined;
    } catch (err) {
      if (isAbort(err, controller.signal)) {
        this.log.info(`build ${rel}: cancelled`);
        this.status.set(before.state === 'building' ? { state: 'idle' } : before);
        return undefined;
      }
      const line = this.log.error(`build ${rel}`, err);
      this.status.set({ state: 'error', message: line, hint: hintOf(err) });
      if (!opts.quiet) await this.log.notifyError(`build ${rel}`, err);
      return undefined;
    } finally {
      if (this.building.get(key) === controller) this.building.delete(key);
    }
  }

  /** Completes the walkthrough's "see lint" step the first time a ringbuf rule fires. */
  private lintSeen = false;
  private noteLintSeen(diags: readonly Diagnostic[]): void {
    if (this.lintSeen || !diags.some((d) => /^RB\d+$/.test(d.code))) return;
    this.lintSeen = true;
    this.log.background('set the ringbufStudio.lintSeen context', vscode.commands.executeCommand('setContext', 'ringbufStudio.lintSeen', true));
  }

  private forget(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.delete(key);
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    for (const c of this.building.values()) c.abort(new Error('extension deactivated'));
    for (const d of this.disposables) d.dispose();
  }
}

export function hintOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'hint' in err && typeof err.hint === 'string' ? err.hint : undefined;
}
