// The Live Events panel's VS Code glue: a WebviewPanel (strict CSP with a fresh nonce,
// scripts only from dist/webview, retainContextWhenHidden off) around the vscode-free
// host model core/panel/model.ts, which does the batching, snapshots, validation and
// export content. Reopening or re-showing the panel is just another ready → snapshot.
//
// API for the extension (one panel per window; it outlives its webview tab so that
// closing and reopening the tab mid-run shows the same state):
//
//   const panel = LivePanel.show(context, runInfo, { config, log });  // create or reveal; a new
//                                                     // runInfo.startTimeMs = new run (store reset);
//                                                     // bounds follow ringbufStudio.panel.* changes
//   panel.pushBatch(batch);            // RecordBatch from core/session — stored, posted ≤ 60/s
//   panel.pushStats(host, stats);      // helper Stats (core/protocol/helper.ts) for one target
//   panel.setState('stopped', 'helper exited');         // running | paused | stopped | disconnected | …
//   panel.setRunInfo(runInfo);         // e.g. after LOADED: maps with effective max_entries
//   panel.onCommand((c) => …);         // 'stop' | 'pause' | 'resume' | 'clear' (returns Disposable)
//                                      //   pause/resume: the panel already paused its *view* and counts
//                                      //   continue; the extension need not pause the helper.
//                                      //   clear: the panel's store is already emptied.
//   panel.onDeclareEventType((map) => …)  // "Declare the event type…" link under hex records
//   panel.onCreateTest((r) => …)       // "Create Test…": { filter, observed } → what to tell the person
//   panel.filterNow()                  // the filter in force and the stored events it matches
//   LivePanel.current                  // the panel, if any (e.g. for "Show Live Events")
//   panel.reveal(); panel.dispose();
//
// Exports go through a save dialog; the file content is built by the host model from
// its own store with the webview's filter/columns/pause point.
import * as vscode from 'vscode';
import { makeNonce, renderPanelHtml } from '../core/panel/html';
import { PanelModel } from '../core/panel/model';
import type { ExportResult } from '../core/panel/export';
import type { Stats } from '../core/protocol/helper';
import type { ExportRequest, PanelCommand, PanelRunInfo, PanelRunState } from '../core/protocol/panel';
import type { RecordBatch } from '../core/session/types';
import type { Config } from './config';

export type { PanelRunInfo, PanelRunState, PanelCommand } from '../core/protocol/panel';

const VIEW_TYPE = 'ringbufStudio.liveEvents';

export interface LivePanelOptions {
  /** The store's bounds come from ringbufStudio.panel.* and follow their changes. */
  config: Config;
  /** Log sink (the extension's Output channel). */
  log?: (level: 'info' | 'warn' | 'error', text: string) => void;
}

export class LivePanel implements vscode.Disposable {
  private static instance: LivePanel | undefined;

  static get current(): LivePanel | undefined {
    return LivePanel.instance;
  }

  /** Creates the panel, or reveals the existing one (a different run resets its store). */
  static show(context: vscode.ExtensionContext, runInfo: PanelRunInfo, options: LivePanelOptions): LivePanel {
    const existing = LivePanel.instance;
    if (existing) {
      existing.setRunInfo(runInfo, runInfo.startTimeMs !== existing.model.runInfo.startTimeMs);
      existing.reveal();
      return existing;
    }
    const panel = new LivePanel(context, runInfo, options);
    LivePanel.instance = panel;
    panel.reveal();
    return panel;
  }

  private readonly model: PanelModel;
  private webviewPanel: vscode.WebviewPanel | undefined;
  private readonly webviewDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly commandListeners = new Set<(c: PanelCommand) => void | Promise<void>>();
  private readonly declareListeners = new Set<(map: string) => void | Promise<void>>();
  private createTestHandler: ((request: { filter: string; observed: number }) => Promise<string | undefined>) | undefined;
  private disposed = false;

  private constructor(
    private readonly context: vscode.ExtensionContext,
    runInfo: PanelRunInfo,
    private readonly options: LivePanelOptions,
  ) {
    const limits = options.config.current;
    this.model = new PanelModel(
      runInfo,
      {
        onCommand: async (c) => {
          for (const l of this.commandListeners) await l(c);
        },
        onDeclareEventType: async (map) => {
          for (const l of this.declareListeners) await l(map);
        },
        saveExport: (result, req) => this.saveExport(result, req),
        onCreateTest: (request) => (this.createTestHandler ? this.createTestHandler(request) : Promise.reject(new Error('this run has no program file to add a test next to'))),
        log: (level, text) => this.options.log?.(level, text),
      },
      { maxEvents: limits.panelMaxEvents, maxBytes: limits.panelMaxBytes },
    );
    this.disposables.push(
      options.config.onDidChange((e) => {
        if (e.affects('panel.maxEvents') || e.affects('panel.maxMemoryMB')) this.model.setLimits(e.config.panelMaxEvents, e.config.panelMaxBytes);
      }),
    );
    context.subscriptions.push(this);
  }

