// The helper's side of "nothing committed is lost at stop", on the real kernel: the records a
// program committed before STOP (or FLUSH) all reach the reader before BYE (or FLUSHED), and
// when a time bound ends the drain first, the final STATS says how many were left in the ring.
// Checked against the program's own books: delivered + dropped by the program + left == committed.
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand, encodeFlush, encodeLoad, splitRecords, type HelperMessage, type LoadOptions, type Stats } from '../../../core/protocol/helper';
import { available } from '../../support/prereq';
import { HelperRun, loadedPrograms, prepare, waitProgramsGone } from '../helper/support';
import { burst, lifecycleProgram, pinAccount, type LifecycleProgram } from './support';

const load = (object: Uint8Array, extra: Partial<LoadOptions> = {}): Uint8Array => encodeLoad({ object, attachAll: true, attach: [], overrides: {}, ...extra });

/** Records the reader got in EVENTS frames (discarded entries excluded), in messages[from, to). */
function received(messages: HelperMessage[], to = messages.length): number {
  let n = 0;
  for (const m of messages.slice(0, to)) if (m.kind === 'events') n += splitRecords(m.records, m.count).count;
  return n;
}

function finalStats(h: HelperRun): Stats {
  const finals = h.messages.filter((m): m is Extract<HelperMessage, { kind: 'stats' }> => m.kind === 'stats' && m.stats.final === true);
  expect(finals, 'exactly one final STATS').toHaveLength(1);
  return finals[0]!.stats;
}

/** Kernel links (attachments) that run one of these programs. */
function linksOf(progIds: number[]): number[] {
  const links = JSON.parse(execFileSync('bpftool', ['link', 'show', '-j']).toString()) as Array<{ id: number; prog_id: number }>;
  return links.filter((l) => progIds.includes(l.prog_id)).map((l) => l.id);
}

const dropsOf = (s: Stats): number => s.counters.find((c) => c.name === 'dropped')?.value ?? NaN;

