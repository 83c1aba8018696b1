// Run on a target, stop, live events, verifier log, vmlinux.h: the glue between
// core's run (core/run), the status bar, the Live Events panel and the Problems panel.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { targetVmlinuxHeader } from '../core/compile/vmlinux';
import { RunError, startRun, type RunEnd, type RunHandle, type RunState } from '../core/run';
import { verdictsOfRun } from '../core/run/verify';
import { connectTarget, LOCAL_TARGET } from '../core/transport/registry';
import { messageOf } from '../core/util/errors';
import { totalDrops } from '../core/panel/rates';
import { hintOf, isBpfSource } from './authoring';
import type { Config } from './config';
import { connectOptions, type ConnectCallbacks } from './connection';
import type { DiagnosticsHub } from './diagnostics';
import type { LivePanelSink } from './eventSink';
import type { Log } from './log';
import { isAbort, withCancellableProgress } from './progress';
import type { StatusIndicator } from './status';
import type { VerifierLog } from './verifierLog';

interface ActiveRun {
  handle: RunHandle;
  file: vscode.Uri;
  events: number;
  drops: number;
  lastRateAt: number;
  eventsAtLastRate: number;
  rate: number;
}

/** Why a run ended, in the words the status bar and notifications use; `end` is core's own account. */
interface RunEnded {
  kind: 'stopped' | 'disconnected' | 'failed';
  message: string;
  events: number;
  end?: RunEnd;
}

/** Progress words for the states a run passes while starting. */
const stateWords: Partial<Record<RunState, string>> = {
  connecting: 'connecting',
  building: 'compiling',
  linting: 'checking ring buffer rules',
  loading: 'loading and attaching',
};

export class Runs implements vscode.Disposable {
  private active: ActiveRun | undefined;
  private starting: AbortController | undefined;

  constructor(
    private readonly config: Config,
    private readonly hub: DiagnosticsHub,
    private readonly log: Log,
    private readonly status: StatusIndicator,
    private readonly verifierLog: VerifierLog,
    private readonly sink: LivePanelSink,
    private readonly callbacks: ConnectCallbacks,
  ) {}

  /** What "Run Again" repeats (set by every run, also one that failed to start). */
  private lastRun: { targets: string[]; file: vscode.Uri } | undefined;

