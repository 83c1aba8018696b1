// Where a run's events go: the Live Events panel (extension/livePanel.ts). Maps core's
// run (RunHandle) onto the panel's run info and states, and the panel's Stop button,
// "declare the event type" link and "Create Test…" button back onto the extension.
import type * as vscode from 'vscode';
import type { Stats } from '../core/protocol/helper';
import type { RecordBatch } from '../core/session/types';
import type { RunHandle, RunState } from '../core/run';
import { panelRunInfo, panelRunState } from '../core/panel/runInfo';
import { LivePanel } from './livePanel';
import type { Config } from './config';
import type { Log } from './log';

export class LivePanelSink implements vscode.Disposable {
  private panel: LivePanel | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The source of the run the panel shows (the "declare the event type" edit goes there). */
  private sourceFile: string | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly onStop: () => Promise<void>,
    private readonly log: Log,
    private readonly declareEventType: (sourceFile: string, map: string) => Promise<unknown>,
    private readonly createTest: (programFile: string, request: { filter: string; observed: number }) => Promise<string | undefined>,
  ) {}

  /** Create Test from Filter from the palette: the shown run's filter, the events it matched, and its program. */
  async createTestFromPanel(): Promise<void> {
    const panel = LivePanel.current;
    if (!panel || !this.sourceFile) {
      this.log.tell('info', 'Create Test from Filter works on the Live Events of a run: run a program, type a filter in the panel, then create the test.');
      return;
    }
    const result = await this.createTest(this.sourceFile, panel.filterNow());
    if (result) this.log.info(result);
  }

  start(run: RunHandle): void {
    this.sourceFile = run.file;
    const log = (level: 'info' | 'warn' | 'error', text: string): void => (level === 'error' ? this.log.channel.error(text) : level === 'warn' ? this.log.warn(text) : this.log.info(text));
    const panel = LivePanel.show(this.context, panelRunInfo(run, Date.now()), { config: this.config, log });
    if (panel !== this.panel) {
      for (const d of this.subscriptions.splice(0)) d.dispose();
      this.panel = panel;
      this.subscriptions.push(
        panel.onCommand(async (command) => {
          if (command === 'stop') await this.onStop();
        }),
        // Answered at once: the flow waits for the person (a pick, an edit), longer than a panel request may.
        panel.onDeclareEventType((map) => {
          if (this.sourceFile) this.log.background(`declare the event type of ${map}`, this.declareEventType(this.sourceFile, map));
        }),
        // The panel waits for the answer (its request allows the person minutes for the name and trigger).
        panel.onCreateTest((request) => (this.sourceFile ? this.createTest(this.sourceFile, request) : Promise.resolve(undefined))),
      );
    }
  }

  pushBatch(batch: RecordBatch): void {
    this.panel?.pushBatch(batch);
  }

  pushStats(host: string, stats: Stats): void {
    this.panel?.pushStats(host, stats);
  }

  setState(state: RunState, message?: string): void {
    this.panel?.setState(panelRunState(state), message);
  }

  reveal(): void {
    const panel = LivePanel.current;
    if (panel) panel.reveal();
    else this.log.tell('info', 'no run yet. Open a *.bpf.c and run "Ringbuf Studio: Run on Local Host".');
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0)) d.dispose();
  }
}
