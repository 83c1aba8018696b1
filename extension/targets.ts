// The Targets view: `local`, hosts from ~/.ssh/config and `ringbufStudio.targets`.
// Selecting a target probes it and shows what it can do as child items.
import * as vscode from 'vscode';
import type { Hello } from '../core/protocol/helper';
import { probeTarget } from '../core/session/oneShot';
import { LOCAL_TARGET, connectTarget } from '../core/transport/registry';
import { listSshHosts } from '../core/transport/ssh/config';
import { messageOf } from '../core/util/errors';
import type { Config } from './config';
import { connectOptions, type ConnectCallbacks } from './connection';
import type { Log } from './log';
import { isAbort, withCancellableProgress } from './progress';
import type { StatusIndicator } from './status';
import { isTrusted } from './trust';
import { KernelsGroup } from './kernels';
import type { GuestState } from '../core/transport/qemu/index';

export const defaultPageSize = 4096;

interface TargetEntry {
  name: string;
  detail: string;
  origin: 'local' | 'ssh-config' | 'settings' | 'vm';
  /** VM kernels: not-downloaded, cached, booting, running. */
  vmState?: GuestState;
}

type ProbeState = { kind: 'unknown' } | { kind: 'probing' } | { kind: 'ok'; facts: Hello } | { kind: 'failed'; message: string };

type Node = { kind: 'target'; entry: TargetEntry } | { kind: 'kernels' } | { kind: 'fact'; label: string; description: string; icon: string; tooltip?: string };

