// Typed view of the `ringbufStudio.*` settings (declared in package.json "contributes").
import * as vscode from 'vscode';
import { DEFAULT_MAX_BYTES } from '../core/panel/model';

export interface SshTargetSetting {
  name: string;
  host: string;
  port?: number;
  user?: string;
  identityFile?: string;
  proxyJump?: string;
}

export interface StudioConfig {
  clangPath: string | undefined;
  helperPath: string | undefined;
  defaultTarget: string;
  targets: SshTargetSetting[];
  /** Explicit override; undefined means "the selected target's page size". */
  pageSize: number | undefined;
  lintOnType: boolean;
  buildOnSave: boolean;
  /** Events the Live Events panel keeps (at least 1000). */
  panelMaxEvents: number;
  /** Bytes of events the panel keeps (ringbufStudio.panel.maxMemoryMB, at least 16 MiB). */
  panelMaxBytes: number;
  compileOn: 'local' | 'target';
  maxEntriesOverrides: Record<string, number>;
  /** VM targets (qemu:…) power off after this long unused; 0 = never. */
  vmIdleMinutes: number;
  /** Memory of the VM targets this window boots (128–512 MiB). */
  vmMemoryMB: number;
}

export const configSection = 'ringbufStudio';

function nonEmpty(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

function isSshTarget(v: unknown): v is SshTargetSetting {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.name === 'string' && typeof o.host === 'string';
}

export function readConfig(scope?: vscode.ConfigurationScope): StudioConfig {
  const c = vscode.workspace.getConfiguration(configSection, scope);
  const overrides: Record<string, number> = {};
  for (const [map, n] of Object.entries(c.get<Record<string, unknown>>('maxEntriesOverrides') ?? {})) {
    if (typeof n === 'number' && Number.isInteger(n) && n > 0) overrides[map] = n;
  }
  const pageSize = c.get<number | null>('pageSize');
  return {
    clangPath: nonEmpty(c.get<string>('clangPath')),
    helperPath: nonEmpty(c.get<string>('helperPath')),
    defaultTarget: nonEmpty(c.get<string>('defaultTarget')) ?? 'local',
    targets: (c.get<unknown[]>('targets') ?? []).filter(isSshTarget),
    pageSize: typeof pageSize === 'number' && pageSize > 0 ? pageSize : undefined,
    lintOnType: c.get<boolean>('lintOnType') ?? true,
    buildOnSave: c.get<boolean>('buildOnSave') ?? true,
    panelMaxEvents: Math.max(1000, c.get<number>('panel.maxEvents') ?? 1_000_000),
    panelMaxBytes: Math.max(16, c.get<number>('panel.maxMemoryMB') ?? DEFAULT_MAX_BYTES / 1048576) * 1048576,
    compileOn: c.get<string>('compileOn') === 'target' ? 'target' : 'local',
    maxEntriesOverrides: overrides,
    vmIdleMinutes: Math.max(0, c.get<number>('vm.idleMinutes') ?? 10),
    vmMemoryMB: Math.min(512, Math.max(128, c.get<number>('vm.memoryMB') ?? 512)),
  };
}
