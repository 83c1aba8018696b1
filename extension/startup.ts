// `ringbufStudio.runOnStartup`: open that program and run it on the default target when
// the window opens. Whether it may run by itself, must ask, or must not run is decided in
// extension/startupPolicy.ts; this is the glue (settings' origins, the prompt, the answer
// kept in workspaceState, and a second look when the folder becomes trusted).
import * as vscode from 'vscode';
import type { Config } from './config';
import type { Log } from './log';
import type { Runs } from './runs';
import { decideRunOnStartup, resolveStartupProgram, startupAnswerKey, type StartupAnswer } from './startupPolicy';
import { fromWorkspace } from './settings';
import { allowedByTrust } from './trust';

export class RunOnStartup implements vscode.Disposable {
  /** Settled for this window: ran, was answered, or is not wanted. */
  private settled = false;
  /**
   * Trust was granted and the settings may still be catching up: the editor applies the
   * workspace's restricted values in a settings change of its own, after the grant.
   */
  private trustJustGranted = false;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly state: vscode.Memento,
    private readonly config: Config,
    private readonly runs: Runs,
    private readonly log: Log,
  ) {
    // Restricted Mode refuses; trusting the folder is the moment to look again (with the workspace's values applied).
    this.subscription = config.onDidChange((e) => {
      if (e.cause === 'trust') this.trustJustGranted = true;
      else if (!this.trustJustGranted || !(e.affects('runOnStartup') || e.affects('defaultTarget'))) return;
      this.start();
    });
  }

  /** Looks at the settings once (again after trust is granted) and runs, asks or does nothing. */
  start(): void {
    if (this.settled) return;
    this.log.background('runOnStartup', this.consider());
  }

  private async consider(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const cfg = this.config.current;
    const program = cfg.runOnStartup;
    if (!folder || !program) {
      // In Restricted Mode the editor hides the workspace's value: look again once trusted (and once its values apply).
      this.settled = vscode.workspace.isTrusted && !this.trustJustGranted;
      return;
    }
    this.trustJustGranted = false;
    const target = cfg.defaultTarget;
    const key = startupAnswerKey(program, target);
    const programOrigin = this.config.origin('runOnStartup');
    const targetOrigin = this.config.origin('defaultTarget');
    const decision = decideRunOnStartup({
      program,
      programOrigin,
      target,
      targetOrigin,
      trusted: vscode.workspace.isTrusted,
      remembered: this.state.get<StartupAnswer>(key),
    });
    this.log.info(`runOnStartup ${program} on ${target}: ${decision.action} (${decision.why})`);
    switch (decision.action) {
      case 'nothing':
        this.settled = true;
        return;
      case 'refuse':
        await allowedByTrust('Run on startup', `it would load ${program} into the kernel as root`);
        return;
      case 'ask': {
        const fromRepo = [fromWorkspace(programOrigin) ? 'ringbufStudio.runOnStartup' : '', fromWorkspace(targetOrigin) ? 'ringbufStudio.defaultTarget' : ''].filter(Boolean);
        const run = decision.rememberRun ? 'Run' : 'Run This Time';
        const never = "Don't Run";
        const choice = await vscode.window.showWarningMessage(
          `Ringbuf Studio: this workspace's settings (${fromRepo.join(', ')}) ask to run ${program} as root on ${target} when the folder opens.`,
          run,
          never,
        );
        this.settled = true;
        this.log.info(`runOnStartup ${program} on ${target}: the user answered ${choice ?? 'nothing'}`);
        if (choice === never) await this.state.update(key, 'never' satisfies StartupAnswer);
        if (choice !== run) return;
        if (decision.rememberRun) await this.state.update(key, 'run' satisfies StartupAnswer);
        break;
      }
      case 'run':
        this.settled = true;
        break;
    }
    await this.open(folder.uri.fsPath, program, target);
  }

  private async open(folder: string, program: string, target: string): Promise<void> {
    const resolved = resolveStartupProgram(folder, program);
    if ('error' in resolved) {
      this.log.tell('warn', resolved.error);
      return;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(resolved.file));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
    this.log.info(`runOnStartup: running ${program} on ${target}`);
    await this.runs.run([target], doc);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
