// VS Code glue only: commands, diagnostics, status, targets view, Testing view, webview host.
// Logic lives in core/. Everything created here is registered for disposal in one place:
// a new view or provider is one `own(...)` line, a new command one `command(...)` line
// (with `restricted` when it compiles or runs anything).
import * as vscode from 'vscode';
import { LOCAL_TARGET } from '../core/transport/registry';
import { Authoring, isBpfSource } from './authoring';
import { commandRegistrar } from './commands';
import { createTestFromFilter } from './createTest';
import { Config } from './config';
import { DiagnosticsHub, RingbufCodeActions } from './diagnostics';
import { LivePanelSink } from './eventSink';
import { declareEventTypeInteractively } from './declareEventType';
import { exportToGo } from './exportGo';
import { LiveTests } from './liveTests';
import { Log } from './log';
import { newProgramFromTemplate } from './newProgram';
import { Runs, setRunningContext } from './runs';
import { sshPrompts } from './sshPrompts';
import { RunOnStartup } from './startup';
import { StatusIndicator } from './status';
import { Targets } from './targets';
import { VerifierLog, verifierLogScheme } from './verifierLog';
import { VerifierExplorer } from './verifier/explorer';

/** Why each kind of command is off in Restricted Mode (one line each). */
const compiles = "it runs clang on this folder's source";
const loadsAsRoot = "it loads this folder's program into the kernel as root";
const runsHelper = 'it runs the ringbuf helper as root on the target';

export function activate(context: vscode.ExtensionContext): void {
  const own = <T extends vscode.Disposable>(d: T): T => {
    context.subscriptions.push(d);
    return d;
  };
  const log = own(new Log());
  log.info(`Ringbuf Studio ${String((context.extension.packageJSON as { version?: unknown }).version)} activated (${process.platform}/${process.arch}, VS Code ${vscode.version}${vscode.workspace.isTrusted ? '' : ', Restricted Mode: lint only'})`);

  const config = own(new Config(log));
  const status = own(new StatusIndicator());
  const hub = own(new DiagnosticsHub());
  const verifierLog = own(new VerifierLog());
  const callbacks = sshPrompts(context.secrets, log);
  const targets = own(new Targets(config, log, status, callbacks));
  const authoring = own(new Authoring(config, hub, log, status, () => targets.pageSize()));
  // The panel's Stop button stops the run (called only after `runs` exists).
  const stopFromPanel = (): Promise<void> => runs.stop();
  const sink = own(new LivePanelSink(context, config, stopFromPanel, log, (file, map) => declareEventTypeInteractively(log, file, map), createTestFromFilter));
  const runs = own(new Runs(config, hub, log, status, verifierLog, sink, callbacks));
  own(targets.onDidChangeSelection(() => authoring.relintAll()));
  own(new LiveTests({ config, log, callbacks, knownTargets: () => targets.known(), onDidChangeTargets: targets.onDidChangeTreeData, restrictedWhy: loadsAsRoot }));

  own(vscode.workspace.registerTextDocumentContentProvider(verifierLogScheme, verifierLog));
  own(vscode.languages.registerCodeActionsProvider({ language: 'c', scheme: 'file' }, new RingbufCodeActions(hub), RingbufCodeActions.metadata));

  const command = commandRegistrar(own, log);
  own(new VerifierExplorer(context, { log, config, callbacks, command, selectedTarget: () => targets.selected, pickTargets: (p) => targets.pickMany(p) }));
  command('newFromTemplate', (template?: unknown, folder?: unknown) =>
    newProgramFromTemplate(log, config, { template: typeof template === 'string' ? template : undefined, folder: typeof folder === 'string' ? folder : undefined }),
  );
  command('build', async () => {
    const doc = await runs.pickProgram();
    if (doc) {
      if (doc.isDirty && isBpfSource(doc)) await doc.save();
      await authoring.build(doc);
    }
  }, { restricted: { action: 'Build', why: compiles } });
  command('runLocal', () => runs.run([LOCAL_TARGET]), { restricted: { action: 'Run', why: loadsAsRoot } });
  command('runOnTarget', async (target?: unknown) => {
    const name = typeof target === 'string' ? target : await targets.pick('Run on which target?');
    if (name) await runs.run([name]);
  }, { restricted: { action: 'Run on Target', why: loadsAsRoot } });
  command('runOnSeveralTargets', async (list?: unknown) => {
    const names = Array.isArray(list) && list.every((x) => typeof x === 'string') ? list : await targets.pickMany('Run on these targets at once (events carry their host)');
    if (names?.length) await runs.run(names);
  }, { restricted: { action: 'Run on Several Targets', why: loadsAsRoot } });
  command('runAgain', () => runs.runAgain(), { restricted: { action: 'Run Again', why: loadsAsRoot } });
  command('stop', () => runs.stop());
  command('showLiveEvents', () => runs.showLiveEvents());
  command('createTestFromFilter', () => sink.createTestFromPanel());
  command('generateVmlinux', () => runs.generateVmlinux(targets.selected), { restricted: { action: 'Generate vmlinux.h', why: runsHelper } });
  command('exportGo', async () => exportToGo(log, config, await runs.pickProgram()), { restricted: { action: 'Export to Go', why: compiles } });
  command('selectTarget', async (target?: unknown) => {
    const name = typeof target === 'string' ? target : await targets.pick('Select the target for Run and lint settings');
    if (name) await targets.select(name);
  });
  command('probeTarget', async (node?: unknown) => {
    const name = targetName(node) ?? targets.selected;
    await targets.probe(name);
  }, { restricted: { action: 'Probe Target', why: runsHelper } });
  command('showVerifierLog', () => verifierLog.show());
  command('showLog', () => log.show());
  command('refreshTargets', () => targets.refresh());

  setRunningContext(false, log);
  own(new RunOnStartup(context.workspaceState, config, runs, log)).start();
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
