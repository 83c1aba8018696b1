// "Every record committed before now has reached the listeners": what makes a live
// test's verdict honest. A test calls it after its trigger exited and closes its window
// when it resolves.
//
// Until the helper has a FLUSH command (RunHandle.flush(), the Trust issue's lifecycle
// work), it is derived from STATS frames, which the helper sends every 250 ms in stream
// order after the EVENTS it wrote before them:
//   1. The first STATS that arrives after the call may have been computed before it (it
//      was in the pipe); it is skipped. The second was computed at least one interval
//      after the first was sent, so after the call: its producer positions P bound every
//      record committed before the call.
//   2. The helper advances a ring's consumer position only once the EVENTS frame carrying
//      those records is fully written, so the first STATS (from the second on) whose
//      consumer position is ≥ P on every ring comes after all of those records.
// Other processes may keep producing meanwhile; "consumer ≥ P" does not wait for the
// ring to be empty, only for what was committed before the call.
import type { Stats } from '../protocol/helper';
import type { RunHandle } from '../run/run';
import { StudioError } from '../util/errors';

export interface DrainBarrier {
  /** Resolves once every record committed before the call was delivered; rejects after timeoutMs or when the run ends. */
  drained(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  /** The latest STATS per target (drop counters). */
  latest(target: string): Stats | undefined;
  dispose(): void;
}

interface Waiter {
  /** STATS seen since the call, per target. */
  seen: Map<string, number>;
  /** Producer positions per target and ring index, from the second STATS. */
  bound: Map<string, Map<number, number>>;
  done: Set<string>;
  resolve: () => void;
}

/** The STATS-based barrier over a run's targets. */
export class StatsDrainBarrier implements DrainBarrier {
  private readonly last = new Map<string, Stats>();
  private readonly waiters = new Set<Waiter>();
  private readonly unsubscribe: () => void;

  constructor(private readonly handle: RunHandle) {
    this.unsubscribe = handle.onStats((target, stats) => this.onStats(target, stats));
  }

  latest(target: string): Stats | undefined {
    return this.last.get(target);
  }

  /** Resolves at the first STATS of every target (a baseline for drop counters). */
  async firstStats(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.handle.targets.some((t) => !this.last.has(t.name))) {
      if (Date.now() > deadline) throw new StudioError(`the helper sent no statistics within ${timeoutMs} ms`, { code: 'EDRAIN' });
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  drained(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const targets = this.handle.targets.map((t) => t.name);
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const waiter: Waiter = { seen: new Map(), bound: new Map(), done: new Set(), resolve: () => finish() };
      const onAbort = (): void => finish(new StudioError('cancelled', { code: 'EABORTED' }));
      const timer = setTimeout(
        () =>
          finish(
            new StudioError(`the helper did not confirm within ${opts.timeoutMs} ms that the events before the trigger's exit were delivered`, {
              code: 'EDRAIN',
              hint: 'the target or the link is overloaded (see the drain statistics with run --format jsonl), or raise the test timeout',
            }),
          ),
        opts.timeoutMs,
      );
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      void this.handle.done.then((end) => finish(new StudioError(`the run ended before the events were confirmed delivered: ${end.message}`, { code: 'EDRAIN' })));
      if (targets.length === 0) return finish();
      this.waiters.add(waiter);
    });
  }

  private onStats(target: string, stats: Stats): void {
    this.last.set(target, stats);
    for (const w of this.waiters) {
      const seen = (w.seen.get(target) ?? 0) + 1;
      w.seen.set(target, seen);
      if (seen === 2) w.bound.set(target, new Map(stats.rings.map((r) => [r.index, r.producerPos])));
      const bound = w.bound.get(target);
      if (bound && stats.rings.every((r) => r.consumerPos >= (bound.get(r.index) ?? 0))) w.done.add(target);
      if (this.handle.targets.every((t) => w.done.has(t.name))) w.resolve();
    }
  }

  dispose(): void {
    this.unsubscribe();
    this.waiters.clear();
  }
}