  async runAgain(): Promise<void> {
    const last = this.lastRun;
    if (!last) {
      this.log.tell('info', 'nothing ran yet in this window. Open a *.bpf.c and run "Ringbuf Studio: Run on Local Host".');
      return;
    }
    await this.run(last.targets, await vscode.workspace.openTextDocument(last.file));
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  /** The *.bpf.c to run: the active editor's, else the only open one, else ask. */
  async pickProgram(): Promise<vscode.TextDocument | undefined> {
    const active = vscode.window.activeTextEditor?.document;
    if (active && isBpfSource(active)) return active;
    const open = vscode.workspace.textDocuments.filter(isBpfSource);
    if (open.length === 1 && open[0]) return open[0];
    const found = await vscode.workspace.findFiles('**/*.bpf.c', '**/node_modules/**', 200);
    if (found.length === 0) {
      this.log.tell('warn', 'open a *.bpf.c file to run (or create one: Ringbuf Studio: New Program from Template…).');
      return undefined;
    }
    const pick = found.length === 1 ? found[0] : (await vscode.window.showQuickPick(found.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })), { placeHolder: 'Program to run' }))?.uri;
    return pick ? vscode.workspace.openTextDocument(pick) : undefined;
  }

  async run(targets: string[], program?: vscode.TextDocument): Promise<void> {
    const doc = program ?? (await this.pickProgram());
    if (!doc) return;
    this.lastRun = { targets, file: doc.uri };
    if (doc.isDirty) await doc.save();
    if (this.active) await this.stop();
    this.starting?.abort(new Error('superseded by a newer run'));
    const rel = vscode.workspace.asRelativePath(doc.uri);
    const where = targets.join(', ');
    this.hub.clear('verifier', doc.uri);
    this.status.setTarget(where);
    this.status.set({ state: 'building', what: 'starting' });
    this.log.info(`run ${rel} on ${where}`);
    const controller = new AbortController();
    this.starting = controller;
    try {
      const handle = await withCancellableProgress(
        `Ringbuf Studio: ${path.basename(doc.fileName)} on ${where}`,
        (signal, report) => this.startCoreRun(doc.fileName, targets, signal, (m) => {
          report(m);
          this.status.set({ state: 'building', what: m });
        }),
        controller.signal,
      );
      this.attach(handle, doc.uri);
    } catch (err) {
      if (isAbort(err, controller.signal)) {
        this.log.info(`run ${rel}: cancelled`);
        this.status.set({ state: 'idle' });
        return;
      }
      await this.reportRunFailure(doc.uri, rel, err);
    } finally {
      if (this.starting === controller) this.starting = undefined;
    }
  }

  private startCoreRun(file: string, targets: string[], signal: AbortSignal, progress: (message: string) => void): Promise<RunHandle> {
    const cfg = this.config.current;
    if (cfg.compileOn === 'target' && targets.some((t) => t !== LOCAL_TARGET)) {
      this.log.warn('ringbufStudio.compileOn = "target" is not supported yet: compiling locally with the target\'s vmlinux.h');
    }
    return startRun({
      file,
      targets,
      maxEntries: cfg.maxEntriesOverrides,
      // The verifier's statistics of every program (~150 bytes each; no extra verification): the CodeLens figures.
      verifierLevel: 0,
      signal,
      ...(cfg.clangPath ? { clangPath: cfg.clangPath } : {}),
      ...(cfg.helperPath ? { helperPath: cfg.helperPath } : {}),
      connect: connectOptions(this.callbacks, cfg, { log: (level, msg) => this.logLine(level, msg) }),
      listeners: {
        state: (state, detail) => {
          const word = stateWords[state];
          if (word) progress(detail ? `${word} (${detail})` : word);
        },
        log: (target, level, text) => this.logLine(level, `[${target}] ${text}`),
      },
    });
  }

  private logLine(level: string, text: string): void {
    if (level === 'error') this.log.channel.error(text);
    else if (level === 'warn') this.log.warn(text);
    else if (level === 'info') this.log.info(text);
    else this.log.debug(text);
  }

  private attach(handle: RunHandle, file: vscode.Uri): void {
    const run: ActiveRun = { handle, file, events: 0, drops: 0, lastRateAt: Date.now(), eventsAtLastRate: 0, rate: 0 };
    const program = path.basename(handle.file);
    this.active = run;
    setRunningContext(true, this.log);
    // Lint with the target's page size and programs that did not attach: shown, but the run goes on.
    this.hub.publish('verifier', file, handle.diagnostics);
    this.sink.start(handle);
    this.status.set({ state: 'running', eventsPerSecond: 0, drops: 0, program });
    const first = handle.targets[0];
    const attached = (first?.loaded.programs ?? []).map((p) => `${p.name} → ${p.attachTarget || p.section}${p.attached ? '' : ' (not attached)'}`);
    this.log.info(`running ${program} on ${handle.targets.map((t) => t.name).join(', ')}: ${attached.join(', ')}`);
    this.log.background('show the verifier figures', vscode.commands.executeCommand('ringbufStudio.verifier.showRun', file.toString(), verdictsOfRun(handle)));
    handle.onBatch((batch) => {
      run.events += batch.count;
      this.sink.pushBatch(batch);
    });
    const dropsByHost = new Map<string, number>();
    handle.onStats((host, stats) => {
      dropsByHost.set(host, totalDrops(stats));
      run.drops = [...dropsByHost.values()].reduce((a, b) => a + b, 0);
      const now = Date.now();
      if (now - run.lastRateAt >= 900) {
        run.rate = ((run.events - run.eventsAtLastRate) * 1000) / (now - run.lastRateAt);
        run.lastRateAt = now;
        run.eventsAtLastRate = run.events;
      }
      this.sink.pushStats(host, stats);
      if (this.active === run) this.status.set({ state: 'running', eventsPerSecond: run.rate, drops: run.drops, program });
    });
    handle.onLog((target, level, text) => this.logLine(level, `[${target}] ${text}`));
    handle.onState((state) => this.sink.setState(state));
    // `done` never rejects (core/run); a throw in this handler is logged.
    this.log.background('run ended', handle.done.then((end) => {
      const ended = runEnded(end);
      this.sink.setState(ended.kind === 'stopped' ? 'stopped' : 'failed', end.message);
      if (this.active === run) this.finish(run, ended);
    }));
  }

  private finish(run: ActiveRun, end: RunEnded): void {
    this.active = undefined;
    setRunningContext(false, this.log);
    if (end.kind === 'stopped') {
      // The helper's final count, not the last periodic STATS: nothing it drained at stop is missed.
      const books = end.end;
      this.status.set({ state: 'stopped', events: books?.delivered ?? run.events, drops: books?.droppedByProgram ?? run.drops });
      this.log.info(`run ended: ${end.message}`);
      if (books?.leftInRing) this.log.warn(`${books.leftInRing} events were still in the ring when the drain's time bound ended the run`);
      return;
    }
    const targets = run.handle.targets.map((t) => t.name);
    const what = end.kind === 'disconnected' ? `lost the connection to ${targets.join(', ')}` : `the helper on ${targets.join(', ')} stopped`;
    this.log.channel.error(`${what}: ${end.message}`);
    this.status.set({
      state: 'error',
      message: `${what}: ${end.message}`,
      hint: end.kind === 'disconnected' ? 'the target detached the program by itself; run again to reconnect' : 'see the log (Ringbuf Studio: Show Log)',
    });
    const again = end.kind === 'disconnected' ? 'Reconnect' : 'Run Again';
    const shown = vscode.window.showErrorMessage(`Ringbuf Studio: ${what}. Nothing stays attached there.`, again, 'Show Log');
    this.log.background(again, shown.then(async (c) => {
      if (c === again) await this.run(targets, await vscode.workspace.openTextDocument(run.file));
      if (c === 'Show Log') this.log.show();
    }));
  }

  private async reportRunFailure(file: vscode.Uri, rel: string, err: unknown): Promise<void> {
    // Failures that point at source lines (verifier rejects, attach failures) carry them.
    if (err instanceof RunError && err.diagnostics.length > 0) {
      this.hub.publish('verifier', file, err.diagnostics);
      const log = err.detail ?? err.diagnostics.map((d) => d.detail ?? '').join('\n');
      this.verifierLog.set(`${rel}: ${err.message}`, log);
      this.log.background('explain the verifier log', vscode.commands.executeCommand('ringbufStudio.verifier.explainLog', file.toString(), { log, message: err.message, target: this.lastRun?.targets.join(', ') }));
      const line = this.log.error(`run ${rel}`, err);
      this.status.set({ state: 'error', message: line, hint: 'see Problems; the full log: Ringbuf Studio: Show Verifier Log' });
      const choice = await vscode.window.showErrorMessage(`Ringbuf Studio: ${err.message}`, 'Show Problems', 'Show Verifier Log');
      if (choice === 'Show Problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
      if (choice === 'Show Verifier Log') await this.verifierLog.show();
      return;
    }
    const line = this.log.error(`run ${rel}`, err);
    this.status.set({ state: 'error', message: line, hint: hintOf(err) });
    await this.log.notifyError(`run ${rel}`, err);
  }

  async stop(): Promise<void> {
    this.starting?.abort(new Error('stopped by the user'));
    const run = this.active;
    if (!run) return;
    this.log.info('stopping: detaching everything');
    try {
      await run.handle.stop();
    } catch (err) {
      this.log.error('stop', err);
    }
    // The run's own end carries the books (what the final drain delivered, what was left).
    if (this.active === run) this.finish(run, runEnded(await run.handle.done));
  }

  showLiveEvents(): void {
    this.sink.reveal();
  }

  async generateVmlinux(target: string): Promise<void> {
    const folder = vscode.window.activeTextEditor
      ? path.dirname(vscode.window.activeTextEditor.document.fileName)
      : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (!folder) {
      this.log.tell('warn', 'open a folder first; vmlinux.h is written next to your program.');
      return;
    }
    const outFile = path.join(folder, 'vmlinux.h');
    try {
      await withCancellableProgress(`Ringbuf Studio: vmlinux.h from ${target}`, (signal) => this.writeVmlinuxHeader(target, outFile, signal));
      this.log.tell('info', `wrote ${vscode.workspace.asRelativePath(outFile)} from ${target}'s BTF.`);
    } catch (err) {
      if (isAbort(err)) return;
      await this.log.notifyError(`vmlinux.h from ${target}`, err);
    }
  }

  /** From core's per-target cache (the same one runs and the CLI use). */
  private async writeVmlinuxHeader(target: string, outFile: string, signal: AbortSignal): Promise<void> {
    const conn = await connectTarget(target, connectOptions(this.callbacks, this.config.current, { signal }));
    try {
      const header = await targetVmlinuxHeader(conn, { signal });
      signal.throwIfAborted();
      await fs.copyFile(path.join(header.dir, 'vmlinux.h'), outFile);
    } finally {
      await conn.close().catch((err: unknown) => this.log.warn(`vmlinux.h: closing the connection to ${target}: ${messageOf(err)}`));
    }
  }

  dispose(): void {
    this.starting?.abort(new Error('extension deactivated'));
    const run = this.active;
    this.active = undefined;
    // Ending the session ends the helper's stdin: it detaches everything by itself.
    if (run) this.log.background('stop the run at deactivation', run.handle.stop());
  }
}

/** How a core run's end reads in the editor: stopped (with its books), disconnected, or failed. */
function runEnded(end: RunEnd): RunEnded {
  const kind = end.reason === 'connection-lost' ? 'disconnected' : end.reason === 'helper-exited' ? 'failed' : 'stopped';
  return { kind, message: end.message, events: end.events, end };
}

/** The `ringbufStudio.running` context key (editor title ▶/■ buttons). */
export function setRunningContext(running: boolean, log: Log): void {
  log.background('set the ringbufStudio.running context', vscode.commands.executeCommand('setContext', 'ringbufStudio.running', running));
}
