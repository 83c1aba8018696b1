// Ringbuf Studio against the tools a user would pick instead (issue 7): the seed's
// Go stack (cilium/ebpf ringbuf.NewReader), bcc's Python front-end and bpftrace,
// all on the same workload (bench/peers/). Our figure is records received, counted
// and kept in the panel's host-side model (the bounded store the Live Events panel
// reads) per second; every peer prints each record to a file on tmpfs.
import fs from 'node:fs';
import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import type { DrainStats } from '../core/protocol/helper';
import { checkPrerequisite } from '../test/support/prereq';
import type { Benchmark, Metric } from './metric';
import { metric } from './metric';
import { buildGoPeer, buildWorkload, measurePeer, measurePeerFirstEvent, mountDebugfs, peerSpecs, runGenerator, type PeerResult } from './peers/peers';
import { startRun } from '../core/run';
import { PanelModel } from '../core/panel/model';
import { libbpfIncludeDir } from '../core/compile/vmlinux';

const WINDOW_S = Number(process.env.BENCH_PEER_WINDOW_S ?? 5);

interface OursResult {
  records: number;
  dropped: number;
  recordsPerS: number;
  /** Where the window's time went (helper STATS "drain" and this thread's schedstat), for the note. */
  where: string;
  /** Garbage-collection pauses in the window, as a share of the main thread's busy time (ran + waited for a CPU). */
  gcShare: number;
}

/** Sums V8's garbage-collection pauses (perf_hooks 'gc' entries) while it is on. */
function gcPauses(): { stop(): Promise<number> } {
  let ms = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) ms += e.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      await new Promise((r) => setImmediate(r)); // entries are delivered asynchronously
      observer.disconnect();
      return ms;
    },
  };
}

/** ms this thread ran and ms it was runnable but waited for a CPU (/proc/thread-self/schedstat). */
function schedMs(): { run: number; wait: number } {
  try {
    const [run = 0, wait = 0] = fs.readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(' ').map(Number);
    return { run: run / 1e6, wait: wait / 1e6 };
  } catch {
    return { run: 0, wait: 0 };
  }
}

async function measureOurs(object: string, generator: string, windowS: number): Promise<OursResult> {
  const model = new PanelModel(
    { targets: ['local'], program: object, maps: [], programs: [], eventTypes: [], state: 'running', startTimeMs: Date.now() },
    {},
    { maxEvents: 1_000_000 },
  );
  let dropped = 0;
  let drain: DrainStats | undefined;
  const handle = await startRun({
    file: object,
    targets: ['local'],
    lint: false,
    listeners: {
      batch: (b) => model.pushBatch(b),
      stats: (_t, s) => {
        dropped = s.counters.filter((c) => /drop/.test(c.name)).reduce((a, c) => a + c.value, 0);
        drain = s.drain;
      },
    },
  });
  // The first STATS (every 250 ms) gives the window's starting point for the drain figures.
  for (let waited = 0; !drain && waited < 2000; waited += 25) await new Promise((r) => setTimeout(r, 25));
  const before = handle.events;
  const droppedBefore = dropped;
  const drain0 = drain;
  const sched0 = schedMs();
  const gc = gcPauses();
  const t0 = performance.now();
  const gen = runGenerator(generator, windowS);
  await gen.done;
  await new Promise((r) => setTimeout(r, 500));
  const records = handle.events - before;
  const elapsed = performance.now() - t0;
  const sched1 = schedMs();
  const gcMs = await gc.stop();
  const busy = sched1.run - sched0.run + (sched1.wait - sched0.wait);
  const drain1 = drain;
  await handle.stop();
  const where = [
    `load average ${os.loadavg()[0]?.toFixed(1)}`,
    drain0 && drain1
      ? `helper: stdout full ${(drain1.outputBlockedMs - drain0.outputBlockedMs).toFixed(0)} ms, waited for a CPU ${(drain1.runDelayMs - drain0.runDelayMs).toFixed(0)} ms, ${drain1.frames - drain0.frames} frames`
      : 'helper: no drain stats',
    `node main thread: ran ${(sched1.run - sched0.run).toFixed(0)} ms, waited for a CPU ${(sched1.wait - sched0.wait).toFixed(0)} ms, GC pauses ${gcMs.toFixed(0)} ms (${((100 * gcMs) / busy).toFixed(1)} % of ran + waited)`,
  ].join('; ');
  return { records, dropped: dropped - droppedBefore, recordsPerS: records / windowS, where: `of ${elapsed.toFixed(0)} ms: ${where}`, gcShare: gcMs / busy };
}

