// The Targets view's *Kernels* group: the built-in VM targets (qemu:debian-5.10 …) with
// their state — not downloaded, cached, booting, running — and Start / Stop / Download.
// Selecting one works like any target (probe, Run, lint page size); a run boots it on the way.
import * as vscode from 'vscode';
import {
  CATALOGUE,
  QEMU_PREFIX,
  catalogueKernel,
  ensureGuest,
  ensureKernel,
  ensureUserland,
  guestStatus,
  setGuestDefaults,
  stopGuest,
  type GuestState,
  type GuestStatus,
} from '../core/transport/qemu/index';
import type { Config } from './config';
import type { Log } from './log';
import { withCancellableProgress } from './progress';

export interface KernelEntry {
  /** qemu:<name>, the target spec. */
  name: string;
  detail: string;
  state: GuestState;
}

const STATE_TEXT: Record<GuestState, string> = {
  'not-downloaded': 'not downloaded',
  cached: 'cached',
  booting: 'booting…',
  running: 'running',
};

const STATE_ICON: Record<GuestState, string> = {
  'not-downloaded': 'cloud-download',
  cached: 'vm-outline',
  booting: 'sync~spin',
  running: 'vm-running',
};

export class KernelsGroup implements vscode.Disposable {
  private statuses = new Map<string, GuestStatus>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly config: Config,
    private readonly log: Log,
    private readonly changed: () => void,
  ) {
    this.applySettings();
    this.disposables.push(
      config.onDidChange((e) => {
        if (e.affects('vm.idleMinutes') || e.affects('vm.memoryMB')) this.applySettings();
      }),
      vscode.commands.registerCommand('ringbufStudio.vmStart', (node?: unknown) => this.act(node, 'start')),
      vscode.commands.registerCommand('ringbufStudio.vmStop', (node?: unknown) => this.act(node, 'stop')),
      vscode.commands.registerCommand('ringbufStudio.vmDownload', (node?: unknown) => this.act(node, 'download')),
    );
    // Other processes (the CLI, another window) start and stop guests too: look again now and then.
    this.timer = setInterval(() => void this.refresh(), 5000);
    void this.refresh();
  }

  /** Guests this window boots get the settings' memory and idle power-off. */
  private applySettings(): void {
    const cfg = this.config.current;
    setGuestDefaults({ idleSec: Math.round(cfg.vmIdleMinutes * 60), memoryMb: cfg.vmMemoryMB, log: (m) => this.log.info(m) });
  }

  entries(): KernelEntry[] {
    return CATALOGUE.map((k) => {
      const s = this.statuses.get(k.name);
      const state = s?.state ?? 'not-downloaded';
      const facts = `${k.arch}, ${k.pageSize / 1024} KiB pages`;
      return { name: QEMU_PREFIX + k.name, state, detail: `${STATE_TEXT[state]} — ${s?.kernel?.release ?? k.description}, ${facts}` };
    });
  }

  static icon(state: GuestState): string {
    return STATE_ICON[state];
  }

  async refresh(): Promise<void> {
    const next = new Map<string, GuestStatus>();
    try {
      for (const k of CATALOGUE) next.set(k.name, await guestStatus(k));
    } catch (err) {
      this.log.error('VM status', err);
      return;
    }
    const before = JSON.stringify([...this.statuses.values()].map((s) => [s.name, s.state, s.kernel?.release]));
    this.statuses = next;
    if (JSON.stringify([...next.values()].map((s) => [s.name, s.state, s.kernel?.release])) !== before) this.changed();
  }

  private async act(node: unknown, what: 'start' | 'stop' | 'download'): Promise<void> {
    const name = kernelName(node) ?? (await this.pick(what));
    if (!name) return;
    const k = catalogueKernel(name);
    try {
      if (what === 'stop') {
        await stopGuest(k);
      } else {
        const verb = what === 'start' ? 'starting' : 'downloading';
        await withCancellableProgress(`Ringbuf Studio: ${verb} ${QEMU_PREFIX}${k.name}`, async (signal, report) => {
          const opts = { signal, log: (m: string) => { report(m); this.log.info(m); } };
          const refresh = setInterval(() => void this.refresh(), 1000);
          try {
            if (what === 'start') await ensureGuest(k, opts);
            else {
              await ensureKernel(k, opts);
              await ensureUserland(k, opts);
            }
          } finally {
            clearInterval(refresh);
          }
        });
      }
    } catch (err) {
      await this.log.notifyError(`${what} ${QEMU_PREFIX}${k.name}`, err);
    } finally {
      await this.refresh();
    }
  }

  private async pick(what: string): Promise<string | undefined> {
    const chosen = await vscode.window.showQuickPick(
      this.entries().map((e) => ({ label: e.name, description: e.detail })),
      { placeHolder: `${what[0]?.toUpperCase()}${what.slice(1)} which VM kernel?` },
    );
    return chosen?.label;
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** Commands from a Kernels item receive the tree node ({ entry: { name } }); the palette passes nothing. */
function kernelName(arg: unknown): string | undefined {
  const name = typeof arg === 'string' ? arg : (arg as { entry?: { name?: unknown } } | undefined)?.entry?.name;
  return typeof name === 'string' ? name : undefined;
}
