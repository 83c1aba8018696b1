// The STATS-based drain barrier's rule. A STATS already in the pipe when the trigger's
// exit is seen cannot be produced on demand with the real helper, so this drives the
// barrier with a stand-in run (a fake, named as such) that delivers STATS frames in
// order; test/integration/livetest proves the barrier end to end with the real helper.
import { describe, expect, it } from 'vitest';
import { StatsDrainBarrier } from '../../../core/livetest/drain';
import type { RingStats, Stats } from '../../../core/protocol/helper';
import type { RunEnd, RunHandle } from '../../../core/run/run';

function fakeRun(): { handle: RunHandle; stats: (producer: number, consumer: number) => void; end: (e: RunEnd) => void } {
  let listener: ((target: string, s: Stats) => void) | undefined;
  let endRun!: (e: RunEnd) => void;
  const done = new Promise<RunEnd>((r) => (endRun = r));
  const handle = {
    targets: [{ name: 'local' }],
    onStats: (fn: (target: string, s: Stats) => void) => {
      listener = fn;
      return () => (listener = undefined);
    },
    done,
  } as unknown as RunHandle;
  const ring = (producerPos: number, consumerPos: number): RingStats => ({ index: 0, name: 'events', size: 4096, records: 0, bytes: 0, producerPos, consumerPos, fill: 0 });
  return {
    handle,
    stats: (p, c) => listener?.('local', { timeMs: 0, paused: false, rings: [ring(p, c)], counters: [{ name: 'dropped', map: '.bss', value: p }] }),
    end: endRun,
  };
}

const settled = async (p: Promise<unknown>): Promise<string> => {
  const state = await Promise.race([p.then(() => 'resolved', (e: Error) => `rejected: ${e.message}`), new Promise((r) => setTimeout(() => r('pending'), 20))]);
  return String(state);
};

describe('StatsDrainBarrier', () => {
  it('ignores the first STATS after the call (it may predate the exit), then waits for consumer ≥ the second one’s producer', async () => {
    const run = fakeRun();
    const barrier = new StatsDrainBarrier(run.handle);
    const drained = barrier.drained({ timeoutMs: 5000 });
    run.stats(100, 100); // in flight before the exit: says nothing about records committed after it
    expect(await settled(drained)).toBe('pending');
    run.stats(180, 120); // computed after the exit: 180 bounds what was committed before
    expect(await settled(drained)).toBe('pending');
    run.stats(260, 170); // others keep producing; 170 < 180 still
    expect(await settled(drained)).toBe('pending');
    run.stats(300, 180); // everything up to 180 written before this frame
    expect(await settled(drained)).toBe('resolved');
    expect(barrier.latest('local')?.counters[0]?.value).toBe(300);
  });

  it('resolves on the second STATS when the ring was already empty then', async () => {
    const run = fakeRun();
    const barrier = new StatsDrainBarrier(run.handle);
    const drained = barrier.drained({ timeoutMs: 5000 });
    run.stats(10, 10);
    run.stats(10, 10);
    expect(await settled(drained)).toBe('resolved');
  });

  it('rejects with a clear message at its timeout, and when the run ends first', async () => {
    const run = fakeRun();
    const barrier = new StatsDrainBarrier(run.handle);
    expect(await settled(barrier.drained({ timeoutMs: 5 }))).toMatch(/^rejected: the helper did not confirm within 5 ms that the events before the trigger's exit were delivered/);
    const waiting = barrier.drained({ timeoutMs: 5000 });
    run.end({ reason: 'helper-exited', events: 0, message: 'local: the helper exited', closed: [], targets: [], delivered: 0, notDeliveredAfterCount: 0, droppedByProgram: 0, leftInRing: null, leftInRingBytes: null });
    expect(await settled(waiting)).toBe('rejected: the run ended before the events were confirmed delivered: local: the helper exited');
  });
});
