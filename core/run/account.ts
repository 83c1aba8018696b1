// The books of a run at its end: what each target's helper counted (its final STATS, or the
// last one seen when it could not send that) joined with what the run handed to listeners,
// and the one line that says it — never silent about what did not arrive.
import type { Stats } from '../protocol/helper';
import type { SessionAccount, SessionClosed } from '../session/helperSession';
import type { RingAccount, RunAccount, RunEndReason, TargetAccount } from './types';

/** What the run itself counted for one target. */
export interface Handed {
  delivered: number;
  notDeliveredAfterCount: number;
}

/** The program's own drop counters, summed. */
export function droppedByProgram(stats: Stats | undefined): number {
  return stats?.counters.reduce((n, c) => n + c.value, 0) ?? 0;
}

export function targetAccount(target: string, session: SessionAccount, handed: Handed): TargetAccount {
  const fin = session.finalStats;
  const stats = fin ?? session.lastStats;
  const rings: RingAccount[] = (stats?.rings ?? []).map((r) => ({
    name: r.name,
    shipped: fin ? r.records : (session.received[r.index] ?? 0),
    leftInRing: fin ? (r.leftRecords ?? 0) : null,
    leftInRingBytes: fin ? (r.leftBytes ?? 0) : null,
  }));
  return {
    target,
    final: fin !== undefined,
    delivered: handed.delivered,
    notDeliveredAfterCount: handed.notDeliveredAfterCount,
    droppedByProgram: droppedByProgram(stats),
    leftInRing: fin ? rings.reduce((n, r) => n + (r.leftInRing ?? 0), 0) : null,
    leftInRingBytes: fin ? rings.reduce((n, r) => n + (r.leftInRingBytes ?? 0), 0) : null,
    rings,
  };
}

/** Sums over targets; a left-in-ring that any target could not report is unknown (null) in total. */
export function totalAccount(targets: readonly TargetAccount[]): RunAccount {
  const sum = (f: (t: TargetAccount) => number): number => targets.reduce((n, t) => n + f(t), 0);
  const known = targets.every((t) => t.leftInRing !== null);
  return {
    delivered: sum((t) => t.delivered),
    notDeliveredAfterCount: sum((t) => t.notDeliveredAfterCount),
    droppedByProgram: sum((t) => t.droppedByProgram),
    leftInRing: known ? sum((t) => t.leftInRing ?? 0) : null,
    leftInRingBytes: known ? sum((t) => t.leftInRingBytes ?? 0) : null,
  };
}

/** "20000 events delivered (stopped), 0 left in the ring, 0 dropped by the program". */
export function describeBooks(a: RunAccount, why: string): string {
  const parts = [`${a.delivered} event${a.delivered === 1 ? '' : 's'} delivered${why}`];
  if (a.notDeliveredAfterCount) parts.push(`${a.notDeliveredAfterCount} more arrived after the count (not delivered)`);
  parts.push(a.leftInRing === null ? 'unknown how many left in the ring (the helper could not send its final count)' : `${a.leftInRing} left in the ring`);
  parts.push(`${a.droppedByProgram} dropped by the program`);
  return parts.join(', ');
}

/** Why the run ended and its books, in one line. */
export function describeEnd(
  reason: RunEndReason,
  books: RunAccount,
  closed: ReadonlyArray<{ target: string; closed: SessionClosed }>,
  durationMs: number | undefined,
): string {
  const lost = closed.find((c) => c.closed.reason !== 'stopped');
  if (lost && (reason === 'helper-exited' || reason === 'connection-lost')) {
    const what = `${lost.target}: ${lost.closed.message}`;
    const after =
      lost.closed.reason === 'connection-lost' ? '; the helper there detaches the program by itself (reconnect and run again)' : '';
    return `${what}; ${describeBooks(books, '')}${after}`;
  }
  const why =
    reason === 'count'
      ? ' (count reached)'
      : reason === 'duration'
        ? ` in ${(durationMs ?? 0) / 1000} s`
        : reason === 'aborted'
          ? ' (interrupted)'
          : ' (stopped)';
  return describeBooks(books, why);
}
