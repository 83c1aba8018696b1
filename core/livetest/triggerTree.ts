// `$trigger`: is this event from the trigger's process tree?
//
// The trigger's pid is what the transport reports for the process it started (the
// `run:` program itself, or the /bin/sh of a `shell:` line). An event belongs to the tree
// when one of its top-level integer fields named `tgid` or `pid` is a pid of the tree, or
// its `ppid` is (then its own process joins the tree: a child of the tree is in it). The
// tree grows from the window's events until nothing changes, so arrival order does not
// matter. Limits (docs/live-tests.md): descendants are found only through events that
// carry `ppid`; a process that emits no event (a subshell that forks without exec) breaks
// the chain below it; pids are the ones the program records (bpf_get_current_pid_tgid()
// gives the initial PID namespace's, which is what the transport reports on a host, not
// inside a container).
import type { EventLayout } from '../btf/layoutTypes';

/** Fields that name the event's process, tried in this order (`tgid` is the process when both exist). */
export const PROCESS_ID_FIELDS = ['tgid', 'pid'] as const;
/** Fields that name the event's parent process. */
export const PARENT_ID_FIELDS = ['ppid'] as const;

export interface ProcessFields {
  ids: string[];
  parents: string[];
}

/** The process-identifying fields a layout has (top-level integers only). */
export function processFieldsOf(layout: EventLayout | null): ProcessFields {
  const ints = new Set(
    (layout?.root.fields ?? []).filter((f) => f.type.kind === 'int' && f.bitSize === undefined && f.name !== '').map((f) => f.name),
  );
  return {
    ids: PROCESS_ID_FIELDS.filter((n) => ints.has(n)),
    parents: PARENT_ID_FIELDS.filter((n) => ints.has(n)),
  };
}

/** One event's process numbers (read from its fields). */
export interface EventProcess {
  /** Values of the id fields present, in PROCESS_ID_FIELDS order. */
  ids: number[];
  parent: number | undefined;
}

/**
 * Marks the events of a window that belong to the trees rooted at `roots`. Returns one
 * flag per event, in the order given.
 */
export function markTriggerEvents(events: readonly EventProcess[], roots: readonly number[]): boolean[] {
  const tree = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const e of events) {
      const own = e.ids[0];
      if (own === undefined || tree.has(own) || e.parent === undefined || !tree.has(e.parent)) continue;
      tree.add(own);
      grew = true;
    }
  }
  return events.map((e) => e.ids.some((id) => tree.has(id)) || (e.parent !== undefined && tree.has(e.parent)));
}