  private get mediaRoot(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
  }

  /** Shows the panel beside the editor, creating the webview tab if it was closed. */
  reveal(): void {
    if (this.disposed) return;
    if (this.webviewPanel) {
      this.webviewPanel.reveal(vscode.ViewColumn.Beside, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'Live Events',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      {
        enableScripts: true,
        enableCommandUris: false,
        enableForms: false,
        localResourceRoots: [this.mediaRoot],
        // Off on purpose: a hidden panel is destroyed; showing it again is ready → snapshot.
        retainContextWhenHidden: false,
      },
    );
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'extension', 'media', 'ringbuf.svg');
    this.webviewPanel = panel;
    const webview = panel.webview;
    this.model.attach((msg) => {
      // VS Code serialises typed arrays efficiently; a false result means the webview is gone.
      webview.postMessage(msg).then(undefined, (err: unknown) => this.options.log?.('warn', `live events: post failed: ${String(err)}`));
    });
    this.webviewDisposables.push(
      webview.onDidReceiveMessage((m: unknown) => {
        // Everything the webview sends is validated by the model (parseWebviewMessage).
        this.model.handleMessage(m).catch((err: unknown) => this.options.log?.('error', `live events: ${String(err)}`));
      }),
      panel.onDidDispose(() => this.webviewClosed()),
    );
    webview.html = this.html(webview);
  }

  private html(webview: vscode.Webview): string {
    const uri = (f: string): string => webview.asWebviewUri(vscode.Uri.joinPath(this.mediaRoot, f)).toString();
    return renderPanelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      panelJs: uri('panel.js'),
      panelCss: uri('panel.css'),
      elementsJs: uri('vscode-elements.js'),
      uplotCss: uri('uPlot.min.css'),
    });
  }

  private webviewClosed(): void {
    this.model.detach();
    for (const d of this.webviewDisposables.splice(0)) d.dispose();
    this.webviewPanel = undefined;
  }

  pushBatch(batch: RecordBatch): void {
    this.model.pushBatch(batch);
  }

  pushStats(host: string, stats: Stats): void {
    this.model.pushStats(host, stats);
  }

  setState(state: PanelRunState, message?: string): void {
    this.model.setState(state, message);
  }

  /** Updates the header (maps, programs, targets, event types); `newRun` also empties the store. */
  setRunInfo(runInfo: PanelRunInfo, newRun = false): void {
    this.model.setRunInfo(runInfo, { newRun });
  }

  onCommand(listener: (command: PanelCommand) => void | Promise<void>): vscode.Disposable {
    this.commandListeners.add(listener);
    return new vscode.Disposable(() => this.commandListeners.delete(listener));
  }

  onDeclareEventType(listener: (map: string) => void | Promise<void>): vscode.Disposable {
    this.declareListeners.add(listener);
    return new vscode.Disposable(() => this.declareListeners.delete(listener));
  }

  /** One handler: the run's program decides where the test goes. */
  onCreateTest(handler: (request: { filter: string; observed: number }) => Promise<string | undefined>): vscode.Disposable {
    this.createTestHandler = handler;
    return new vscode.Disposable(() => {
      if (this.createTestHandler === handler) this.createTestHandler = undefined;
    });
  }

  /** The filter the panel applies now and how many stored events it matches (throws FilterError when it no longer compiles). */
  filterNow(): { filter: string; observed: number } {
    const filter = this.model.viewState.filter;
    return { filter, observed: this.model.countMatching(filter) };
  }

  private async saveExport(result: ExportResult, req: ExportRequest): Promise<string | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      title: `Export ${result.count} ${req.scope === 'visible' ? 'shown' : ''} events`.replace(/\s+/g, ' '),
      defaultUri: folder ? vscode.Uri.joinPath(folder, result.suggestedName) : undefined,
      filters: req.format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      saveLabel: 'Export',
    });
    if (!target) return undefined;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(result.content));
    return target.fsPath;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (LivePanel.instance === this) LivePanel.instance = undefined;
    this.model.dispose();
    this.webviewPanel?.dispose();
    this.webviewClosed();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.commandListeners.clear();
    this.declareListeners.clear();
  }
}