describe.skipIf(!available('bpf'))('the helper drains every ring at stop and on FLUSH', () => {
  let prog: LifecycleProgram | undefined;
  let h: HelperRun | undefined;
  beforeAll(() => prepare());
  afterEach(() => {
    h?.kill();
    h = undefined;
    prog?.cleanup();
    prog = undefined;
  });

  async function started(p: LifecycleProgram, extra: Partial<LoadOptions> = {}): Promise<{ run: HelperRun; books: Awaited<ReturnType<typeof pinAccount>> }> {
    const run = HelperRun.start();
    h = run;
    run.send(load(await p.compile(), extra));
    await run.next('loaded');
    const books = await pinAccount(p.account);
    run.send(encodeCommand('start'));
    return { run, books };
  }

  it('a 20 000-record burst still in the ring (paused), then STOP: all 20 000 arrive before BYE; the final STATS says so and 0 left', async () => {
    prog = lifecycleProgram();
    const { run, books } = await started(prog);
    try {
      run.send(encodeCommand('pause'));
      await run.next('stats', (m) => m.stats.paused);
      await burst(prog.comm, 80).done; // 80 × 250 records, committed, all still in the ring
      run.send(encodeCommand('stop'));
      const bye = await run.next('bye');
      expect(bye.bye).toMatchObject({ reason: 'stop', detached: 1 });
      expect((await run.exited).code).toBe(0);
      const byeAt = run.messages.indexOf(bye);
      const got = received(run.messages, byeAt);
      const fin = finalStats(run);
      const account = books.read();
      expect(account).toEqual({ committed: 20_000, failed: 0 });
      expect(got).toBe(20_000);
      expect(fin.rings[0]).toMatchObject({ records: 20_000, leftRecords: 0, leftBytes: 0 });
      expect(dropsOf(fin)).toBe(0);
      expect(run.messages.findIndex((m) => m.kind === 'stats' && m.stats.final)).toBeLessThan(byeAt);
      await waitProgramsGone(prog.program, 2000);
    } finally {
      books.release();
    }
  });

  it('STOP in the middle of a flood: delivered + dropped + left == committed', async () => {
    prog = lifecycleProgram({ ringBytes: 256 * 1024 });
    const { run, books } = await started(prog);
    const gen = burst(prog.comm, 50, 5);
    try {
      await run.next('events', (m) => m.count > 1000);
      run.send(encodeCommand('stop'));
      await run.next('bye');
      const fin = finalStats(run);
      const account = books.read();
      const left = fin.rings[0]!.leftRecords!;
      expect(received(run.messages)).toBe(fin.rings[0]!.records);
      expect(dropsOf(fin)).toBe(account.failed);
      expect(fin.rings[0]!.records + dropsOf(fin) + left).toBe(account.committed + account.failed);
      expect(left).toBe(0); // nothing blocked the reader: the drain emptied the ring
    } finally {
      gen.child.kill('SIGKILL');
      books.release();
    }
  });

  it('with the reader stuck past the drain bound: the final STATS reports what was left in the ring, and the books still balance', async () => {
    // 4 MiB: more than one EVENTS frame (≤ 1 MiB) holds, so a frame finished late cannot empty the ring.
    prog = lifecycleProgram({ ringBytes: 4 << 20 });
    const { run, books } = await started(prog, { drainTimeoutMs: 1000 });
    const gen = burst(prog.comm, 50, 8);
    try {
      await run.next('events', (m) => m.count > 100);
      const ids = loadedPrograms(prog.program);
      expect(linksOf(ids)).toHaveLength(1);
      run.child.stdout!.pause(); // the reader stops reading: the pipe fills, then the ring, then the program drops
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = Date.now();
      run.send(encodeCommand('stop'));
      await new Promise((r) => setTimeout(r, 2500)); // past the 1 s drain bound, still not reading
      // Detached at once, drain or not: the program is still loaded (its maps are read for the
      // final count), but no link runs it any more.
      expect(loadedPrograms(prog.program)).toEqual(ids);
      expect(linksOf(ids)).toEqual([]);
      run.child.stdout!.resume();
      const bye = await run.next('bye', () => true, 10_000);
      const fin = finalStats(run);
      const account = books.read();
      const ring = fin.rings[0]!;
      console.log(`reader stuck: stop→BYE ${Date.now() - t0} ms; delivered ${ring.records}, dropped ${dropsOf(fin)}, left ${ring.leftRecords} (${ring.leftBytes} B), committed ${account.committed}`);
      expect(bye.bye.reason).toBe('stop');
      expect(ring.leftRecords).toBeGreaterThan(0);
      expect(ring.leftBytes).toBe(ring.leftRecords! * 48);
      expect(received(run.messages)).toBe(ring.records);
      expect(dropsOf(fin)).toBe(account.failed);
      expect(ring.records + ring.leftRecords!).toBe(account.committed);
    } finally {
      gen.child.kill('SIGKILL');
      books.release();
    }
  });

  it('stdin EOF and SIGTERM drain a paused ring too (a closed connection, a killed helper)', async () => {
    for (const end of ['eof', 'SIGTERM'] as const) {
      prog = lifecycleProgram();
      const { run, books } = await started(prog);
      try {
        run.send(encodeCommand('pause'));
        await run.next('stats', (m) => m.stats.paused);
        await burst(prog.comm, 40).done;
        if (end === 'eof') run.child.stdin!.end();
        else run.child.kill('SIGTERM');
        const bye = await run.next('bye');
        expect(bye.bye.reason).toBe(end === 'eof' ? 'stdin-eof' : 'signal');
        expect(received(run.messages)).toBe(10_000);
        expect(finalStats(run).rings[0]).toMatchObject({ records: 10_000, leftRecords: 0 });
        expect(books.read().committed).toBe(10_000);
      } finally {
        books.release();
        prog.cleanup();
      }
    }
  });

  it('FLUSH: FLUSHED comes after the last EVENTS frame holding a record committed before it; programs stay attached', async () => {
    prog = lifecycleProgram();
    const { run, books } = await started(prog);
    try {
      await burst(prog.comm, 80).done;
      run.send(encodeFlush({ id: 41, timeoutMs: 0 }));
      const flushed = await run.next('flushed');
      const at = run.messages.indexOf(flushed);
      expect(flushed.flushed).toMatchObject({ id: 41, complete: true });
      expect(flushed.flushed.rings[0]).toMatchObject({ name: 'events', records: 20_000, leftRecords: 0 });
      expect(flushed.flushed.rings[0]!.consumerPos).toBeGreaterThanOrEqual(flushed.flushed.rings[0]!.goalPos);
      expect(received(run.messages, at)).toBe(20_000);
      expect(books.read().committed).toBe(20_000);
      expect(loadedPrograms(prog.program).length).toBe(1);
      // A second burst, a second FLUSH: the same guarantee, and the helper is still streaming.
      await burst(prog.comm, 4).done;
      run.send(encodeFlush({ id: 42, timeoutMs: 500 }));
      const again = await run.next('flushed', (m) => m.flushed.id === 42);
      expect(received(run.messages, run.messages.indexOf(again))).toBe(21_000);
    } finally {
      run.send(encodeCommand('stop'));
      await run.exited;
      books.release();
    }
  });

  it('FLUSH under a flood still answers (the goal is where the producer was), while paused too', async () => {
    prog = lifecycleProgram({ ringBytes: 256 * 1024 });
    const { run, books } = await started(prog);
    const gen = burst(prog.comm, 50, 5);
    try {
      await run.next('events', (m) => m.count > 100);
      for (let i = 0; i < 5; i++) {
        const t0 = Date.now();
        run.send(encodeFlush({ id: i, timeoutMs: 2000 }));
        const f = await run.next('flushed', (m) => m.flushed.id === i, 5000);
        expect(f.flushed.complete, `flush ${i} in ${Date.now() - t0} ms`).toBe(true);
      }
      run.send(encodeCommand('pause'));
      await run.next('stats', (m) => m.stats.paused);
      run.send(encodeFlush({ id: 99, timeoutMs: 2000 }));
      const paused = await run.next('flushed', (m) => m.flushed.id === 99, 5000);
      expect(paused.flushed.complete).toBe(true);
    } finally {
      gen.child.kill('SIGKILL');
      run.send(encodeCommand('stop'));
      await run.exited;
      books.release();
    }
  });

  it('FLUSH before LOAD is a state error the helper survives; a malformed FLUSH is a protocol error', async () => {
    const run = HelperRun.start();
    h = run;
    run.send(encodeFlush({ id: 1, timeoutMs: 0 }));
    expect((await run.next('error')).error).toMatchObject({ code: 'state', fatal: false, message: 'FLUSH before LOAD' });
    const short = new Uint8Array([5, 0, 0, 0, 0x86, 1, 2, 3, 4]);
    run.send(short);
    expect((await run.next('error', (m) => m.error.code === 'protocol')).error.message).toMatch(/malformed FLUSH/);
    expect((await run.exited).code).toBe(1);
  });
});
