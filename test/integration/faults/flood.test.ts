// Load: a flood at ≥ 10 × the measured capacity for 60 s on the local kernel. The helper's
// memory stays bounded, drops are counted by the program and surface in the run's STATS,
// stop() detaches within 1 s while the flood goes on, and this (extension-host-like) Node
// process, which keeps every batch in the panel's store, stays responsive.
// Figures: one `FAULT-FIGURES flood {…}` line on stdout.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PanelModel } from '../../../core/panel/model';
import type { Stats } from '../../../core/protocol/helper';
import { startRun, type RunHandle } from '../../../core/run/run';
import { available } from '../../support/prereq';
import { loadedPrograms, prepare, waitProgramsGone } from '../run/support';
import { buildFlood, reportFigures, rssKiB, startGenerators, type FloodArtifacts } from './support';

const FLOOD_S = Number(process.env.RBS_FLOOD_SECONDS ?? 60);
const CALIBRATE_S = 3;
/** Generous: the helper holds the ring mapping (1 MiB, mapped twice) and bounded output buffers. */
const HELPER_RSS_LIMIT_KIB = 64 * 1024;

function droppedOf(s: Stats): number {
  return s.counters.filter((c) => c.name === 'dropped').reduce((a, c) => a + c.value, 0);
}

async function runFlood(
  art: FloodArtifacts,
  generators: number,
  seconds: number,
  during?: (h: RunHandle, elapsedMs: number) => void,
): Promise<{ handle: RunHandle; delivered: number; dropped: number; statsGapsMs: number[]; statsEvents: number; model: PanelModel }> {
  const model = new PanelModel(
    { targets: ['local'], program: art.object, maps: [], programs: [], eventTypes: [], state: 'running', startTimeMs: Date.now() },
    {},
    { maxEvents: 1_000_000 },
  );
  let lastDropped = 0;
  let lastStatsAt = 0;
  const statsGapsMs: number[] = [];
  let statsEvents = 0;
  const handle = await startRun({
    file: art.object,
    targets: ['local'],
    listeners: {
      batch: (b) => model.pushBatch(b),
      stats: (_t, s) => {
        const now = performance.now();
        if (lastStatsAt) statsGapsMs.push(now - lastStatsAt);
        lastStatsAt = now;
        statsEvents++;
        lastDropped = droppedOf(s);
        model.pushStats('local', s);
      },
    },
  });
  const before = handle.events;
  const droppedBefore = lastDropped;
  const gens = startGenerators(art.generator, generators, seconds);
  const t0 = Date.now();
  const tick = setInterval(() => during?.(handle, Date.now() - t0), 250);
  await gens.done;
  clearInterval(tick);
  return { handle, delivered: handle.events - before, dropped: lastDropped - droppedBefore, statsGapsMs, statsEvents, model };
}

describe.skipIf(!available('bpf'))('flood at 10 × capacity', () => {
  let art: FloodArtifacts;
  beforeAll(() => {
    prepare();
    art = buildFlood();
  }, 120_000);
  afterAll(() => fs.rmSync(art.dir, { recursive: true, force: true }));

  it(`helper RSS bounded, drops surfaced, stop < 1 s, event loop responsive over ${FLOOD_S} s`, async () => {
    // 1. Capacity: what the whole pipeline (helper drain → protocol → session → panel store)
    //    delivers with one generator that already overfills the ring.
    const cal = await runFlood(art, 1, CALIBRATE_S);
    await cal.handle.stop();
    const capacityPerS = cal.delivered / CALIBRATE_S;
    const offeredPerGenPerS = (cal.delivered + cal.dropped) / CALIBRATE_S;
    expect(capacityPerS, 'calibration delivered records').toBeGreaterThan(0);
    // Enough generators for 10 × capacity (the offered rate is measured again below).
    const generators = Math.min(8, Math.max(2, Math.ceil((10 * capacityPerS) / Math.max(1, offeredPerGenPerS)) + 1));

    // 2. The flood.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const rss: number[] = [];
    let helperPid = 0;
    const flood = await runFlood(art, generators, FLOOD_S, (h) => {
      helperPid ||= h.targets[0]!.hello.pid;
      const r = rssKiB(helperPid);
      if (r !== undefined) rss.push(r);
    });
    lag.disable();
    const offeredPerS = (flood.delivered + flood.dropped) / FLOOD_S;

    // 3. Stop while still flooding: a fresh burst of generators keeps the ring full.
    const gens = startGenerators(art.generator, generators, 30);
    await new Promise((r) => setTimeout(r, 500));
    const t0 = performance.now();
    const end = await flood.handle.stop();
    const stopMs = performance.now() - t0;
    const goneMs = await waitProgramsGone('rbs_flood', 2000);
    await gens.kill();

    const nodeRssMiB = process.memoryUsage().rss / 1048576;
    const figures = {
      capacityPerS: Math.round(capacityPerS),
      generators,
      offeredPerS: Math.round(offeredPerS),
      offeredOverCapacity: +(offeredPerS / capacityPerS).toFixed(1),
      deliveredPerS: Math.round(flood.delivered / FLOOD_S),
      dropped: flood.dropped,
      droppedShare: +(flood.dropped / (flood.delivered + flood.dropped)).toFixed(3),
      helperRssMaxKiB: Math.max(...rss),
      helperRssFirstHalfMaxKiB: Math.max(...rss.slice(0, rss.length >> 1)),
      helperRssSecondHalfMaxKiB: Math.max(...rss.slice(rss.length >> 1)),
      stopMs: Math.round(stopMs),
      programsGoneAfterStopMs: goneMs,
      statsEvents: flood.statsEvents,
      statsGapMaxMs: Math.round(Math.max(...flood.statsGapsMs)),
      eventLoopLagP50Ms: +(lag.percentile(50) / 1e6).toFixed(1),
      eventLoopLagP99Ms: +(lag.percentile(99) / 1e6).toFixed(1),
      eventLoopLagMaxMs: +(lag.max / 1e6).toFixed(1),
      nodeRssMiB: Math.round(nodeRssMiB),
    };
    reportFigures('flood', figures);

    expect(offeredPerS / capacityPerS, 'offered load vs capacity').toBeGreaterThanOrEqual(10);
    // Drops are counted by the program and arrive through the run's STATS events.
    expect(flood.dropped).toBeGreaterThan(0);
    expect(flood.delivered).toBeGreaterThan(0);
    expect(flood.statsEvents).toBeGreaterThan(FLOOD_S); // STATS every 250 ms, even under load
    expect(Math.max(...flood.statsGapsMs), 'longest gap between STATS events').toBeLessThan(2000);
    // Memory: under a fixed bound, and not growing from the first half to the second.
    expect(rss.length).toBeGreaterThan(FLOOD_S * 2);
    expect(figures.helperRssMaxKiB).toBeLessThan(HELPER_RSS_LIMIT_KIB);
    expect(figures.helperRssSecondHalfMaxKiB).toBeLessThanOrEqual(figures.helperRssFirstHalfMaxKiB + 4096);
    // Control: stop() detaches within 1 s while flooding.
    expect(end.reason).toBe('stopped');
    expect(stopMs).toBeLessThan(1000);
    expect(loadedPrograms('rbs_flood')).toEqual([]);
    // This process kept up: event-loop lag p99 under 200 ms.
    expect(figures.eventLoopLagP99Ms).toBeLessThan(200);
  }, (FLOOD_S + 90) * 1000);
});
