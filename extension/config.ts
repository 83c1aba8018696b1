// The one reader of the `ringbufStudio.*` settings: reads them once per change (not at
// every use), owns the single onDidChangeConfiguration listener and says which keys
// changed. What the keys are and how values are parsed lives in extension/settings.ts.
//
//   config.current.clangPath                 // typed, parsed, defaults applied
//   config.onDidChange((e) => { if (e.affects('targets')) … })
//   config.origin('runOnStartup')            // 'default' | 'user' | 'workspace' | 'workspaceFolder'
import * as vscode from 'vscode';
import type { Log } from './log';
import { SETTINGS_SECTION, parseStudioConfig, restrictedSettings, settingKeys, settingOrigin, type SettingKey, type SettingOrigin, type StudioConfig } from './settings';

export type { SettingKey, SettingOrigin, StudioConfig } from './settings';

export interface ConfigChange {
  /** The keys whose value may have changed. */
  readonly keys: ReadonlySet<SettingKey>;
  affects(key: SettingKey): boolean;
  /** What changed them: an edit of settings, the folder becoming trusted (the workspace's restricted values now apply), or the folders. */
  readonly cause: 'settings' | 'trust' | 'folders';
  /** The settings after the change. */
  readonly config: StudioConfig;
}

export class Config implements vscode.Disposable {
  private value: StudioConfig;
  private lastProblems = '';
  private readonly emitter = new vscode.EventEmitter<ConfigChange>();
  /** Fires once per settings change that touches ours, after `current` is updated. */
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  constructor(private readonly log: Log) {
    this.value = this.read();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        const keys = settingKeys.filter((k) => e.affectsConfiguration(`${SETTINGS_SECTION}.${k}`));
        if (keys.length) this.changed(keys, 'settings');
      }),
      // Granting trust lets the workspace's values of the restricted settings apply.
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.log.info('the folder is trusted now: its settings apply, building and running are on');
        this.changed(restrictedSettings, 'trust');
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.changed(settingKeys, 'folders')),
    );
  }

  /** The settings as they apply to this window. */
  get current(): StudioConfig {
    return this.value;
  }

  /** Which layer the effective value of `key` comes from (the first folder's settings included). */
  origin(key: SettingKey): SettingOrigin {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    return settingOrigin(vscode.workspace.getConfiguration(SETTINGS_SECTION, folder).inspect(key));
  }

  private read(): StudioConfig {
    const c = vscode.workspace.getConfiguration(SETTINGS_SECTION);
    const { config, problems } = parseStudioConfig((key) => c.get(key));
    const text = problems.join('\n');
    // Logged when they change, not at every read: a bad value stays bad until edited.
    if (text && text !== this.lastProblems) for (const p of problems) this.log.warn(`settings: ${p}`);
    this.lastProblems = text;
    return config;
  }

  private changed(keys: readonly SettingKey[], cause: ConfigChange['cause']): void {
    this.value = this.read();
    const set = new Set(keys);
    this.emitter.fire({ keys: set, affects: (k) => set.has(k), cause, config: this.value });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
