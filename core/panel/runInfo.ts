// A run as the Live Events panel shows it: core's RunHandle → PanelRunInfo (maps with
// their effective sizes, programs and why they did not attach, event types), and the
// run's states in the panel's words.
import path from 'node:path';
import type { RunHandle, RunState } from '../run';
import type { PanelRunInfo, PanelRunState } from '../protocol/panel';

export function panelRunInfo(run: Pick<RunHandle, 'file' | 'targets' | 'layouts'>, startTimeMs: number): PanelRunInfo {
  const first = run.targets[0];
  return {
    targets: run.targets.map((t) => t.name),
    program: path.basename(run.file),
    file: run.file,
    maps: (first?.loaded.maps ?? []).map((m) => ({
      name: m.name,
      type: m.typeName,
      maxEntries: m.maxEntries,
      ...(m.requestedMaxEntries !== undefined ? { requestedMaxEntries: m.requestedMaxEntries } : {}),
    })),
    programs: (first?.loaded.programs ?? []).map((p) => ({
      name: p.name,
      attachTo: p.attachTarget || p.section,
      attached: p.attached,
      ...(p.error ? { error: p.error.reason || p.error.message } : {}),
    })),
    eventTypes: [...run.layouts].map(([map, layout]) => (layout ? { map, layout } : { map, layout: null, reason: 'the event type is not in the object\'s BTF' })),
    state: 'running',
    startTimeMs,
  };
}

/** The panel says "starting" for every step before streaming. */
export function panelRunState(state: RunState): PanelRunState {
  switch (state) {
    case 'connecting':
    case 'building':
    case 'linting':
    case 'loading':
      return 'starting';
    case 'running':
    case 'paused':
    case 'stopping':
    case 'stopped':
      return state;
    case 'failed':
      return 'error';
  }
}
