// Live Events panel under a flood: the built webview in headless Chromium (harness page,
// same CSP as the extension) receives 1 M events/s for 10 s as the host model posts
// them (60 update messages/s, each a batch of real recorded `struct event` records
// with fresh buffers), plus stats every 250 ms. The feeder runs inside the page so
// the browser, not the test driver, is what is measured.
//   panel_fps      rAF callbacks/s during the flood (baseline: an idle page's rAF rate, same run)
//   panel_latency  p95 ms from a batch's arrival to the first frame that draws its newest event
//                  (baseline: one frame of the idle page — the least any rAF-drawn UI can do)
//   panel_heap     MB after 10 M events: JS heap after GC + ArrayBuffers the bounded store holds
//                  (baseline: JS heap of the idle page)
//   panel_fps_8_hosts, panel_latency_8_hosts: the same flood on a fresh panel with the events
//                  coming from 8 targets, as the model merges them: each post carries one batch
//                  per host (1/8 of the events each) and stats for every host every 250 ms
import type { CDPSession, Page } from 'playwright-core';
import { PanelModel } from '../core/panel/model';
import { available } from '../test/support/prereq';
import { ensureBuilt, launchBrowser, openPanel, startServer } from '../test/panel/harness';
import { loadRecording } from '../test/panel/recording';
import type { Benchmark, Metric } from './metric';
import { metric } from './metric';

const EVENTS_PER_SECOND = 1_000_000;
const SECONDS = 10;
const POSTS_PER_SECOND = 60;

interface FloodResult {
  frames: number;
  seconds: number;
  latencies: number[];
  delivered: number;
  storedEvents: number;
  storedBytes: number;
  rejected: number;
  renders: number;
  frameMs: number;
  messageMs: number;
}

