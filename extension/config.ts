// Typed view of the `ringbufStudio.*` settings (declared in package.json "contributes").
import * as vscode from 'vscode';
import { DEFAULT_MAX_BYTES } from '../core/panel/model';
import { LOCAL_TARGET } from '../core/transport/registry';
import { validateExtraTarget, type ExtraTarget } from '../core/transport/ssh/config';

export type SshTargetSetting = ExtraTarget;

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
}

export const configSection = 'ringbufStudio';

function nonEmpty(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

/** Valid entries only, checked as the CLI checks a target spec; each refusal is reported once through `onInvalid`. */
function validTargets(raw: unknown[], onInvalid: (message: string) => void): SshTargetSetting[] {
  const out: SshTargetSetting[] = [];
  for (const entry of raw) {
    try {
      out.push(validateExtraTarget(entry));
    } catch (err) {
      onInvalid(err instanceof Error ? err.message : String(err));
    }
  }
  return out;
}

const reportedInvalid = new Set<string>();
function warnInvalidTarget(message: string): void {
  if (reportedInvalid.has(message)) return;
  reportedInvalid.add(message);
  void vscode.window.showWarningMessage(`Ringbuf Studio ignores a target: ${message}`);
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
    defaultTarget: nonEmpty(c.get<string>('defaultTarget')) ?? LOCAL_TARGET,
    targets: validTargets(c.get<unknown[]>('targets') ?? [], warnInvalidTarget),
    pageSize: typeof pageSize === 'number' && pageSize > 0 ? pageSize : undefined,
    lintOnType: c.get<boolean>('lintOnType') ?? true,
    buildOnSave: c.get<boolean>('buildOnSave') ?? true,
    panelMaxEvents: Math.max(1000, c.get<number>('panel.maxEvents') ?? 1_000_000),
    panelMaxBytes: Math.max(16, c.get<number>('panel.maxMemoryMB') ?? DEFAULT_MAX_BYTES / 1048576) * 1048576,
    compileOn: c.get<string>('compileOn') === 'target' ? 'target' : 'local',
    maxEntriesOverrides: overrides,
  };
}
