// Step 6 of a run: START every helper and stream until count, duration, abort or stop — then
// STOP each helper (it detaches, drains every ring, and sends its final count) and end with
// the books: every record committed is delivered, dropped by the program, left in a ring (the
// drain's time bound hit), or past --count, and the end message says which.
import type { SessionClosed } from '../session/helperSession';
import { describeEnd, targetAccount, totalAccount, type Handed } from './account';
import type { LoadedRun, RunChannels, RunContext, RunEnd, RunEndReason, RunFlush, RunHandle, RunTarget } from './types';

interface Books {
  events: number;
  handed: Map<string, Handed>;
  closed: Array<{ target: string; closed: SessionClosed }>;
}

/** Hands each batch on until --count is reached; what comes after is counted, not handed. */
function countBatches(targets: RunTarget[], listeners: RunChannels, books: Books, limit: number, onLimit: () => void): void {
  for (const t of targets) {
    const handed = books.handed.get(t.name) ?? { delivered: 0, notDeliveredAfterCount: 0 };
    books.handed.set(t.name, handed);
    t.session.onBatch((batch) => {
      const room = Math.max(0, limit - books.events);
      if (room === 0) {
        handed.notDeliveredAfterCount += batch.count;
        return;
      }
      let b = batch;
      if (b.count > room) {
        handed.notDeliveredAfterCount += b.count - room;
        b = { ...b, count: room, offsets: b.offsets.subarray(0, room), lengths: b.lengths.subarray(0, room) };
      }
      books.events += b.count;
      handed.delivered += b.count;
      listeners.batch.emit(b);
      if (books.events >= limit) onLimit();
    });
  }
}

function endOf(run: LoadedRun, books: Books, reason: RunEndReason, durationMs: number | undefined): RunEnd {
  const targets = run.targets.map((t) => targetAccount(t.name, t.session.account, books.handed.get(t.name) ?? { delivered: 0, notDeliveredAfterCount: 0 }));
  const total = totalAccount(targets);
  return { reason, events: books.events, message: describeEnd(reason, total, books.closed, durationMs), closed: books.closed, ...total, targets };
}

async function flushAll(targets: RunTarget[], timeoutMs?: number): Promise<RunFlush> {
  const flushed = await Promise.all(targets.map(async (t) => ({ target: t.name, flushed: await t.session.flush(timeoutMs) })));
  return { complete: flushed.every((f) => f.flushed.complete), targets: flushed };
}

export function startStreaming(ctx: RunContext, run: LoadedRun): RunHandle {
  const { listeners, opts } = ctx;
  const { targets } = run;
  const books: Books = { events: 0, handed: new Map(), closed: [] };
  let endReason: RunEndReason | undefined;
  let resolveDone!: (e: RunEnd) => void;
  const done = new Promise<RunEnd>((r) => (resolveDone = r));
  const limit = opts.count !== undefined && opts.count > 0 ? opts.count : Infinity;
  let timer: NodeJS.Timeout | undefined;
  let stopping: Promise<RunEnd> | undefined;
  let finishing: Promise<void> | undefined;

  const finish = async (): Promise<void> => {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(ctx.owned.map((c) => c.close().catch(() => undefined)));
    const end = endOf(run, books, endReason ?? 'stopped', opts.durationMs);
    ctx.setState('stopped', end.message);
    resolveDone(end);
  };
  const finishedOnce = (): Promise<void> => (finishing ??= finish());
  const stopAll = (reason: RunEndReason): Promise<RunEnd> => {
    if (stopping) return stopping;
    endReason ??= reason;
    ctx.setState('stopping');
    stopping = Promise.all(targets.map((t) => t.session.stop())).then(async () => {
      await finishedOnce();
      return done;
    });
    return stopping;
  };

  countBatches(targets, listeners, books, limit, () => void stopAll('count'));
  for (const t of targets) {
    t.session.onStats((s) => listeners.stats.emit(t.name, s));
    t.session.onClosed((c) => {
      books.closed.push({ target: t.name, closed: c });
      if (c.reason !== 'stopped') {
        listeners.log.emit(t.name, 'error', c.message);
        endReason ??= c.reason;
      }
      if (books.closed.length === targets.length) void finishedOnce();
    });
  }
  const onAbort = (): void => void stopAll('aborted');
  if (opts.signal) {
    if (opts.signal.aborted) queueMicrotask(onAbort);
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }
  if (opts.durationMs !== undefined && opts.durationMs > 0) timer = setTimeout(() => void stopAll('duration'), opts.durationMs);
  ctx.releaseStartup();
  for (const t of targets) t.session.start();
  ctx.setState('running');

  const on = <K extends 'batch' | 'stats' | 'log' | 'state'>(k: K) => (fn: Parameters<RunChannels[K]['add']>[0]): (() => void) =>
    (listeners[k].add as (f: typeof fn) => () => void)(fn);
  return {
    file: run.file,
    source: run.source,
    objectPath: run.objectPath,
    object: run.object,
    objectBytes: run.objectBytes,
    layouts: run.layouts,
    targets,
    loaded: new Map(targets.map((t) => [t.name, t.loaded])),
    diagnostics: run.diagnostics,
    get events() {
      return books.events;
    },
    get state() {
      return ctx.getState();
    },
    onBatch: on('batch'),
    onStats: on('stats'),
    onLog: on('log'),
    onState: on('state'),
    pause: () => {
      for (const t of targets) if (!t.session.isClosed) t.session.pause();
      ctx.setState('paused');
    },
    resume: () => {
      for (const t of targets) if (!t.session.isClosed) t.session.resume();
      ctx.setState('running');
    },
    flush: (timeoutMs) => flushAll(targets, timeoutMs),
    stop: () => stopAll('stopped'),
    done,
  };
}