async function measureOursFirstEvent(object: string, generator: string): Promise<number> {
  const gen = runGenerator(generator, 60);
  try {
    const t0 = performance.now();
    let first = 0;
    let resolveFirst: () => void = () => undefined;
    const gotFirst = new Promise<void>((r) => (resolveFirst = r));
    const handle = await startRun({
      file: object,
      targets: ['local'],
      lint: false,
      listeners: {
        batch: () => {
          if (!first) {
            first = performance.now() - t0;
            resolveFirst();
          }
        },
      },
    });
    await Promise.race([gotFirst, new Promise((_, rej) => setTimeout(() => rej(new Error('no event within 30 s')), 30_000))]);
    await handle.stop();
    return first;
  } finally {
    gen.child.kill('SIGKILL');
    await gen.done;
  }
}

export const benchmark: Benchmark = {
  name: 'peers',
  async run(log) {
    const missing = checkPrerequisite('bpf');
    if (missing) throw new Error(`needs the real kernel: ${missing}`);
    mountDebugfs();
    const { object, generator } = buildWorkload(libbpfIncludeDir());
    const goBin = buildGoPeer();
    const peers = peerSpecs(object, goBin);

    log(`ours: ${WINDOW_S} s window`);
    const ours = await measureOurs(object, generator, WINDOW_S);
    log(`ours: ${ours.records} records, ${ours.dropped} dropped; ${ours.where}`);
    const results: PeerResult[] = [];
    for (const spec of peers) {
      log(`${spec.name}: ${WINDOW_S} s window`);
      const r = await measurePeer(spec, generator, WINDOW_S);
      const firstEventMs = await measurePeerFirstEvent(spec, generator);
      log(`${spec.name}: ${r.records} records, dropped ${r.dropped ?? '?'}, first event ${firstEventMs.toFixed(0)} ms`);
      results.push({ ...r, firstEventMs });
    }
    const oursFirst = await measureOursFirstEvent(object, generator);
    log(`ours: first event ${oursFirst.toFixed(0)} ms`);

    const metrics: Metric[] = [
      // Kept vs produced (kept + the program's own drop counter) over the same window: the share we keep up with.
      metric('peer_ours_kept', ours.recordsPerS, 'records/s', (ours.records + ours.dropped) / WINDOW_S,
        `ours kept vs produced (kept + dropped) in the window; ratio = share kept (goal >= 0.95); ${ours.where}`),
      { name: 'peer_ours_gc', value: 100 * ours.gcShare, unit: '%', baseline: null, ratio: null,
        note: 'V8 garbage-collection pauses in the peer window as a share of the Node main thread\'s busy time (ran + waited for a CPU; perf_hooks gc entries, schedstat); goal < 10 %' },
    ];
    for (const r of results) {
      metrics.push(
        metric(`peer_${r.name}`, ours.recordsPerS, 'records/s', r.recordsPerS,
          `ours (kept in the panel store, ${ours.dropped} dropped) vs ${r.name} printing each record (${r.dropped ?? '?'} dropped); ratio = ours/theirs`),
      );
      if (r.firstEventMs !== null) {
        // Lower is better: ratio = theirs/ours so > 1 means we are faster.
        metrics.push({
          name: `first_event_vs_${r.name}`,
          value: oursFirst,
          unit: 'ms',
          baseline: r.firstEventMs,
          ratio: r.firstEventMs / oursFirst,
          note: `run → first event from a compiled object, ours vs ${r.name} (ratio = theirs/ours, > 1 is faster)`,
        });
      }
    }
    return metrics;
  },
};