/** Runs in the page. */
function flood(args: { records: number[][]; eventsPerSecond: number; seconds: number; postsPerSecond: number; hosts: string[] }): Promise<FloodResult> {
  type Debug = { onRendered?: (seq: number) => void; storedEvents(): number; storedBytes(): number; rejected: number; renders: number; frameMs: number; messageMs: number };
  const dbg = (window as unknown as { ringbufPanel: Debug }).ringbufPanel;
  const perPost = Math.round(args.eventsPerSecond / args.postsPerSecond);
  // Each post: one batch per host, perPost events in all.
  const perBatch = Math.ceil(perPost / args.hosts.length);
  // One template frame of perPost real records (8-byte ring header + payload, 8-aligned, as the helper ships them).
  const recs = args.records.map((r) => Uint8Array.from(r));
  const slot = (n: number): number => 8 + ((n + 7) & ~7);
  let size = 0;
  for (let i = 0; i < perPost; i++) size += slot((recs[i % recs.length] as Uint8Array).length);
  const template = new Uint8Array(size);
  const offsets = new Uint32Array(perPost);
  const lengths = new Uint32Array(perPost);
  const ends = new Uint32Array(perPost + 1); // ends[n]: bytes the first n records take
  let off = 0;
  for (let i = 0; i < perPost; i++) {
    const r = recs[i % recs.length] as Uint8Array;
    new DataView(template.buffer).setUint32(off, r.length, true);
    template.set(r, off + 8);
    offsets[i] = off + 8;
    lengths[i] = r.length;
    off += slot(r.length);
    ends[i + 1] = off;
  }
  const pending: Array<{ seq: number; at: number }> = [];
  const latencies: number[] = [];
  dbg.onRendered = (newest) => {
    const now = performance.now();
    while (pending.length && (pending[0] as { seq: number }).seq <= newest) latencies.push(now - (pending.shift() as { at: number }).at);
  };
  let frames = 0;
  let counting = true;
  const tick = (): void => {
    frames++;
    if (counting) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  let seq = 0;
  let records = 0;
  let bytes = 0;
  let id = 1_000_000;
  const total = args.eventsPerSecond * args.seconds;
  const started = performance.now();
  return new Promise((resolve) => {
    let lastStats = started;
    const post = (): void => {
      const now = performance.now();
      // Catch up to the wall clock (timers can be late under load), 1 M/s on average.
      const due = Math.min(total, Math.floor(((now - started) / 1000) * args.eventsPerSecond));
      const batches = [];
      let host = 0;
      while (seq + perBatch <= due || (seq < due && due === total)) {
        const count = Math.min(perBatch, total - seq);
        batches.push({ seq, host: args.hosts[host] as string, map: 'events', count, timeMs: Date.now(), data: template.slice(0, ends[count]), offsets: offsets.slice(0, count), lengths: lengths.slice(0, count) });
        host = (host + 1) % args.hosts.length;
        seq += count;
        records += count;
        bytes += count * 120;
      }
      const stats = [];
      if (now - lastStats >= 250) {
        lastStats = now;
        for (const h of args.hosts) {
          const [r, b] = [Math.round(records / args.hosts.length), Math.round(bytes / args.hosts.length)];
          stats.push({ host: h, timeMs: Date.now(), paused: false, rings: [{ index: 0, name: 'events', size: 262144, records: r, bytes: b, producerPos: b, consumerPos: b, fill: 0.1 }], counters: [{ name: 'dropped', map: '.bss', value: 0 }] });
        }
      }
      if (batches.length || stats.length) {
        const last = batches[batches.length - 1];
        if (last) pending.push({ seq: last.seq + last.count - 1, at: performance.now() });
        window.dispatchEvent(new MessageEvent('message', { data: { type: 'update', id: id++, batches, stats, totalEvents: seq } }));
      }
      if (seq < total) setTimeout(post, 1000 / args.postsPerSecond);
      else {
        // Let the last batch be drawn, then stop counting frames.
        setTimeout(() => {
          counting = false;
          const seconds = (performance.now() - started) / 1000;
          resolve({ frames, seconds, latencies, delivered: seq, storedEvents: dbg.storedEvents(), storedBytes: dbg.storedBytes(), rejected: dbg.rejected, renders: dbg.renders, frameMs: dbg.frameMs, messageMs: dbg.messageMs });
        }, 300);
      }
    };
    post();
  });
}

function idleFps(ms: number): Promise<number> {
  return new Promise((resolve) => {
    let frames = 0;
    const start = performance.now();
    const tick = (): void => {
      frames++;
      if (performance.now() - start < ms) requestAnimationFrame(tick);
      else resolve((frames * 1000) / (performance.now() - start));
    };
    requestAnimationFrame(tick);
  });
}

async function heapMb(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  return usedSize / (1 << 20);
}

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

export const benchmark: Benchmark = {
  name: 'panel',
  async run(log) {
    if (!available('browser')) throw new Error('/usr/bin/chromium is missing: apt-get install -y chromium (scripts/setup.sh test)');
    ensureBuilt();
    const rec = loadRecording();
    const records: number[][] = [];
    for (const f of rec.frames) {
      if (f.kind !== 'batch' || f.map !== 'events') continue;
      const data = Buffer.from(f.data, 'base64');
      f.offsets.forEach((o, i) => records.push([...data.subarray(o, o + (f.lengths[i] ?? 0))]));
      if (records.length >= 64) break;
    }
    const server = await startServer();
    const browser = await launchBrowser();
    try {
      // Baseline: an idle page with the same CSP (the harness page before any snapshot).
      const idle: Page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      await idle.goto(`${server.origin}/empty.html`);
      const idleCdp = await idle.context().newCDPSession(idle);
      const baselineFps = await idle.evaluate(idleFps, 3000);
      const baselineHeap = await heapMb(idleCdp);
      await idle.close();
      log(`idle page: ${baselineFps.toFixed(1)} fps, heap ${baselineHeap.toFixed(1)} MB`);

      const model = new PanelModel(rec.run, {}, { maxEvents: 1_000_000 });
      const panel = await openPanel(browser, server, model);
      const cdp = await panel.page.context().newCDPSession(panel.page);
      log(`flooding the panel with ${EVENTS_PER_SECOND.toLocaleString('en-US')} events/s for ${SECONDS} s…`);
      const r = await panel.page.evaluate(flood, { records, eventsPerSecond: EVENTS_PER_SECOND, seconds: SECONDS, postsPerSecond: POSTS_PER_SECOND, hosts: ['local'] });
      const jsHeap = await heapMb(cdp);
      const storeMb = r.storedBytes / (1 << 20);
      const fps = r.frames / r.seconds;
      const p50 = percentile(r.latencies, 50);
      const p95 = percentile(r.latencies, 95);
      const max = percentile(r.latencies, 100);
      log(`delivered ${r.delivered} events in ${r.seconds.toFixed(1)} s, ${r.frames} frames, stored ${r.storedEvents} (${storeMb.toFixed(1)} MB), rejected ${r.rejected}`);
      log(`panel work: ${r.renders} redraws, ${(r.frameMs / Math.max(1, r.renders)).toFixed(2)} ms each; message handling ${(r.messageMs / r.seconds / 10).toFixed(1)}% of the time`);
      log(`latency p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms over ${r.latencies.length} batches; JS heap ${jsHeap.toFixed(1)} MB`);
      // Filter over the 1 M stored events (decodes each record once, in ≤ 8 ms slices per frame).
      const filterStart = Date.now();
      await panel.page.locator('#filter input').fill('comm == "true" && pid > 100');
      await panel.page.locator('#filter input').press('Enter');
      await panel.page.waitForFunction(() => {
        const t = document.querySelector('#counts')?.textContent ?? '';
        return t.includes('shown') && !t.includes('filtering');
      }, undefined, { timeout: 120_000, polling: 20 });
      const filterSeconds = (Date.now() - filterStart) / 1000;
      log(`filter over ${r.storedEvents} stored events: ${filterSeconds.toFixed(2)} s`);
      if (panel.errors.length) log(`page errors: ${panel.errors.join('; ')}`);
      await panel.close();

      // The same flood from 8 targets merged, on a fresh panel.
      const panel8 = await openPanel(browser, server, new PanelModel(rec.run, {}, { maxEvents: 1_000_000 }));
      const hosts = Array.from({ length: 8 }, (_, i) => `root@10.0.0.${i + 1}`);
      const r8 = await panel8.page.evaluate(flood, { records, eventsPerSecond: EVENTS_PER_SECOND, seconds: SECONDS, postsPerSecond: POSTS_PER_SECOND, hosts });
      const [fps8, p50of8, p95of8] = [r8.frames / r8.seconds, percentile(r8.latencies, 50), percentile(r8.latencies, 95)];
      log(`8 hosts: delivered ${r8.delivered} events in ${r8.seconds.toFixed(1)} s, ${fps8.toFixed(1)} fps, ${r8.renders} redraws ${(r8.frameMs / Math.max(1, r8.renders)).toFixed(2)} ms each; latency p50 ${p50of8.toFixed(1)} ms, p95 ${p95of8.toFixed(1)} ms; rejected ${r8.rejected}`);
      if (panel8.errors.length) log(`page errors (8 hosts): ${panel8.errors.join('; ')}`);
      await panel8.close();
      const metrics: Metric[] = [
        metric('panel_fps', fps, 'frames/s', baselineFps, `rAF rate during ${(r.delivered / 1e6).toFixed(1)} M events at 1 M/s in ${POSTS_PER_SECOND} posts/s; baseline idle page (goal ≥ 30, target 60)`),
        metric('panel_latency', p95, 'ms', 1000 / baselineFps, `p95 arrival → newest row drawn (p50 ${p50.toFixed(1)}, max ${max.toFixed(1)}); baseline one idle frame (goal ≤ 100)`),
        metric('panel_heap', jsHeap + storeMb, 'MB', baselineHeap, `after ${(r.delivered / 1e6).toFixed(1)} M events: JS heap ${jsHeap.toFixed(1)} + store ArrayBuffers ${storeMb.toFixed(1)} (${r.storedEvents.toLocaleString('en-US')} kept); baseline idle page heap (goal ≤ 300)`),
        metric('panel_fps_8_hosts', fps8, 'frames/s', baselineFps, `as panel_fps with the events from 8 targets merged (a batch per host in every post, stats per host); baseline idle page (goal 60)`),
        metric('panel_latency_8_hosts', p95of8, 'ms', 1000 / baselineFps, `as panel_latency with 8 targets (p50 ${p50of8.toFixed(1)}); baseline one idle frame (goal ≤ 100)`),
        metric('panel_filter_scan', r.storedEvents / filterSeconds, 'events/s', null, `a new filter checked over ${r.storedEvents.toLocaleString('en-US')} stored events (lazy decode per record) while the UI keeps drawing`),
      ];
      return metrics;
    } finally {
      await browser.close();
      await server.close();
    }
  },
};
