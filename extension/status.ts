// The health of the native side at a glance: target + state, with a tooltip that
// says what to do. Clicking it opens what matters in that state.
import * as vscode from 'vscode';
import { LOCAL_TARGET } from '../core/transport/registry';

export type Health =
  | { state: 'idle' }
  | { state: 'building'; what: string }
  | { state: 'running'; eventsPerSecond: number; drops: number; program: string }
  | { state: 'stopped'; events: number; drops: number }
  | { state: 'error'; message: string; hint?: string | undefined };

export function formatRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n));
}

export class StatusIndicator implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private target = LOCAL_TARGET;
  private health: Health = { state: 'idle' };

  private readonly trustSubscription: vscode.Disposable;

  constructor() {
    this.item = vscode.window.createStatusBarItem('ringbufStudio.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Ringbuf Studio';
    this.render();
    this.item.show();
    this.trustSubscription = vscode.workspace.onDidGrantWorkspaceTrust(() => this.render());
  }

  setTarget(name: string): void {
    this.target = name;
    this.render();
  }

  set(health: Health): void {
    this.health = health;
    this.render();
  }

  get current(): Health {
    return this.health;
  }

  private render(): void {
    const h = this.health;
    const t = this.target;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.isTrusted = { enabledCommands: ['ringbufStudio.selectTarget', 'ringbufStudio.stop', 'ringbufStudio.showLog', 'ringbufStudio.showLiveEvents', 'ringbufStudio.runLocal'] };
    this.item.backgroundColor = undefined;
    switch (h.state) {
      case 'idle':
        if (!vscode.workspace.isTrusted) {
          this.item.text = `$(shield) ${t}: lint only`;
          this.item.command = 'workbench.trust.manage';
          tip.appendMarkdown('**Ringbuf Studio** — Restricted Mode: ring buffer rules are checked as you type; nothing is compiled or run. Trust this folder to build and run.');
          break;
        }
        this.item.text = `$(circle-outline) ${t}`;
        this.item.command = 'ringbufStudio.selectTarget';
        tip.appendMarkdown(`**Ringbuf Studio** — target \`${t}\`, idle.\n\nOpen a \`*.bpf.c\` file and [Run](command:ringbufStudio.runLocal), or [choose another target](command:ringbufStudio.selectTarget).`);
        break;
      case 'building':
        this.item.text = `$(sync~spin) ${t}: ${h.what}`;
        this.item.command = 'ringbufStudio.showLog';
        tip.appendMarkdown(`**Ringbuf Studio** — ${h.what} for \`${t}\`…\n\nCancel it from the progress notification. [Show log](command:ringbufStudio.showLog)`);
        break;
      case 'running':
        this.item.text = `$(pulse) ${t}: ${formatRate(h.eventsPerSecond)} ev/s` + (h.drops > 0 ? ` $(warning) ${formatRate(h.drops)} dropped` : '');
        this.item.command = 'ringbufStudio.showLiveEvents';
        if (h.drops > 0) this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        tip.appendMarkdown(`**Ringbuf Studio** — \`${h.program}\` running on \`${t}\`: ${formatRate(h.eventsPerSecond)} events/s, ${h.drops} dropped.\n\n`);
        if (h.drops > 0) tip.appendMarkdown('The ring was full: make it larger (`max_entries`, or `ringbufStudio.maxEntriesOverrides`) or emit fewer records.\n\n');
        tip.appendMarkdown('[Show live events](command:ringbufStudio.showLiveEvents) · [Stop](command:ringbufStudio.stop)');
        break;
      case 'stopped':
        this.item.text = `$(debug-stop) ${t}: stopped`;
        this.item.command = 'ringbufStudio.showLiveEvents';
        tip.appendMarkdown(`**Ringbuf Studio** — last run on \`${t}\` stopped after ${h.events} events (${h.drops} dropped). Everything was detached.`);
        break;
      case 'error':
        this.item.text = `$(error) ${t}`;
        this.item.command = 'ringbufStudio.showLog';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        tip.appendText(`Ringbuf Studio — ${h.message}`);
        if (h.hint) tip.appendMarkdown(`\n\n**What to do:** `).appendText(h.hint);
        tip.appendMarkdown('\n\n[Show log](command:ringbufStudio.showLog)');
        break;
    }
    this.item.tooltip = tip;
  }

  dispose(): void {
    this.trustSubscription.dispose();
    this.item.dispose();
  }
}
