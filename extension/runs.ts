// Run on a target, stop, live events, verifier log, vmlinux.h: the glue between
// core's run session, the status bar, the event sink and the Problems panel.
import path from 'node:path';
import * as vscode from 'vscode';
import * as core from './coreApi';
import { readConfig } from './config';
import type { DiagnosticsHub } from './diagnostics';
import type { EventSink } from './eventSink';
import type { Log } from './log';
import { isAbort, withCancellableProgress } from './progress';
import type { StatusIndicator } from './status';
import type { VerifierLog } from './verifierLog';
import { hintOf, isBpfSource } from './authoring';

interface ActiveRun {
  session: core.RunSession;
  file: vscode.Uri;
  events: number;
  drops: number;
  lastRateAt: number;
  eventsAtLastRate: number;
  rate: number;
}

export class Runs implements vscode.Disposable {
  private active: ActiveRun | undefined;
  private starting: AbortController | undefined;

  constructor(
    private readonly hub: DiagnosticsHub,
    private readonly log: Log,
    private readonly status: StatusIndicator,
    private readonly verifierLog: VerifierLog,
    private readonly sink: EventSink,
    private readonly callbacks: core.ConnectCallbacks,
  ) {}

  /** What "Run Again" repeats (set by every run, also one that failed to start). */
  private lastRun: { targets: string[]; file: vscode.Uri } | undefined;

