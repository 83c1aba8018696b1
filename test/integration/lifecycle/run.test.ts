// "Nothing committed is lost at stop", as a user of startRun sees it, for every way a run ends:
// stop, abort (Ctrl-C), --count, --duration, the helper killed (SIGTERM: it still drains;
// SIGKILL: the books say what is unknown), a reader stuck past the drain bound. Each run is
// checked against the program's own books (its account map):
//   delivered + notDeliveredAfterCount + leftInRing == committed, droppedByProgram == failed reservations.
import { PassThrough, type Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunHandle } from '../../../core/run/run';
import { loadRun, startRun } from '../../../core/run/run';
import type { HelperProcess, SpawnHelperOptions } from '../../../core/transport/types';
import { LocalTarget } from '../../../core/transport/local';
import { available } from '../../support/prereq';
import { prepare, waitProgramsGone } from '../run/support';
import { burst, expectBalanced, lifecycleProgram, pinAccount, type Books, type LifecycleProgram } from './support';

/** The local target, with a hand on the helper's stdout (to stop reading it, as a stuck reader would). */
class ReachableTarget extends LocalTarget {
  private real: Readable | undefined;
  private relay: PassThrough | undefined;
  override async spawnHelper(args: readonly string[], options?: SpawnHelperOptions): Promise<HelperProcess> {
    const helper = await super.spawnHelper(args, options);
    // The session reads a relay: its own pause/resume (flow control, resumed at stop) cannot
    // undo a reader that is stuck below it.
    const relay = (this.relay = new PassThrough());
    const real = (this.real = helper.stdout as Readable);
    real.pipe(relay);
    return new Proxy(helper, { get: (t, k) => (k === 'stdout' ? relay : Reflect.get(t, k, t)) as unknown });
  }
  stuck(): void {
    this.real?.unpipe(this.relay);
    this.real?.pause();
  }
  unstuck(): void {
    if (this.relay) this.real?.pipe(this.relay);
  }
}

