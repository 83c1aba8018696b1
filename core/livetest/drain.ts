// "Every record committed before now has reached the listeners": what makes a live test's
// verdict honest. A test drains after its trigger exited and closes its window when the
// drain resolves.
//
// The drain is the helper's FLUSH (RunHandle.flush()): the helper takes each ring's producer
// position when FLUSH arrives, drains up to it and answers FLUSHED after the last EVENTS
// frame carrying those records, so once it resolves every one of them went through the batch
// listeners. Other processes may keep producing meanwhile; the flush does not wait for the
// ring to be empty. An incomplete flush (its time bound hit) is an error naming what was left.
//
// Drop counters come only with STATS frames (every 250 ms, and at once after RESUME:
// helper/PROTOCOL.md). `StatsWatch.fresh` sends RESUME to a running helper (it changes
// nothing there) and waits for the next STATS of every target: computed after the FLUSH was
// answered, so after the trigger exited, it counts every drop the trigger caused.
import type { Stats } from '../protocol/helper';
import type { RunFlush, RunHandle } from '../run/types';
import { StudioError } from '../util/errors';

export interface DrainOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** FLUSH on every target; rejects (code EDRAIN) when a ring could not be drained in time or the run ended. */
export async function drainRun(handle: RunHandle, opts: DrainOptions): Promise<void> {
  const flushed = await cancellable(handle.flush(opts.timeoutMs), opts.signal).catch((err: unknown) => {
    if (err instanceof StudioError && err.code === 'EABORTED') throw err;
    throw new StudioError(`the events committed before the trigger's exit could not be confirmed delivered: ${err instanceof Error ? err.message : String(err)}`, {
      code: 'EDRAIN',
      cause: err,
    });
  });
  if (flushed.complete) return;
  throw new StudioError(`not every event committed before the trigger's exit was delivered within ${opts.timeoutMs / 1000} s: ${leftOver(flushed, handle.targets.length > 1)}`, {
    code: 'EDRAIN',
    hint: 'the target or the link is overloaded, or the program emits faster than it can be read; narrow what it emits or use a faster link',
  });
}

/** "ring events: 120 records (30720 bytes) still in the ring" per ring (and target) that kept some. */
function leftOver(f: RunFlush, multiTarget: boolean): string {
  const parts = f.targets.flatMap(({ target, flushed }) =>
    flushed.rings
      .filter((r) => r.leftRecords > 0 || r.leftBytes > 0)
      .map((r) => `${multiTarget ? `${target}: ` : ''}ring ${r.name}: ${r.leftRecords} record${r.leftRecords === 1 ? '' : 's'} (${r.leftBytes} bytes) still in the ring`),
  );
  return parts.length ? parts.join('; ') : 'the helper did not say which ring kept them';
}

function cancellable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new StudioError('cancelled', { code: 'EABORTED' }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The latest STATS per target (drop counters), and waits for fresh ones. */
export class StatsWatch {
  private readonly last = new Map<string, Stats>();
  private waiters: Array<{ targets: Set<string>; resolve: () => void; reject: (err: Error) => void }> = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly handle: RunHandle) {
    this.unsubscribe = handle.onStats((target, stats) => this.onStats(target, stats));
    void handle.done.then((end) => {
      const waiting = this.waiters;
      this.waiters = [];
      for (const w of waiting) w.reject(new StudioError(`the run ended before the helper sent statistics: ${end.message}`, { code: 'EDRAIN' }));
    });
  }

  latest(target: string): Stats | undefined {
    return this.last.get(target);
  }

  /** Resolves at the first STATS of every target (a baseline for drop counters). */
  async firstStats(timeoutMs: number): Promise<void> {
    const missing = this.handle.targets.map((t) => t.name).filter((t) => !this.last.has(t));
    if (missing.length) await this.waitFor(missing, timeoutMs);
  }

  /** Asks every target for STATS now and resolves when each has sent one after this call. */
  fresh(timeoutMs: number): Promise<void> {
    const wait = this.waitFor(
      this.handle.targets.map((t) => t.name),
      timeoutMs,
    );
    for (const t of this.handle.targets) if (!t.session.isClosed) t.session.resume();
    return wait;
  }

  dispose(): void {
    this.unsubscribe();
    this.waiters = [];
  }

  private waitFor(targets: string[], timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        targets: new Set(targets),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new StudioError(`the helper sent no statistics within ${timeoutMs} ms`, { code: 'EDRAIN' }));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private onStats(target: string, stats: Stats): void {
    this.last.set(target, stats);
    for (const w of this.waiters) w.targets.delete(target);
    const done = this.waiters.filter((w) => w.targets.size === 0);
    this.waiters = this.waiters.filter((w) => w.targets.size > 0);
    for (const w of done) w.resolve();
  }
}