  async runAgain(): Promise<void> {
    const last = this.lastRun;
    if (!last) {
      void vscode.window.showInformationMessage('Ringbuf Studio: nothing ran yet in this window. Open a *.bpf.c and run "Ringbuf Studio: Run on Local Host".');
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
      void vscode.window.showWarningMessage('Ringbuf Studio: open a *.bpf.c file to run (or create one: Ringbuf Studio: New Program from Template…).');
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
    const cfg = readConfig(doc.uri);
    const rel = vscode.workspace.asRelativePath(doc.uri);
    const where = targets.join(', ');
    this.hub.clear('verifier', doc.uri);
    this.status.setTarget(where);
    this.status.set({ state: 'building', what: 'starting' });
    this.log.info(`run ${rel} on ${where}`);
    const controller = new AbortController();
    this.starting = controller;
    try {
      const session = await withCancellableProgress(
        `Ringbuf Studio: ${path.basename(doc.fileName)} on ${where}`,
        (signal, report) =>
          core.startRun({
            file: doc.fileName,
            targets,
            clangPath: cfg.clangPath,
            helperPath: cfg.helperPath,
            compileOn: cfg.compileOn,
            maxEntriesOverrides: cfg.maxEntriesOverrides,
            extraTargets: cfg.targets,
            callbacks: this.callbacks,
            signal,
            progress: (m) => {
              report(m);
              this.status.set({ state: 'building', what: m });
            },
            log: (level, text) => this.logLine(level, text),
          }),
        controller.signal,
      );
      this.attach(session, doc.uri);
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

  private logLine(level: 'debug' | 'info' | 'warn' | 'error', text: string): void {
    if (level === 'error') this.log.channel.error(text);
    else if (level === 'warn') this.log.warn(text);
    else if (level === 'info') this.log.info(text);
    else this.log.debug(text);
  }

  private attach(session: core.RunSession, file: vscode.Uri): void {
    const run: ActiveRun = { session, file, events: 0, drops: 0, lastRateAt: Date.now(), eventsAtLastRate: 0, rate: 0 };
    this.active = run;
    void vscode.commands.executeCommand('setContext', 'ringbufStudio.running', true);
    // Lint with the target's page size and programs that did not attach: shown, but the run goes on.
    this.hub.publish('verifier', file, session.diagnostics);
    this.sink.start(session);
    this.status.set({ state: 'running', eventsPerSecond: 0, drops: 0, program: session.info.program });
    this.log.info(`running ${session.info.program} on ${session.info.targets.join(', ')}: ${session.info.programs.map((p) => `${p.name} → ${p.attachTo}${p.attached ? '' : ' (not attached)'}`).join(', ')}`);
    session.onBatch((batch) => {
      run.events += batch.count;
      this.sink.pushBatch(batch);
    });
    const dropsByHost = new Map<string, number>();
    session.onStats((stats) => {
      dropsByHost.set(stats.host, stats.drops);
      run.drops = [...dropsByHost.values()].reduce((a, b) => a + b, 0);
      const now = Date.now();
      if (now - run.lastRateAt >= 900) {
        run.rate = ((run.events - run.eventsAtLastRate) * 1000) / (now - run.lastRateAt);
        run.lastRateAt = now;
        run.eventsAtLastRate = run.events;
      }
      this.sink.pushStats(stats);
      if (this.active === run) this.status.set({ state: 'running', eventsPerSecond: run.rate, drops: run.drops, program: session.info.program });
    });
    session.onLog((level, text) => this.logLine(level, text));
    session.onState((state) => this.sink.setState(state));
    void session.ended.then((end) => {
      this.sink.setState(end.kind === 'stopped' ? 'stopped' : 'failed', end.message);
      if (this.active === run) this.finish(run, end);
    });
  }

  private finish(run: ActiveRun, end: core.RunEnded): void {
    this.active = undefined;
    void vscode.commands.executeCommand('setContext', 'ringbufStudio.running', false);
    if (end.kind === 'stopped') {
      // The helper's final count, not the last periodic STATS: nothing it drained at stop is missed.
      this.status.set({ state: 'stopped', events: end.books.delivered, drops: end.books.droppedByProgram });
      this.log.info(`run ended: ${end.message}`);
      if (end.books.leftInRing) this.log.warn(`${end.books.leftInRing} events were still in the ring when the drain's time bound ended the run`);
      return;
    }
    const targets = run.session.info.targets.join(', ');
    const what = end.kind === 'disconnected' ? `lost the connection to ${targets}` : `the helper on ${targets} stopped`;
    this.log.channel.error(`${what}: ${end.message}`);
    this.status.set({
      state: 'error',
      message: `${what}: ${end.message}`,
      hint: end.kind === 'disconnected' ? 'the target detached the program by itself; run again to reconnect' : 'see the log (Ringbuf Studio: Show Log)',
    });
    const again = end.kind === 'disconnected' ? 'Reconnect' : 'Run Again';
    void vscode.window.showErrorMessage(`Ringbuf Studio: ${what}. Nothing stays attached there.`, again, 'Show Log').then(async (c) => {
      if (c === again) await this.run(run.session.info.targets, await vscode.workspace.openTextDocument(run.file));
      if (c === 'Show Log') this.log.show();
    });
  }

  private async reportRunFailure(file: vscode.Uri, rel: string, err: unknown): Promise<void> {
    if (err instanceof core.RunFailedError) {
      this.hub.publish('verifier', file, err.diagnostics);
      this.verifierLog.set(`${rel}: ${err.message}`, err.log);
      void vscode.commands.executeCommand('ringbufStudio.verifier.explainLog', file.toString(), { log: err.log, message: err.message, target: this.lastRun?.targets.join(', ') });
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
      await run.session.stop();
    } catch (err) {
      this.log.error('stop', err);
    }
    // The run's own end carries the books (what the final drain delivered, what was left).
    if (this.active === run) this.finish(run, await run.session.ended);
  }

  showLiveEvents(): void {
    this.sink.reveal();
  }

  async generateVmlinux(target: string): Promise<void> {
    const folder = vscode.window.activeTextEditor
      ? path.dirname(vscode.window.activeTextEditor.document.fileName)
      : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (!folder) {
      void vscode.window.showWarningMessage('Ringbuf Studio: open a folder first; vmlinux.h is written next to your program.');
      return;
    }
    const outFile = path.join(folder, 'vmlinux.h');
    try {
      const cfg = readConfig();
      const written = await withCancellableProgress(`Ringbuf Studio: vmlinux.h from ${target}`, (signal) =>
        core.generateVmlinuxHeader({ target, outFile, signal, callbacks: this.callbacks, helperPath: cfg.helperPath, extraTargets: cfg.targets }),
      );
      this.log.info(`vmlinux.h from ${target} → ${written}`);
      void vscode.window.showInformationMessage(`Ringbuf Studio: wrote ${vscode.workspace.asRelativePath(written)} from ${target}'s BTF.`);
    } catch (err) {
      if (isAbort(err)) return;
      await this.log.notifyError(`vmlinux.h from ${target}`, err);
    }
  }

  dispose(): void {
    this.starting?.abort(new Error('extension deactivated'));
    const run = this.active;
    this.active = undefined;
    // Ending the session ends the helper's stdin: it detaches everything by itself.
    if (run) void run.session.stop().catch(() => undefined);
  }
}