describe.skipIf(!available('bpf'))('every way a run ends keeps the books (local kernel)', () => {
  let prog: LifecycleProgram | undefined;
  let handle: RunHandle | undefined;
  let release: (() => void) | undefined;
  beforeAll(() => prepare());
  afterEach(async () => {
    await handle?.stop();
    handle = undefined;
    release?.();
    release = undefined;
    prog?.cleanup();
    prog = undefined;
  });

  async function run(opts: Partial<Parameters<typeof startRun>[0]> = {}, ringBytes?: number): Promise<{ h: RunHandle; read: () => Books; p: LifecycleProgram }> {
    const p = (prog = lifecycleProgram(ringBytes ? { ringBytes } : {}));
    const h = (handle = await startRun({ file: p.source, ...opts }));
    const account = await pinAccount(p.account);
    release = account.release;
    return { h, read: account.read, p };
  }

  it('stop right after a 20 000-record burst: all 20 000 delivered, 0 left, 0 dropped', async () => {
    const { h, read, p } = await run();
    await burst(p.comm, 80).done;
    const end = await h.stop();
    expect(end.reason).toBe('stopped');
    expect(read()).toEqual({ committed: 20_000, failed: 0 });
    expect(end).toMatchObject({ delivered: 20_000, events: 20_000, leftInRing: 0, droppedByProgram: 0, notDeliveredAfterCount: 0 });
    expect(end.message).toBe('20000 events delivered (stopped), 0 left in the ring, 0 dropped by the program');
    expectBalanced(end, read());
  });

  it('stop while paused, the burst still in the ring: all delivered at stop', async () => {
    const { h, read, p } = await run();
    h.pause();
    await new Promise((r) => setTimeout(r, 200));
    await burst(p.comm, 80).done;
    expect(h.events).toBe(0);
    const end = await h.stop();
    expect(end.delivered).toBe(20_000);
    expectBalanced(end, read());
  });

  it('abort (Ctrl-C) in the middle of a flood that overflows the ring', async () => {
    const controller = new AbortController();
    const { h, read, p } = await run({ signal: controller.signal }, 64 * 1024);
    const gen = burst(p.comm, 50, 5);
    try {
      await until(() => h.events > 5000);
      controller.abort();
      const end = await h.done;
      expect(end.reason).toBe('aborted');
      expect(end.droppedByProgram).toBeGreaterThan(0);
      expect(end.message).toMatch(/^\d+ events delivered \(interrupted\), 0 left in the ring, [1-9]\d* dropped by the program$/);
      expectBalanced(end, read());
    } finally {
      gen.child.kill('SIGKILL');
    }
  });

  it('--count 5000 with a 20 000-record burst: 5000 handed on, the other 15 000 counted as past the count', async () => {
    const { h, read, p } = await run({ count: 5000 });
    let handed = 0;
    h.onBatch((b) => (handed += b.count));
    await burst(p.comm, 80).done;
    const end = await h.done;
    expect(end.reason).toBe('count');
    expect(handed).toBe(5000);
    expect(end).toMatchObject({ delivered: 5000, notDeliveredAfterCount: 15_000, leftInRing: 0 });
    expect(end.message).toMatch(/^5000 events delivered \(count reached\), 15000 more arrived after the count \(not delivered\), 0 left in the ring/);
    expectBalanced(end, read());
    await waitProgramsGone(p.program, 2000);
  });

  it('--duration during a flood', async () => {
    const { h, read, p } = await run({ durationMs: 1500 }, 256 * 1024);
    const gen = burst(p.comm, 50, 5);
    try {
      const end = await h.done;
      expect(end.reason).toBe('duration');
      expect(end.message).toMatch(/^\d+ events delivered in 1\.5 s, /);
      expectBalanced(end, read());
    } finally {
      gen.child.kill('SIGKILL');
    }
  });

  it('the helper killed with SIGTERM still drains and reports: the books balance, the end says the helper exited', async () => {
    const { h, read, p } = await run();
    h.pause();
    await burst(p.comm, 40).done;
    process.kill(h.targets[0]!.hello.pid, 'SIGTERM');
    const end = await h.done;
    expect(end.reason).toBe('helper-exited');
    expect(end.message).toMatch(/^local: helper exited \(signal SIGTERM\); 10000 events delivered, 0 left in the ring/);
    expectBalanced(end, read());
  });

  it('the helper killed with SIGKILL: what is known is reported, what is not is said to be unknown', async () => {
    const { h, read, p } = await run();
    await burst(p.comm, 40).done;
    await until(() => h.events === 10_000);
    process.kill(h.targets[0]!.hello.pid, 'SIGKILL');
    const end = await h.done;
    expect(end.reason).toBe('helper-exited');
    expect(end.leftInRing).toBeNull();
    expect(end.targets[0]).toMatchObject({ final: false, delivered: 10_000 });
    expect(end.message).toMatch(/killed by SIGKILL.*10000 events delivered, unknown how many left in the ring \(the helper could not send its final count\), 0 dropped by the program/);
    expect(end.delivered + end.droppedByProgram).toBeLessThanOrEqual(read().committed + read().failed);
  });

  it('a reader stuck past the drain bound: the records left in the ring are counted, and the books balance', async () => {
    const target = new ReachableTarget();
    // A ring of 4 MiB: more than one EVENTS frame (≤ 1 MiB) holds, so a frame the reader finishes
    // late cannot empty it.
    const p = (prog = lifecycleProgram({ ringBytes: 4 << 20 }));
    const h = (handle = await startRun({ file: p.source, targets: [target], drainTimeoutMs: 1000 }));
    const account = await pinAccount(p.account);
    release = account.release;
    const gen = burst(p.comm, 50, 8);
    try {
      await until(() => h.events > 1000);
      target.stuck();
      await new Promise((r) => setTimeout(r, 1000));
      const stopping = h.stop();
      await new Promise((r) => setTimeout(r, 2500)); // the helper gives up draining after 1 s
      target.unstuck();
      const end = await stopping;
      console.log(`stuck reader: ${end.message}`);
      expect(end.reason).toBe('stopped');
      expect(end.leftInRing).toBeGreaterThan(0);
      expect(end.message).toMatch(new RegExp(`, ${end.leftInRing} left in the ring, `));
      expectBalanced(end, account.read());
    } finally {
      gen.child.kill('SIGKILL');
      await target.close();
    }
  });

  it('loadRun with attach "none" and verifier data (for verify): statistics per program, nothing attached, close() unloads', async () => {
    const p = (prog = lifecycleProgram());
    const loaded = await loadRun({ file: p.source, attach: 'none', verifierLevel: 1 });
    try {
      const account = await pinAccount(p.account);
      release = account.release;
      const program = loaded.targets[0]!.loaded.programs[0]!;
      expect(program).toMatchObject({ name: 'rbs_lc_burst', attached: false, verifier: { level: 1, truncated: false } });
      expect(program.verifier!.insnsProcessed).toBeGreaterThan(10);
      expect(program.verifier!.totalStates).toBeGreaterThan(0);
      expect(program.verifier!.peakStates).toBeGreaterThan(0);
      expect(program.verifier!.log).toMatch(/^processed \d+ insns/m);
      await burst(p.comm, 4).done;
      expect(account.read().committed).toBe(0);
    } finally {
      await loaded.close();
    }
    await waitProgramsGone(p.program, 2000);
  });

  it('flush(): every record committed before it has reached the listeners when it resolves', async () => {
    const { h, read, p } = await run();
    let got = 0;
    h.onBatch((b) => (got += b.count));
    for (const calls of [80, 3, 1]) {
      await burst(p.comm, calls).done;
      const f = await h.flush();
      expect(f.complete).toBe(true);
      expect(f.targets[0]?.flushed.rings[0]?.leftRecords).toBe(0);
      expect(got).toBe(read().committed);
    }
    expect(got).toBe(21_000);
  });
});

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
