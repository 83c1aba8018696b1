// The drain's messages: a FLUSH that hit its time bound is an error naming the rings and
// the records left. A bounded-out flush cannot be caused on demand with the real helper, so
// the run handle is a stand-in (a fake, named as such); test/integration/livetest proves
// the drain end to end (a burst right before the trigger's exit is counted in full).
import { describe, expect, it } from 'vitest';
import { drainRun } from '../../../core/livetest/drain';
import type { FlushedRing } from '../../../core/protocol/helper';
import type { RunFlush, RunHandle } from '../../../core/run/types';

function ring(name: string, leftRecords: number, leftBytes: number): FlushedRing {
  return { index: 0, name, records: 10, bytes: 160, consumerPos: 0, goalPos: 0, leftRecords, leftBytes };
}

function fakeRun(answer: RunFlush | Error, targets = ['local']): RunHandle {
  return {
    targets: targets.map((name) => ({ name })),
    flush: () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)),
  } as unknown as RunHandle;
}

const rejection = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: Error) => e.message);

describe('drainRun', () => {
  it('resolves when every target delivered everything committed before it', async () => {
    const complete: RunFlush = { complete: true, targets: [{ target: 'local', flushed: { id: 1, complete: true, rings: [ring('events', 0, 0)] } }] };
    expect(await rejection(drainRun(fakeRun(complete), { timeoutMs: 10_000 }))).toBe('resolved');
  });

  it('an incomplete flush names the target, the ring and what was left in it', async () => {
    const incomplete: RunFlush = {
      complete: false,
      targets: [
        { target: 'local', flushed: { id: 1, complete: true, rings: [ring('events', 0, 0)] } },
        { target: 'vm1', flushed: { id: 1, complete: false, rings: [ring('events', 120, 1920), ring('other', 0, 0)] } },
      ],
    };
    expect(await rejection(drainRun(fakeRun(incomplete, ['local', 'vm1']), { timeoutMs: 10_000 }))).toBe(
      "not every event committed before the trigger's exit was delivered within 10 s: vm1: ring events: 120 records (1920 bytes) still in the ring",
    );
  });

  it('a helper that is gone is a drain error with its cause', async () => {
    expect(await rejection(drainRun(fakeRun(new Error('local: the helper exited')), { timeoutMs: 10_000 }))).toBe(
      "the events committed before the trigger's exit could not be confirmed delivered: local: the helper exited",
    );
  });
});
