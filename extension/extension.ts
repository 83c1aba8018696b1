// VS Code glue only: commands, diagnostics, status, targets view, webview host.
// Logic lives in core/. Everything created here is registered for disposal in one place.
import * as vscode from 'vscode';
import { Authoring, isBpfSource } from './authoring';
import { DiagnosticsHub, RingbufCodeActions } from './diagnostics';
import { LivePanelSink } from './eventSink';
import { declareEventTypeInteractively } from './declareEventType';
import { exportToGo } from './exportGo';
import { Log } from './log';
import { newProgramFromTemplate } from './newProgram';
import { Runs } from './runs';
import { sshPrompts } from './sshPrompts';
import { StatusIndicator } from './status';
import { Targets } from './targets';
import { VerifierLog, verifierLogScheme } from './verifierLog';
import { VerifierExplorer } from './verifier/explorer';
import { LOCAL_TARGET } from '../core/transport/registry';

export function activate(context: vscode.ExtensionContext): void {
  const own = <T extends vscode.Disposable>(d: T): T => {
    context.subscriptions.push(d);
    return d;
  };
  const log = own(new Log());
  log.info(`Ringbuf Studio ${String((context.extension.packageJSON as { version?: unknown }).version)} activated (${process.platform}/${process.arch}, VS Code ${vscode.version})`);

  const status = own(new StatusIndicator());
  const hub = own(new DiagnosticsHub());
  const verifierLog = own(new VerifierLog());
  const callbacks = sshPrompts(context.secrets, log);
  const targets = own(new Targets(log, status, callbacks));
  const authoring = own(new Authoring(hub, log, status, () => targets.pageSize()));
  // The panel's Stop button stops the run (called only after `runs` exists).
  const stopFromPanel = (): Promise<void> => runs.stop();
  const panelLog = (level: 'info' | 'warn' | 'error', text: string): void => (level === 'error' ? log.channel.error(text) : level === 'warn' ? log.warn(text) : log.info(text));
  const sink = own(new LivePanelSink(context, stopFromPanel, panelLog, declareEventTypeInteractively));
  const runs = own(new Runs(hub, log, status, verifierLog, sink, callbacks));
  own(targets.onDidChangeSelection(() => authoring.relintAll()));
  own(new VerifierExplorer(context, { log, callbacks, selectedTarget: () => targets.selected, pickTargets: (p) => targets.pickMany(p) }));

  own(vscode.workspace.registerTextDocumentContentProvider(verifierLogScheme, verifierLog));
  own(vscode.languages.registerCodeActionsProvider({ language: 'c', scheme: 'file' }, new RingbufCodeActions(hub), RingbufCodeActions.metadata));

  const command = (id: string, fn: (...args: unknown[]) => unknown): void => {
    own(vscode.commands.registerCommand(`ringbufStudio.${id}`, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        await log.notifyError(id, err);
        return undefined;
      }
    }));
  };
  command('newFromTemplate', (template?: unknown, folder?: unknown) =>
    newProgramFromTemplate(log, { template: typeof template === 'string' ? template : undefined, folder: typeof folder === 'string' ? folder : undefined }),
  );
  command('build', async () => {
    const doc = await runs.pickProgram();
    if (doc) {
      if (doc.isDirty && isBpfSource(doc)) await doc.save();
      await authoring.build(doc);
    }
  });
  command('runLocal', () => runs.run([LOCAL_TARGET]));
  command('runOnTarget', async (target?: unknown) => {
    const name = typeof target === 'string' ? target : await targets.pick('Run on which target?');
    if (name) await runs.run([name]);
  });
  command('runOnSeveralTargets', async (list?: unknown) => {
    const names = Array.isArray(list) && list.every((x) => typeof x === 'string') ? list : await targets.pickMany('Run on these targets at once (events carry their host)');
    if (names?.length) await runs.run(names);
  });
  command('runAgain', () => runs.runAgain());
  command('stop', () => runs.stop());
  command('showLiveEvents', () => runs.showLiveEvents());
  command('generateVmlinux', () => runs.generateVmlinux(targets.selected));
  command('exportGo', async () => exportToGo(log, await runs.pickProgram()));
  command('selectTarget', async (target?: unknown) => {
    const name = typeof target === 'string' ? target : await targets.pick('Select the target for Run and lint settings');
    if (name) await targets.select(name);
  });
  command('probeTarget', async (node?: unknown) => {
    const name = targetName(node) ?? targets.selected;
    await targets.probe(name);
  });
  command('showVerifierLog', () => verifierLog.show());
  command('showLog', () => log.show());
  command('refreshTargets', () => targets.refresh());

  void vscode.commands.executeCommand('setContext', 'ringbufStudio.running', false);
  void runOnStartup(runs, targets.selected, log);
}

/** `ringbufStudio.runOnStartup`: open that program and run it on the default target. */
async function runOnStartup(runs: Runs, target: string, log: Log): Promise<void> {
  const relative = vscode.workspace.getConfiguration('ringbufStudio').get<string>('runOnStartup')?.trim();
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!relative || !folder) return;
  const uri = vscode.Uri.joinPath(folder.uri, relative);
  try {
    const doc = await vscode.workspace.openTextDocument(uri);
    if (!isBpfSource(doc)) throw new Error(`${relative} is not a *.bpf.c file`);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
    log.info(`ringbufStudio.runOnStartup: running ${relative} on ${target}`);
    await runs.run([target], doc);
  } catch (err) {
    await log.notifyError('runOnStartup', err);
  }
}

/** Commands invoked from a Targets view item receive the tree node. */
function targetName(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'object' && arg !== null && 'entry' in arg) {
    const entry = arg.entry;
    if (typeof entry === 'object' && entry !== null && 'name' in entry && typeof entry.name === 'string') return entry.name;
  }
  return undefined;
}

export function deactivate(): void {
  // Everything is in context.subscriptions; disposing a running session ends the helper's stdin.
}
