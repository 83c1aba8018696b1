// The real helper binary against the real kernel, driven through core/protocol/helper.ts.
import { execFileSync, spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { available } from '../../support/prereq';
import { encodeCommand, encodeLoad, MAX_FRAME, splitRecords, type LoadOptions } from '../../../core/protocol/helper';
import {
  compileC,
  compileFixture,
  fixtureSource,
  helperPath,
  HelperRun,
  loadedPrograms,
  prepare,
  rssKb,
  waitProgramsGone,
} from './support';

const load = (object: Uint8Array, extra: Partial<LoadOptions> = {}): Uint8Array =>
  encodeLoad({ object, attachAll: true, attach: [], overrides: {}, ...extra });

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

describe.skipIf(!available('bpf'))('ringbuf-helper serve on the local kernel', () => {
  let execObject: Uint8Array;
  beforeAll(() => {
    prepare();
    execObject = compileFixture('exec');
  });

  it('reports its version and protocol', () => {
    expect(execFileSync(helperPath, ['--version']).toString()).toBe('ringbuf-helper 0.1.0 protocol 2\n');
  });

  it('deepens its stdout when it is a socket (Node gives a child a socketpair): ~16 MB may wait unread', async () => {
    // Without it a socketpair holds ~400 KB: a reader off the CPU for 5 ms at 100 MB/s would
    // stop the drain and the ring would start to fill.
    const h = HelperRun.start();
    try {
      await h.next('hello');
      const line = execFileSync('ss', ['-x', '-m', '-p'], { encoding: 'utf8' }).split('\n').find((l) => l.includes(`pid=${h.pid},fd=1)`));
      expect(line, 'the helper\'s stdout in ss -xmp').toBeDefined();
      expect(Number(/skmem:\(.*\btb(\d+)/.exec(line ?? '')?.[1])).toBeGreaterThanOrEqual(16 << 20);
    } finally {
      h.kill();
    }
  });

  it('says HELLO first, loads, and streams exec events whose comm is "true"', async () => {
    const h = HelperRun.start();
    try {
      const hello = await h.next('hello');
      expect(h.messages[0]?.kind).toBe('hello');
      expect(hello.hello).toMatchObject({ protocol: 2, arch: 'x86_64', pageSize: 4096, btf: true, ringbuf: true, pid: h.pid });
      h.send(load(execObject));
      const { loaded } = await h.next('loaded');
      expect(loaded.programs).toEqual([
        { name: 'rbs_t_exec', section: 'tp/sched/sched_process_exec', type: 'tracepoint', attachTarget: 'sched/sched_process_exec', attached: true },
      ]);
      expect(loaded.rings).toEqual([{ index: 0, name: 'rb', size: 256 * 1024 }]);
      expect(loaded.maps.find((m) => m.name === 'rb')).toMatchObject({ typeName: 'ringbuf', maxEntries: 262144, ringIndex: 0 });
      h.send(encodeCommand('start'));
      const child = spawn('/bin/true');
      await new Promise((r) => child.on('exit', r));
      const ev = await h.next('events', (m) => {
        const s = splitRecords(m.records, m.count);
        for (let i = 0; i < s.count; i++) {
          const rec = m.records.subarray(s.offsets[i], s.offsets[i]! + s.lengths[i]!);
          const pid = new DataView(rec.buffer, rec.byteOffset).getUint32(0, true);
          if (pid === child.pid && cString(rec.subarray(12, 28)) === 'true') return true;
        }
        return false;
      });
      expect(ev.ringIndex).toBe(0);
      expect(Number(ev.timeNs / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
      const stats = await h.next('stats', (m) => m.stats.rings[0]!.records > 0);
      expect(stats.stats.rings[0]).toMatchObject({ name: 'rb', size: 262144 });
      expect(stats.stats.counters).toContainEqual({ name: 'dropped_events', map: '.bss', value: 0 });
      // Where drain time goes: at least the frame we just received was shipped.
      expect(stats.stats.drain?.frames).toBeGreaterThanOrEqual(1);
      expect(stats.stats.drain).toMatchObject({ outputBlockedMs: expect.any(Number), runDelayMs: expect.any(Number), sleeps: expect.any(Number) });
      expect(loadedPrograms('rbs_t_exec').length).toBe(1);
      h.send(encodeCommand('stop'));
      const bye = await h.next('bye');
      expect(bye.bye).toMatchObject({ reason: 'stop', detached: 1 });
      expect((await h.exited).code).toBe(0);
      await waitProgramsGone('rbs_t_exec', 2000);
    } finally {
      h.kill();
    }
  });

  it('applies a valid max_entries override and refuses an invalid one before load', async () => {
    const h = HelperRun.start();
    try {
      h.send(load(execObject, { overrides: { rb: 1 << 20 } }));
      const { loaded } = await h.next('loaded');
      const rb = loaded.maps.find((m) => m.name === 'rb');
      expect(rb).toMatchObject({ maxEntries: 1 << 20, ringIndex: 0 });
      expect(rb?.requestedMaxEntries).toBeUndefined(); // present only when libbpf changed the size
      expect(loaded.rings[0]?.size).toBe(1 << 20);
      const maps = JSON.parse(execFileSync('bpftool', ['map', 'show', '-j']).toString()) as { name?: string; max_entries: number; type: string }[];
      expect(maps.some((m) => m.name === 'rb' && m.type === 'ringbuf' && m.max_entries === 1 << 20)).toBe(true);
    } finally {
      h.child.stdin!.end();
      await h.exited;
    }
    const bad = HelperRun.start();
    bad.send(load(execObject, { overrides: { rb: 3 * 4096 } }));
    const err = await bad.next('error');
    expect(err.error).toMatchObject({ code: 'override', fatal: true, map: 'rb' });
    expect(err.error.message).toContain('nearest valid size: 16384');
    expect(bad.messages.some((m) => m.kind === 'loaded')).toBe(false);
    expect((await bad.exited).code).toBe(1);
    const unknown = HelperRun.start();
    unknown.send(load(execObject, { overrides: { nosuchmap: 4096 } }));
    expect((await unknown.next('error')).error.hint).toContain('rb');
    await unknown.exited;
  });

  it('sends the full verifier log with the source line annotations on a reject', async () => {
    const object = compileFixture('reject');
    const line = fixtureSource('reject').split('\n').findIndex((l) => l.includes('REJECTED HERE')) + 1;
    const h = HelperRun.start();
    h.send(load(object));
    const { error } = await h.next('error');
    expect(error).toMatchObject({ code: 'verifier', fatal: true, program: 'rbs_t_reject' });
    expect(error.log).toContain(`@ reject.bpf.c:${line}`);
    expect(error.log).toMatch(/invalid mem access 'map_value_or_null'/);
    expect(error.message).toMatch(/load program 'rbs_t_reject': .*invalid mem access/);
    expect((await h.next('bye')).bye.reason).toBe('fatal');
    expect((await h.exited).code).toBe(1);
    expect(loadedPrograms('rbs_t_reject')).toEqual([]);
  });

  it('grows the verifier log buffer instead of truncating a log over 1 MiB', async () => {
    const object = compileFixture('big_reject');
    const line = fixtureSource('big_reject').split('\n').findIndex((l) => l.includes('REJECTED AT THE END')) + 1;
    const h = HelperRun.start();
    h.send(load(object));
    const { error } = await h.next('error', () => true, 30_000);
    expect(error.code).toBe('verifier');
    expect(error.log!.length).toBeGreaterThan(1 << 20); // the helper's first buffer is 1 MiB
    expect(error.log).toMatch(/^0: \(85\) call bpf_get_prandom_u32/m); // the start survived
    expect(error.log).toContain(`@ big_reject.bpf.c:${line}`); // and so did the end
    expect(error.log).toMatch(/invalid mem access 'map_value_or_null'\nprocessed \d+ insns/);
    await h.exited;
  });

  it('reports per-program attach failures in plain words and keeps the rest running', async () => {
    const object = compileFixture('attach_fail');
    const h = HelperRun.start();
    try {
      h.send(load(object));
      const { loaded } = await h.next('loaded');
      const byName = new Map(loaded.programs.map((p) => [p.name, p]));
      expect(byName.get('rbs_t_works')?.attached).toBe(true);
      expect(byName.get('rbs_t_kprobe')).toMatchObject({ attached: false, error: { errno: 2 } });
      expect(byName.get('rbs_t_kprobe')?.error?.reason).toMatch(/kprobes are not available in this kernel/);
      expect(byName.get('rbs_t_fentry')).toMatchObject({ attached: false, error: { errno: 1 } });
      expect(byName.get('rbs_t_fentry')?.error?.reason).toMatch(/fentry attach is not permitted/);
      const typo = byName.get('rbs_t_typo');
      expect(typo?.attached).toBe(false);
      expect(typo?.error?.reason).toMatch(/tracepoint 'sched\/sched_process_exce' does not exist.*closest: .*sched\/sched_process_exec/);
    } finally {
      h.send(encodeCommand('stop'));
      await h.exited;
    }
    await waitProgramsGone('rbs_t_works', 2000);
  });

  describe('lifecycle: nothing of ours stays loaded', () => {
    async function started(): Promise<HelperRun> {
      const h = HelperRun.start();
      h.send(load(execObject));
      await h.next('loaded');
      h.send(encodeCommand('start'));
      expect(loadedPrograms('rbs_t_exec').length).toBe(1);
      return h;
    }

    it('on stdin EOF', async () => {
      const h = await started();
      h.child.stdin!.end();
      expect((await h.next('bye')).bye).toMatchObject({ reason: 'stdin-eof', detached: 1 });
      expect((await h.exited).code).toBe(0);
      await waitProgramsGone('rbs_t_exec', 2000);
    });

    it('on SIGTERM, SIGHUP and SIGINT', async () => {
      for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
        const h = await started();
        h.child.kill(sig);
        expect((await h.next('bye')).bye).toMatchObject({ reason: 'signal', signal: sig, detached: 1 });
        await h.exited;
        await waitProgramsGone('rbs_t_exec', 2000);
      }
    });

    it('when its parent is killed with SIGKILL', async () => {
      // sh stays the helper's parent (`; :` keeps it from exec'ing); stdin stays open through us.
      const sh = spawn('sh', ['-c', '"$0" serve; :', helperPath], { stdio: ['pipe', 'pipe', 'pipe'] });
      const h = new HelperRun(sh);
      h.send(load(execObject));
      await h.next('loaded');
      expect(loadedPrograms('rbs_t_exec').length).toBe(1);
      sh.kill('SIGKILL');
      const took = await waitProgramsGone('rbs_t_exec', 2000);
      expect(took).toBeLessThan(2000);
    });

    it('on a garbage frame: ERROR protocol, BYE, clean exit', async () => {
      for (const garbage of [new Uint8Array([0, 0, 0, 0, 0x81]), new Uint8Array([0xff, 0xff, 0xff, 0x7f]), new Uint8Array([1, 0, 0, 0, 0x42])]) {
        const h = await started();
        h.send(garbage);
        const { error } = await h.next('error');
        expect(error).toMatchObject({ code: 'protocol', fatal: true });
        expect((await h.next('bye')).bye).toMatchObject({ reason: 'fatal', detached: 1 });
        expect((await h.exited).code).toBe(1);
        await waitProgramsGone('rbs_t_exec', 2000);
      }
      const oversized = new Uint8Array(5);
      new DataView(oversized.buffer).setUint32(0, MAX_FRAME + 1, true);
      const h = HelperRun.start();
      h.send(oversized);
      expect((await h.next('error')).error.message).toMatch(/over the 64 MiB limit/);
      await h.exited;
    });

    it('survives random garbage on stdin: well-formed replies, BYE last, clean exit', async () => {
      let seed = 0x9e3779b9;
      const rand = (): number => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 0x100000000;
      };
      for (let round = 0; round < 12; round++) {
        const h = HelperRun.start();
        const garbage = new Uint8Array(1 + Math.floor(rand() * 200)).map(() => Math.floor(rand() * 256));
        if (round % 3 === 0 && garbage.length >= 5) garbage.set([garbage.length - 4, 0, 0, 0, 0x81 + (round % 5)]); // plausible header, junk body
        h.send(garbage);
        h.child.stdin!.end();
        const exit = await h.exited;
        expect(h.decodeError).toBeNull(); // every byte the helper wrote decodes
        expect(h.messages.at(-1)?.kind).toBe('bye');
        expect([0, 1]).toContain(exit.code);
      }
    });

    it('answers state errors without dying', async () => {
      const h = HelperRun.start();
      h.send(encodeCommand('start'));
      expect((await h.next('error')).error).toMatchObject({ code: 'state', fatal: false });
      h.send(new Uint8Array([5, 0, 0, 0, 0x81, 0, 0, 0, 0]));
      expect((await h.next('error', (m) => m.error.code === 'protocol')).error.message).toMatch(/malformed LOAD/);
      await h.exited;
    });
  });

  it('keeps answering control frames under a flood, reports fill and drops, memory bounded', async () => {
    const object = compileFixture('flood');
    const gen = compileC('bench/c/gen.c', 'gen');
    const h = HelperRun.start();
    const genProc = spawn(gen, ['30', 'rbs_flood'], { stdio: 'ignore' });
    try {
      h.send(load(object));
      const { loaded } = await h.next('loaded');
      expect(loaded.rings[0]).toMatchObject({ name: 'flood_rb', size: 65536 });
      h.send(encodeCommand('start'));
      await h.next('events', (m) => m.count > 100);
      // Paused, the ring fills and the program's own counters count the loss.
      const from = h.messages.length;
      let t0 = Date.now();
      h.send(encodeCommand('pause'));
      const ack = await h.next('stats', (m) => m.stats.paused, 5000, from);
      const pauseMs = Date.now() - t0;
      expect(ack.stats.paused).toBe(true);
      const full = await h.next('stats', (m) => m.stats.paused && m.stats.rings[0]!.fill > 0.9, 5000, from);
      const dropped = full.stats.counters.find((c) => c.name === 'dropped');
      const lost = full.stats.counters.find((c) => c.name === 'lost_records');
      expect(dropped?.map).toBe('.bss');
      expect(dropped?.value).toBeGreaterThan(0);
      expect(lost?.value).toBeGreaterThan(0);
      // Resumed, the helper drains the full ring. The generator is held still meanwhile:
      // under a flood far beyond what this reader takes, the ring refills as fast as it
      // drains, so its fill says nothing about whether the helper resumed.
      genProc.kill('SIGSTOP');
      h.send(encodeCommand('resume'));
      const drained = await h.next('stats', (m) => !m.stats.paused && m.stats.rings[0]!.fill < 0.1, 10_000, h.messages.length);
      // Flooding again (a ring's worth produced and more): control frames must still be answered.
      genProc.kill('SIGCONT');
      const floodFrom = drained.stats.rings[0]!.producerPos;
      await h.next('stats', (m) => m.stats.rings[0]!.producerPos > floodFrom + 2 * 65536, 10_000, h.messages.length);
      await new Promise((r) => setTimeout(r, 1000));
      const rss = rssKb(h.pid);
      expect(rss).toBeLessThan(64 * 1024);
      t0 = Date.now();
      h.send(encodeCommand('stop'));
      const bye = await h.next('bye', () => true, 5000);
      const stopMs = Date.now() - t0;
      expect(bye.bye.reason).toBe('stop');
      console.log(`flood: pause answered in ${pauseMs} ms, stop in ${stopMs} ms, rss ${rss} kB, ${h.eventBytes} event bytes`);
      expect(pauseMs).toBeLessThan(2000); // hang guard, not a speed assertion
      expect(stopMs).toBeLessThan(2000);
      await waitProgramsGone('rbs_t_flood', 2000);
    } finally {
      genProc.kill('SIGKILL');
      h.kill();
    }
  });
});