export class Targets implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly selectionChanged = new vscode.EventEmitter<string>();
  /** Fires with the target name when the selected target or its facts change. */
  readonly onDidChangeSelection = this.selectionChanged.event;
  private readonly probes = new Map<string, ProbeState>();
  private entries: TargetEntry[] = [{ name: LOCAL_TARGET, detail: 'this machine', origin: 'local' }];
  private selectedName: string;
  /** The user chose a target in this window (settings no longer move the selection). */
  private picked = false;
  private readonly view: vscode.TreeView<Node>;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly kernels: KernelsGroup;

  constructor(
    private readonly config: Config,
    private readonly log: Log,
    private readonly status: StatusIndicator,
    private readonly callbacks: ConnectCallbacks,
  ) {
    this.selectedName = config.current.defaultTarget;
    this.status.setTarget(this.selectedName);
    this.view = vscode.window.createTreeView('ringbufStudio.targets', { treeDataProvider: this, showCollapseAll: false });
    this.kernels = new KernelsGroup(config, log, () => this.changed.fire(undefined));
    this.disposables.push(
      this.kernels,
      this.view,
      this.changed,
      this.selectionChanged,
      config.onDidChange((e) => {
        if (e.affects('targets') || e.cause === 'trust') this.refresh();
        // A new default (edited, or the workspace's once trusted) applies unless the user picked one.
        if (e.affects('defaultTarget') && !this.picked && e.config.defaultTarget !== this.selectedName) {
          this.selectedName = e.config.defaultTarget;
          this.status.setTarget(this.selectedName);
          this.selectionChanged.fire(this.selectedName);
          this.changed.fire(undefined);
        }
        if (e.affects('pageSize')) this.selectionChanged.fire(this.selectedName);
      }),
    );
    this.refresh();
  }

  get selected(): string {
    return this.selectedName;
  }

  /** The page size the linter should use: setting → the selected target's probe → 4096. */
  pageSize(): number {
    const override = this.config.current.pageSize;
    if (override) return override;
    const p = this.probes.get(this.selectedName);
    return p?.kind === 'ok' ? p.facts.pageSize : defaultPageSize;
  }

  /** Re-reads ~/.ssh/config and ringbufStudio.targets. */
  refresh(): void {
    const list: TargetEntry[] = [{ name: LOCAL_TARGET, detail: 'this machine', origin: 'local' }];
    try {
      for (const h of listSshHosts()) list.push({ name: h.name, detail: `${h.user ? `${h.user}@` : ''}${h.hostName}${h.port && h.port !== 22 ? `:${h.port}` : ''}`, origin: 'ssh-config' });
    } catch (err) {
      this.log.error('read ~/.ssh/config', err);
    }
    for (const t of this.config.current.targets) {
      if (list.some((e) => e.name === t.name)) continue;
      list.push({ name: t.name, detail: `${t.user ? `${t.user}@` : ''}${t.host}${t.port ? `:${t.port}` : ''}`, origin: 'settings' });
    }
    this.entries = list;
    this.changed.fire(undefined);
  }

  /** Makes `name` the target of Run and of lint settings, then probes it (not in Restricted Mode: probing runs the helper as root). */
  async select(name: string): Promise<void> {
    this.picked = true;
    this.selectedName = name;
    this.status.setTarget(name);
    this.log.info(`target: ${name}`);
    this.selectionChanged.fire(name);
    this.changed.fire(undefined);
    if (isTrusted()) await this.probe(name);
    else this.log.info(`target ${name} not probed: Restricted Mode (probing runs the helper as root)`);
  }

  async probe(name: string): Promise<Hello | undefined> {
    this.probes.set(name, { kind: 'probing' });
    this.changed.fire(undefined);
    try {
      const facts = await withCancellableProgress(`Ringbuf Studio: probing ${name}`, (signal) => this.probeOnce(name, signal));
      this.probes.set(name, { kind: 'ok', facts });
      this.log.info(`probe ${name}: ${facts.kernel} ${facts.arch}, page size ${facts.pageSize}, BTF ${facts.btf ? 'yes' : 'no'}, ringbuf ${facts.ringbuf ? 'yes' : 'no'}`);
      if (!facts.ringbuf) this.log.tell('warn', `${name} runs kernel ${facts.kernel}, which has no BPF ring buffer (needs Linux ≥ 5.8).`);
      return facts;
    } catch (err) {
      if (isAbort(err)) {
        this.probes.set(name, { kind: 'unknown' });
        return undefined;
      }
      const line = this.log.error(`probe ${name}`, err);
      this.probes.set(name, { kind: 'failed', message: line });
      await this.log.notifyError(`probe ${name}`, err);
      return undefined;
    } finally {
      this.changed.fire(undefined);
      if (name === this.selectedName) this.selectionChanged.fire(name);
    }
  }

  /** Connects, runs `ringbuf-helper probe` there, disconnects. */
  private async probeOnce(name: string, signal: AbortSignal): Promise<Hello> {
    const conn = await connectTarget(name, connectOptions(this.callbacks, this.config.current, { signal }));
    try {
      return await probeTarget(conn, { signal });
    } finally {
      await conn.close().catch((err: unknown) => this.log.warn(`probe ${name}: closing the connection: ${messageOf(err)}`));
    }
  }

  /** Every known target by kind, as this view lists them (the Testing view's run profiles). */
  known(): { configured: string[]; kernels: string[] } {
    const all = this.allEntries();
    return { configured: all.filter((e) => e.origin !== 'vm').map((e) => e.name), kernels: all.filter((e) => e.origin === 'vm').map((e) => e.name) };
  }

  /** QuickPick over every known target; returns the chosen name. */
  async pick(placeHolder: string): Promise<string | undefined> {
    this.refresh();
    const items: (vscode.QuickPickItem & { name: string })[] = this.allEntries().map((e) => ({
      name: e.name,
      label: e.name,
      description: e.detail,
      detail: e.name === this.selectedName ? 'selected' : undefined,
    }));
    items.push({ name: '', label: '$(add) Other host…', description: 'user@host[:port]' });
    const choice = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
    if (!choice) return undefined;
    if (choice.name) return choice.name;
    return this.askHost();
  }

  /** Several targets at once (events merged, each with its host): a multi-select over the known ones. */
  async pickMany(placeHolder: string): Promise<string[] | undefined> {
    this.refresh();
    const items = this.allEntries().map((e) => ({ name: e.name, label: e.name, description: e.detail }));
    const chosen = await vscode.window.showQuickPick(items, { placeHolder, canPickMany: true, matchOnDescription: true });
    return chosen?.length ? chosen.map((c) => c.name) : undefined;
  }

  private async askHost(): Promise<string | undefined> {
    const typed = await vscode.window.showInputBox({
      prompt: 'SSH target: an alias from ~/.ssh/config or user@host[:port]',
      validateInput: (v) => (/^[\w.@:[\]-]+$/.test(v.trim()) ? undefined : 'letters, digits, ".", "-", "_", "@", ":" only'),
    });
    return typed?.trim() || undefined;
  }

  /** Configured targets, then the built-in VM kernels. */
  private allEntries(): TargetEntry[] {
    return [...this.entries, ...this.kernels.entries().map((k) => ({ name: k.name, detail: k.detail, origin: 'vm' as const, vmState: k.state }))];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'kernels') {
      const group = new vscode.TreeItem('Kernels', vscode.TreeItemCollapsibleState.Expanded);
      group.iconPath = new vscode.ThemeIcon('server-environment');
      group.tooltip = 'Debian kernels in local VMs (QEMU): x86_64 5.10, 6.1, 6.12 and aarch64 6.12 with 16 KiB pages. A run on one starts it.';
      return group;
    }
    if (node.kind === 'fact') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.description = node.description;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      if (node.tooltip) item.tooltip = node.tooltip;
      return item;
    }
    const e = node.entry;
    const probe = this.probes.get(e.name) ?? { kind: 'unknown' };
    const item = new vscode.TreeItem(e.name, probe.kind === 'ok' || probe.kind === 'failed' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    // The id carries the probe state so a finished probe re-renders the item expanded (VS Code keeps collapse state per id).
    item.id = `target:${e.name}:${probe.kind}`;
    item.contextValue = e.origin === 'vm' ? `target.vm.${e.vmState ?? 'cached'}` : 'target';
    item.description = (e.name === this.selectedName ? '● ' : '') + e.detail;
    const idle = e.origin === 'vm' ? KernelsGroup.icon(e.vmState ?? 'cached') : e.origin === 'local' ? 'vm' : 'remote';
    item.iconPath = new vscode.ThemeIcon(probe.kind === 'probing' ? 'sync~spin' : probe.kind === 'failed' ? 'error' : idle);
    item.tooltip = `${e.name} (${e.detail})${e.name === this.selectedName ? ' — selected' : ''}\nClick to select and probe.`;
    item.command = { command: 'ringbufStudio.selectTarget', title: 'Select Target', arguments: [e.name] };
    return item;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return [...this.entries.map((entry): Node => ({ kind: 'target', entry })), { kind: 'kernels' }];
    if (node.kind === 'kernels') return this.allEntries().filter((e) => e.origin === 'vm').map((entry) => ({ kind: 'target', entry }));
    if (node.kind !== 'target') return [];
    const probe = this.probes.get(node.entry.name) ?? { kind: 'unknown' };
    switch (probe.kind) {
      case 'unknown':
        if (!isTrusted()) return [{ kind: 'fact', label: 'not probed', description: 'Restricted Mode: probing runs the helper as root; trust the folder first', icon: 'shield' }];
        return [{ kind: 'fact', label: 'not probed yet', description: 'select to probe', icon: 'circle-outline' }];
      case 'probing':
        return [{ kind: 'fact', label: 'probing…', description: '', icon: 'sync~spin' }];
      case 'failed':
        return [{ kind: 'fact', label: 'probe failed', description: probe.message, icon: 'error', tooltip: probe.message }];
      case 'ok': {
        const f = probe.facts;
        const facts: Node[] = [
          { kind: 'fact', label: 'kernel', description: f.kernel, icon: 'chip' },
          { kind: 'fact', label: 'arch', description: f.arch, icon: 'circuit-board' },
          { kind: 'fact', label: 'page size', description: String(f.pageSize), icon: 'symbol-ruler' },
          { kind: 'fact', label: 'BTF', description: f.btf ? 'yes' : 'no — CO-RE programs cannot load', icon: f.btf ? 'check' : 'warning' },
          { kind: 'fact', label: 'ring buffer', description: f.ringbuf ? 'yes' : 'no (needs Linux ≥ 5.8)', icon: f.ringbuf ? 'check' : 'warning' },
        ];
        for (const a of attachTypes(f)) {
          facts.push({ kind: 'fact', label: a.name, description: a.ok ? 'attaches' : (a.reason ?? 'not available'), icon: a.ok ? 'check' : 'circle-slash', tooltip: a.reason });
        }
        return facts;
      }
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** What the probe found attachable, then the program types the kernel lacks (without an attach probe of their own). */
function attachTypes(hello: Hello): Array<{ name: string; ok: boolean; reason?: string }> {
  const attach = Object.entries(hello.features.attach).map(([name, ok]) => ({ name, ok }));
  const progTypes = Object.entries(hello.features.progTypes)
    .filter(([name]) => !(name in hello.features.attach))
    .map(([name, ok]) => (ok ? { name, ok } : { name, ok, reason: 'program type not supported' }));
  return [...attach, ...progTypes];
}
