// The `ringbufStudio.*` settings as data: their keys, which of them a workspace may not
// set, and how raw values become a typed StudioConfig. No VS Code here (unit-tested
// without an editor); extension/config.ts feeds it from the editor's configuration.
import { DEFAULT_MAX_BYTES } from '../core/panel/model';
import { LOCAL_TARGET } from '../core/transport/registry';
import { validateExtraTarget, type ExtraTarget } from '../core/transport/ssh/index';

export const SETTINGS_SECTION = 'ringbufStudio';

/** Every key under `ringbufStudio.` that package.json declares. */
export const settingKeys = [
  'clangPath',
  'helperPath',
  'defaultTarget',
  'targets',
  'pageSize',
  'lintOnType',
  'buildOnSave',
  'runOnStartup',
  'panel.maxEvents',
  'panel.maxMemoryMB',
  'compileOn',
  'maxEntriesOverrides',
  'vm.idleMinutes',
  'vm.memoryMB',
] as const;
export type SettingKey = (typeof settingKeys)[number];

/**
 * Binaries that run on every save and as root: only the user's own (machine) settings
 * may choose them; a cloned repository's .vscode/settings.json never does.
 */
export const machineScopedSettings: readonly SettingKey[] = ['clangPath', 'helperPath'];

/**
 * What a workspace may not set in Restricted Mode (package.json
 * `capabilities.untrustedWorkspaces.restrictedConfigurations`): everything that
 * chooses what runs, where, as root, or with which kernel-side sizes.
 */
export const restrictedSettings: readonly SettingKey[] = [
  'clangPath',
  'helperPath',
  'runOnStartup',
  'defaultTarget',
  'targets',
  'maxEntriesOverrides',
  'compileOn',
];

export interface StudioConfig {
  clangPath: string | undefined;
  helperPath: string | undefined;
  defaultTarget: string;
  targets: ExtraTarget[];
  /** Explicit override; undefined means "the selected target's page size". */
  pageSize: number | undefined;
  lintOnType: boolean;
  buildOnSave: boolean;
  /** A *.bpf.c relative to the first workspace folder, or undefined. */
  runOnStartup: string | undefined;
  /** Events the Live Events panel keeps. */
  panelMaxEvents: number;
  /** Bytes of events the panel keeps. */
  panelMaxBytes: number;
  compileOn: 'local' | 'target';
  maxEntriesOverrides: Record<string, number>;
  /** VM targets (qemu:…) power off after this long unused; 0 = never. */
  vmIdleMinutes: number;
  /** Memory of the VM targets this window boots (128–512 MiB). */
  vmMemoryMB: number;
}

/** Bounds of the panel's store: below them the panel is useless, above them one window can exhaust the editor's memory. */
export const panelLimits = {
  minEvents: 1000,
  maxEvents: 100_000_000,
  minMemoryMB: 16,
  maxMemoryMB: 16_384,
} as const;

export interface ParsedConfig {
  config: StudioConfig;
  /** One line per value that was ignored or clamped, naming the setting and why. */
  problems: string[];
}

function text(v: unknown): string | undefined {
  const t = typeof v === 'string' ? v.trim() : '';
  return t ? t : undefined;
}

function clamp(v: unknown, min: number, max: number, fallback: number, key: SettingKey, problems: string[]): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    problems.push(`ringbufStudio.${key}: ${JSON.stringify(v)} is not a number; using ${fallback}`);
    return fallback;
  }
  if (v < min || v > max) {
    const used = Math.min(max, Math.max(min, v));
    problems.push(`ringbufStudio.${key}: ${v} is outside ${min}–${max}; using ${used}`);
    return used;
  }
  return v;
}

/** Valid entries only, checked exactly as the CLI checks a target spec (ProxyJump hops too); each refusal is a problem. */
function parseTargets(v: unknown, problems: string[]): ExtraTarget[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push('ringbufStudio.targets: expected an array of {name, host, …}; ignored');
    return [];
  }
  const out: ExtraTarget[] = [];
  v.forEach((entry: unknown, i) => {
    try {
      out.push(validateExtraTarget(entry));
    } catch (err) {
      // validateExtraTarget names the entry itself ("ringbufStudio.targets entry "vm1": …"); say which one by position.
      const why = (err instanceof Error ? err.message : String(err)).replace(/^ringbufStudio\.targets entry "\?": /, '');
      problems.push(`${why.startsWith('ringbufStudio.targets') ? why : `ringbufStudio.targets[${i}]: ${why}`}; ignored`);
    }
  });
  return out;
}

function parseOverrides(v: unknown, problems: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) {
    problems.push('ringbufStudio.maxEntriesOverrides: expected {"map": size}; ignored');
    return out;
  }
  for (const [map, n] of Object.entries(v as Record<string, unknown>)) {
    if (typeof n === 'number' && Number.isInteger(n) && n > 0) out[map] = n;
    else problems.push(`ringbufStudio.maxEntriesOverrides.${map}: ${JSON.stringify(n)} is not a positive integer; ignored`);
  }
  return out;
}

/** Raw setting values (as the editor returns them) → a typed config; bad values fall back to defaults and are reported. */
export function parseStudioConfig(get: (key: SettingKey) => unknown): ParsedConfig {
  const problems: string[] = [];
  const pageSize = get('pageSize');
  const compileOn = get('compileOn');
  const config: StudioConfig = {
    clangPath: text(get('clangPath')),
    helperPath: text(get('helperPath')),
    defaultTarget: text(get('defaultTarget')) ?? LOCAL_TARGET,
    targets: parseTargets(get('targets'), problems),
    pageSize: typeof pageSize === 'number' && Number.isInteger(pageSize) && pageSize > 0 ? pageSize : undefined,
    lintOnType: get('lintOnType') !== false,
    buildOnSave: get('buildOnSave') !== false,
    runOnStartup: text(get('runOnStartup')),
    panelMaxEvents: clamp(get('panel.maxEvents'), panelLimits.minEvents, panelLimits.maxEvents, 1_000_000, 'panel.maxEvents', problems),
    panelMaxBytes: clamp(get('panel.maxMemoryMB'), panelLimits.minMemoryMB, panelLimits.maxMemoryMB, DEFAULT_MAX_BYTES / 1048576, 'panel.maxMemoryMB', problems) * 1048576,
    compileOn: compileOn === 'target' ? 'target' : 'local',
    maxEntriesOverrides: parseOverrides(get('maxEntriesOverrides'), problems),
    vmIdleMinutes: clamp(get('vm.idleMinutes'), 0, 24 * 60, 10, 'vm.idleMinutes', problems),
    vmMemoryMB: clamp(get('vm.memoryMB'), 128, 512, 512, 'vm.memoryMB', problems),
  };
  return { config, problems };
}

/** Where a setting's effective value comes from (the highest layer that sets it). */
export type SettingOrigin = 'default' | 'user' | 'workspace' | 'workspaceFolder';

/** The layers of one setting, as `WorkspaceConfiguration.inspect` reports them. */
export interface SettingLayers {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export function settingOrigin(layers: SettingLayers | undefined): SettingOrigin {
  if (layers?.workspaceFolderValue !== undefined) return 'workspaceFolder';
  if (layers?.workspaceValue !== undefined) return 'workspace';
  if (layers?.globalValue !== undefined) return 'user';
  return 'default';
}

/** True for values a repository can ship (.vscode/settings.json, *.code-workspace). */
export function fromWorkspace(origin: SettingOrigin): boolean {
  return origin === 'workspace' || origin === 'workspaceFolder';
}
