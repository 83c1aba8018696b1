// Whether `ringbufStudio.runOnStartup` may run by itself when a window opens. Running
// loads a program as root, so what a repository's .vscode/settings.json asks for is
// asked of the user first; what the user put in their own settings (kiosks, demos)
// runs as it is. No VS Code here: extension/startup.ts is the glue.
import path from 'node:path';
import { LOCAL_TARGET } from '../core/transport/registry';
import { fromWorkspace, type SettingOrigin } from './settings';

/** The answer kept per workspace (workspaceState), for one program on one target. */
export type StartupAnswer = 'run' | 'never';

export interface StartupRequest {
  /** The effective runOnStartup value (undefined: not set). */
  program: string | undefined;
  programOrigin: SettingOrigin;
  /** The target it would run on (the effective defaultTarget). */
  target: string;
  targetOrigin: SettingOrigin;
  /** Workspace Trust: false in Restricted Mode. */
  trusted: boolean;
  /** What the user answered before for this program and target in this workspace. */
  remembered: StartupAnswer | undefined;
}

export type StartupDecision =
  | { action: 'nothing'; why: string }
  | { action: 'run'; why: string }
  /** `rememberRun`: a "Run" answer may be kept for next time (local targets only). */
  | { action: 'ask'; rememberRun: boolean; why: string }
  | { action: 'refuse'; why: string };

export function decideRunOnStartup(req: StartupRequest): StartupDecision {
  if (!req.program) return { action: 'nothing', why: 'runOnStartup is not set' };
  if (!req.trusted) return { action: 'refuse', why: 'this folder is open in Restricted Mode, where nothing is compiled or run' };
  const fromRepo = fromWorkspace(req.programOrigin) || fromWorkspace(req.targetOrigin);
  if (!fromRepo) return { action: 'run', why: 'runOnStartup and defaultTarget come from your own settings' };
  if (req.remembered === 'never') return { action: 'nothing', why: 'you chose not to run it in this workspace' };
  if (req.target !== LOCAL_TARGET) {
    return { action: 'ask', rememberRun: false, why: `the workspace settings ask to run on ${req.target}, another machine: asked every time` };
  }
  if (req.remembered === 'run') return { action: 'run', why: 'you allowed it for this workspace before' };
  return { action: 'ask', rememberRun: true, why: 'the workspace settings ask for it; asked once per workspace' };
}

/** The workspaceState key of an answer: a repository that changes the program or the target is asked about again. */
export function startupAnswerKey(program: string, target: string): string {
  return `ringbufStudio.runOnStartup:${JSON.stringify([program, target])}`;
}

/**
 * runOnStartup names a *.bpf.c relative to the first workspace folder; the result stays
 * inside that folder (no `..`, no absolute paths out of it).
 */
export function resolveStartupProgram(folder: string, relative: string): { file: string } | { error: string } {
  const file = path.resolve(folder, relative);
  const inside = path.relative(folder, file);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    return { error: `ringbufStudio.runOnStartup: ${relative} is outside the workspace folder ${folder}` };
  }
  if (!file.endsWith('.bpf.c')) return { error: `ringbufStudio.runOnStartup: ${relative} is not a *.bpf.c file` };
  return { file };
}
