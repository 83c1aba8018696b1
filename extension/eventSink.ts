// Where a run's events go. The Live Events panel when it is there; the text
// fallback writes decoded records to an Output channel, rate-limited so a flood
// cannot freeze the editor (counts stay exact; only printing is sampled).
import * as vscode from 'vscode';
import type { RecordBatch, RunInfo, RunSession, RunState, TargetStats } from './coreApi';
import { LivePanel, type PanelRunInfo, type PanelRunState } from './livePanel';

export interface EventSink extends vscode.Disposable {
  start(session: RunSession): void;
  pushBatch(batch: RecordBatch): void;
  pushStats(stats: TargetStats): void;
  setState(state: RunState, message?: string): void;
  reveal(): void;
}

const maxLinesPerSecond = 200;

export class OutputEventSink implements EventSink {
  private channel: vscode.OutputChannel | undefined;
  private session: RunSession | undefined;
  private windowStart = 0;
  private linesInWindow = 0;
  private skipped = 0;

  private out(): vscode.OutputChannel {
    this.channel ??= vscode.window.createOutputChannel('Ringbuf Studio: Events');
    return this.channel;
  }

  start(session: RunSession): void {
    this.session = session;
    const info: RunInfo = session.info;
    const out = this.out();
    out.clear();
    out.appendLine(`# ${info.program} on ${info.targets.join(', ')} — ${new Date().toISOString()}`);
    for (const m of info.maps) out.appendLine(`#   map ${m.name} (${m.type}) max_entries=${m.maxEntries}`);
    for (const p of info.programs) out.appendLine(`#   prog ${p.name} → ${p.attachTo}: ${p.attached ? 'attached' : 'not attached'}`);
    out.show(true);
  }

  pushBatch(batch: RecordBatch): void {
    const session = this.session;
    if (!session) return;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      if (this.skipped) this.out().appendLine(`# … ${this.skipped} more events not printed (the panel shows all)`);
      this.windowStart = now;
      this.linesInWindow = 0;
      this.skipped = 0;
    }
    const room = Math.max(0, maxLinesPerSecond - this.linesInWindow);
    const n = Math.min(room, batch.count);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`${batch.host} ${batch.map} ${session.describeRecord(batch, i)}`);
    if (lines.length) this.out().appendLine(lines.join('\n'));
    this.linesInWindow += n;
    this.skipped += batch.count - n;
  }

  pushStats(_stats: TargetStats): void {
    // The status bar shows rates and drops; the text log stays readable.
  }

  setState(state: RunState, message?: string): void {
    this.out().appendLine(`# ${state}${message ? `: ${message}` : ''}`);
  }

  reveal(): void {
    this.out().show(true);
  }

  dispose(): void {
    this.channel?.dispose();
    this.channel = undefined;
  }
}

/** The Live Events panel (extension/livePanel.ts): batches, stats and state go to the webview. */
export class LivePanelSink implements EventSink {
  private panel: LivePanel | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly onStop: () => Promise<void>,
    private readonly log: (level: 'info' | 'warn' | 'error', text: string) => void,
    private readonly declareEventType: (sourceFile: string, map: string) => Promise<unknown>,
  ) {}

  /** The source of the run the panel shows (the "declare the event type" edit goes there). */
  private sourceFile: string | undefined;

  start(session: RunSession): void {
    this.sourceFile = session.info.file;
    const panel = LivePanel.show(this.context, panelRunInfo(session), { log: this.log });
    if (panel !== this.panel) {
      for (const d of this.subscriptions.splice(0)) d.dispose();
      this.panel = panel;
      this.subscriptions.push(
        panel.onCommand(async (command) => {
          if (command === 'stop') await this.onStop();
        }),
        panel.onDeclareEventType(async (map) => {
          if (this.sourceFile) await this.declareEventType(this.sourceFile, map);
        }),
      );
    }
  }

  pushBatch(batch: RecordBatch): void {
    this.panel?.pushBatch(plainArrays(batch));
  }

  pushStats(stats: TargetStats): void {
    this.panel?.pushStats(stats.host, stats.raw);
  }

  setState(state: RunState, message?: string): void {
    const mapped = panelState(state);
    if (mapped) this.panel?.setState(mapped, message);
  }

  reveal(): void {
    const panel = LivePanel.current;
    if (panel) panel.reveal();
    else void vscode.window.showInformationMessage('Ringbuf Studio: no run yet. Open a *.bpf.c and run "Ringbuf Studio: Run on Local Host".');
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0)) d.dispose();
  }
}

/**
 * VS Code transfers typed arrays to a webview by their constructor name: a Node
 * Buffer (what the helper stream yields) arrives as a plain object and the panel
 * rejects it. Copy such views into plain typed arrays of their own.
 */
function plainArrays(batch: RecordBatch): RecordBatch {
  const plain = (a: ArrayBufferView): boolean => a.constructor === Uint8Array || a.constructor === Uint32Array;
  if (plain(batch.data) && plain(batch.offsets) && plain(batch.lengths)) return batch;
  return {
    ...batch,
    data: batch.data.constructor === Uint8Array ? batch.data : new Uint8Array(batch.data),
    offsets: batch.offsets.constructor === Uint32Array ? batch.offsets : new Uint32Array(batch.offsets),
    lengths: batch.lengths.constructor === Uint32Array ? batch.lengths : new Uint32Array(batch.lengths),
  };
}

function panelState(state: RunState): PanelRunState | undefined {
  switch (state) {
    case 'connecting':
    case 'building':
    case 'linting':
    case 'loading':
      return 'starting';
    case 'running':
    case 'paused':
    case 'stopping':
    case 'stopped':
      return state;
    case 'failed':
      return 'error';
  }
}

function panelRunInfo(session: RunSession): PanelRunInfo {
  const h = session.handle;
  const first = h.targets[0];
  return {
    targets: session.info.targets,
    program: session.info.program,
    file: session.info.file,
    maps: (first?.loaded.maps ?? []).map((m) => ({
      name: m.name,
      type: m.typeName,
      maxEntries: m.maxEntries,
      ...(m.requestedMaxEntries !== undefined ? { requestedMaxEntries: m.requestedMaxEntries } : {}),
    })),
    programs: (first?.loaded.programs ?? []).map((p) => ({
      name: p.name,
      attachTo: p.attachTarget || p.section,
      attached: p.attached,
      ...(p.error ? { error: p.error.reason || p.error.message } : {}),
    })),
    eventTypes: [...h.layouts].map(([map, layout]) => (layout ? { map, layout } : { map, layout: null, reason: 'the event type is not in the object\'s BTF' })),
    state: 'running',
    startTimeMs: Date.now(),
  };
}
