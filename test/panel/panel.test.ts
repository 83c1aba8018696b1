// The Live Events panel in real headless Chromium: the built bundle (dist/webview) in
// the harness page under the extension's CSP, fed by the real host model replaying
// a recording of a real run (test/fixtures/panel/recording.json, see record.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PanelModel } from '../../core/panel/model';
import type { ExportResult } from '../../core/panel/export';
import { available } from '../support/prereq';
import { ensureBuilt, launchBrowser, openPanel, repoRoot, startServer } from './harness';
import type { HarnessServer, PanelPage } from './harness';
import { loadRecording, toRecordBatch } from './recording';
import type { RecordedFrame } from './recording';

const rec = loadRecording();
const HOSTILE = '<img src=x onerror=alert(1)>';
const shots = path.join(repoRoot, 'test-results');

function replay(model: PanelModel, frames: RecordedFrame[]): void {
  for (const f of frames) {
    if (f.kind === 'batch') model.pushBatch(toRecordBatch(f));
    else model.pushStats(f.host, f.stats);
  }
  model.flush();
}

const countsText = (p: PanelPage) => p.page.locator('#counts').textContent();
async function shownCount(p: PanelPage): Promise<number> {
  const t = (await countsText(p)) ?? '';
  return Number((/^([\d,]+) shown/.exec(t)?.[1] ?? '-1').replace(/,/g, ''));
}
async function receivedCount(p: PanelPage): Promise<number> {
  const t = (await countsText(p)) ?? '';
  return Number((/([\d,]+) received/.exec(t)?.[1] ?? '-1').replace(/,/g, ''));
}
async function headers(p: PanelPage): Promise<string[]> {
  return p.page.locator('.thead .th').allTextContents();
}
/** Text of a column for every drawn row. */
async function column(p: PanelPage, name: string): Promise<string[]> {
  const idx = (await headers(p)).indexOf(name);
  if (idx < 0) return [];
  return p.page.$$eval(`.tbody .row:not([hidden])`, (rows, i) => rows.map((r) => r.children[i]?.textContent ?? ''), idx);
}
async function setFilter(p: PanelPage, text: string): Promise<void> {
  await p.page.locator('#filter input').fill(text);
  await p.page.locator('#filter input').press('Enter');
  await p.page.waitForTimeout(300);
}

describe.skipIf(!available('browser'))('Live Events panel (Chromium)', () => {
  let browser: Browser;
  let server: HarnessServer;
  const batchFrames = rec.frames.filter((f) => f.kind === 'batch');
  const total = batchFrames.reduce((n, f) => n + f.count, 0);
  const half = Math.floor(rec.frames.length / 2);

  beforeAll(async () => {
    ensureBuilt();
    fs.mkdirSync(shots, { recursive: true });
    server = await startServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the run header, typed columns and rows from the recorded run; untyped records as hex with the declare hint', async () => {
    const declared: string[] = [];
    const model = new PanelModel(rec.run, { onDeclareEventType: (m) => void declared.push(m) });
    const p = await openPanel(browser, server, model);
    replay(model, rec.frames);
    await p.page.waitForFunction((n) => (document.querySelector('#counts')?.textContent ?? '').startsWith(`${n.toLocaleString('en-US')} shown`), total);
    expect(await p.page.locator('#program').textContent()).toBe('exec_events.bpf.c');
    expect(await p.page.locator('#state').textContent()).toBe('running');
    const header = (await p.page.locator('header.run').textContent()) ?? '';
    const eventsMap = rec.run.maps.find((m) => m.name === 'events')!;
    expect(header).toContain(`events ringbuf max_entries=${eventsMap.maxEntries.toLocaleString('en-US')}`);
    expect(header).toMatch(/✓ on_exec_enter → syscalls\/sys_enter_execve/);
    expect(await headers(p)).toEqual(['time', 'map', 'pid', 'ret', 'ids.uid', 'ids.gid', 'kind', 'ts_ns', 'comm', 'filename', 'cpu', 'raw (hex)']);
    // Typed cells: enum by name, char[] as text, arrays compact, integers with hex on hover.
    const kinds = await column(p, 'kind');
    expect(kinds.length).toBeGreaterThan(5);
    expect(kinds.filter((k) => k !== '').every((k) => k === 'EXEC_ENTER' || k === 'EXEC_EXIT')).toBe(true);
    expect((await column(p, 'cpu')).filter(Boolean)[0]).toMatch(/^\[\d+, \d+\]$/);
    const pidIdx = (await headers(p)).indexOf('pid');
    const pidCell = p.page.locator('.tbody .row:not(.untyped)').first().locator('.td').nth(pidIdx);
    const pid = Number(await pidCell.textContent());
    expect(await pidCell.getAttribute('title')).toBe(`0x${pid.toString(16)}`);
    // raw_events has no type: hex in the raw column and a banner with the code-action link.
    const raws = await p.page.$$eval('.tbody .row.untyped .k-raw', (c) => c.map((x) => x.textContent ?? ''));
    expect(raws.length).toBeGreaterThan(0);
    expect(raws[0]).toMatch(/^[0-9a-f]{32}$/);
    await p.page.locator('.banner .declare').click();
    await expect.poll(() => declared).toEqual(['raw_events']);
    // Rings and drops from the helper's stats.
    expect(await p.page.locator('.ring[data-ring="events"] .fill-text').textContent()).toMatch(/% full/);
    const lastStats = rec.frames.filter((f) => f.kind === 'stats').pop()!;
    const finalDrops = lastStats.stats.counters.reduce((n, c) => n + c.value, 0);
    expect(await p.page.locator('.drops .drop-total').textContent()).toMatch(new RegExp(`^${finalDrops.toLocaleString('en-US')} `));
    expect(p.errors).toEqual([]);
    expect(p.cspViolations).toEqual([]);
    await p.page.screenshot({ path: path.join(shots, 'panel-dark.png') });
    await p.close();
    const light = await openPanel(browser, server, model, 'light');
    await light.page.waitForFunction(() => (document.querySelector('#counts')?.textContent ?? '').includes('shown'));
    await light.page.waitForTimeout(300);
    await light.page.screenshot({ path: path.join(shots, 'panel-light.png') });
    await light.close();
  });

  it('filter narrows the rows; an invalid filter errors inline while the stream continues with the last good filter', async () => {
    const model = new PanelModel(rec.run);
    const p = await openPanel(browser, server, model);
    replay(model, rec.frames.slice(0, half));
    const good = 'kind == "EXEC_EXIT" && ret == 0';
    const expected = () => model.exportContent({ format: 'csv', scope: 'visible', filter: good, hiddenColumns: [], endSeq: null }).count;
    await setFilter(p, good);
    const narrowed = await shownCount(p);
    expect(narrowed).toBe(expected());
    expect(narrowed).toBeGreaterThan(0);
    expect(narrowed).toBeLessThan(model.store.size);
    expect(new Set(await column(p, 'kind'))).toEqual(new Set(['EXEC_EXIT']));
    expect(new Set(await column(p, 'ret'))).toEqual(new Set(['0']));

    await setFilter(p, 'comm == ');
    const err = p.page.locator('#filter-error');
    await expect.poll(() => err.textContent()).toMatch(/incomplete filter.*\(column 9\) — showing the last valid filter: kind == "EXEC_EXIT" && ret == 0/);
    const before = await receivedCount(p);
    replay(model, rec.frames.slice(half));
    await expect.poll(() => receivedCount(p)).toBe(total);
    expect(before).toBeLessThan(total);
    // New matches still arrive under the last good filter.
    await expect.poll(() => shownCount(p)).toBe(expected());
    expect(expected()).toBeGreaterThan(narrowed);
    expect(new Set(await column(p, 'kind'))).toEqual(new Set(['EXEC_EXIT']));

    await setFilter(p, 'comm ~ "tru" || filename ~ "^/bin/t"');
    await expect.poll(() => err.isHidden()).toBe(true);
    const rows = await column(p, 'comm');
    expect(rows.length).toBeGreaterThan(0);
    await setFilter(p, '');
    await expect.poll(() => shownCount(p)).toBe(total);
    await p.close();
  });

  it('pause stops row updates while counts continue; resume shows what arrived', async () => {
    const model = new PanelModel(rec.run);
    const p = await openPanel(browser, server, model);
    replay(model, rec.frames.slice(0, half));
    await expect.poll(() => receivedCount(p)).toBeGreaterThan(0);
    await p.page.locator('#pause').click();
    await expect.poll(() => p.page.locator('#pause').getAttribute('aria-pressed')).toBe('true');
    const shown = await shownCount(p);
    const lastRow = await p.page.locator('.tbody .row:not([hidden])').last().getAttribute('data-seq');
    replay(model, rec.frames.slice(half));
    await expect.poll(() => receivedCount(p)).toBe(total);
    expect(await shownCount(p)).toBe(shown);
    expect(await p.page.locator('.tbody .row:not([hidden])').last().getAttribute('data-seq')).toBe(lastRow);
    expect(await countsText(p)).toMatch(/view paused/);
    const recordsText = await p.page.locator('.ring[data-ring="events"] .ring-rates').textContent();
    expect(recordsText).toMatch(/total/);
    await p.page.locator('#pause').click();
    await expect.poll(() => shownCount(p)).toBe(total);
    await p.close();
  });

  it('exports shown or all events as CSV and JSON through the host', async () => {
    const saved: ExportResult[] = [];
    const model = new PanelModel(rec.run, { saveExport: (r) => (saved.push(r), Promise.resolve('/tmp/events.out')) });
    const p = await openPanel(browser, server, model);
    replay(model, rec.frames);
    await setFilter(p, 'comm == "true"');
    const shown = await shownCount(p);
    await p.page.locator('#export-csv').click();
    await expect.poll(() => p.page.locator('#status').textContent()).toBe(`saved ${shown} events to /tmp/events.out`);
    const csv = saved[0]!.content.trim().split('\n');
    expect(csv).toHaveLength(shown + 1);
    const head = csv[0]!.split(',');
    expect(csv.slice(1).every((line) => line.split(',')[head.indexOf('comm')] === 'true')).toBe(true);
    await p.page.locator('#export-visible').click(); // all events
    await p.page.locator('#export-json').click();
    await expect.poll(() => saved.length).toBe(2);
    const all = JSON.parse(saved[1]!.content) as Array<{ seq: number; map: string }>;
    expect(all).toHaveLength(total);
    expect(all.filter((e) => e.map === 'raw_events').length).toBeGreaterThan(0);
    await p.close();
  });

  it('Create Test… sends the filter in force; the host answers with the count it matched and the panel shows the outcome', async () => {
    const asked: Array<{ filter: string; observed: number }> = [];
    const model = new PanelModel(rec.run, { onCreateTest: (r) => (asked.push(r), Promise.resolve(`added "t" to execve.rbtest.yaml (count >= ${r.observed})`)) });
    const p = await openPanel(browser, server, model);
    replay(model, rec.frames);
    await setFilter(p, 'comm == "true"');
    const shown = await shownCount(p);
    expect(shown).toBeGreaterThan(0);
    await p.page.locator('#create-test').click();
    await expect.poll(() => p.page.locator('#status').textContent()).toBe(`added "t" to execve.rbtest.yaml (count >= ${shown})`);
    expect(asked).toEqual([{ filter: 'comm == "true"', observed: shown }]);
    await p.close();
  });

  it('reopening the panel mid-stream restores the same state from the snapshot', async () => {
    const model = new PanelModel(rec.run);
    const p = await openPanel(browser, server, model);
    replay(model, rec.frames.slice(0, half));
    await setFilter(p, 'kind == "EXEC_EXIT"');
    await p.page.locator('#columns-button').click();
    await p.page.locator('#col-ts_ns').uncheck();
    await p.page.locator('#pause').click();
    await expect.poll(() => p.page.locator('#pause').getAttribute('aria-pressed')).toBe('true');
    const shown = await shownCount(p);
    const cols = await headers(p);
    expect(cols).not.toContain('ts_ns');
    await p.close(); // the webview is destroyed (retainContextWhenHidden is off)
    replay(model, rec.frames.slice(half)); // events keep arriving while it is closed
    const again = await openPanel(browser, server, model);
    await expect.poll(() => receivedCount(again)).toBe(total);
    expect(await again.page.locator('#filter').evaluate((el) => (el as HTMLInputElement).value)).toBe('kind == "EXEC_EXIT"');
    expect(await headers(again)).toEqual(cols);
    expect(await again.page.locator('#pause').getAttribute('aria-pressed')).toBe('true');
    expect(await shownCount(again)).toBe(shown);
    expect(new Set(await column(again, 'kind'))).toEqual(new Set(['EXEC_EXIT']));
    await again.close();
  });

  it('stop asks the extension (errors shown), clear empties the view while counting goes on', async () => {
    const commands: string[] = [];
    let failStop = true;
    const model = new PanelModel(rec.run, {
      onCommand: (c) => {
        commands.push(c);
        if (c === 'stop' && failStop) return Promise.reject(new Error('the helper did not answer'));
        return undefined;
      },
    });
    const p = await openPanel(browser, server, model);
    replay(model, rec.frames.slice(0, half));
    await expect.poll(() => receivedCount(p)).toBeGreaterThan(0);
    await p.page.locator('#stop').click();
    await expect.poll(() => p.page.locator('#status').textContent()).toBe('stop: the helper did not answer');
    failStop = false;
    await p.page.locator('#stop').click();
    await expect.poll(() => p.page.locator('#status').textContent()).toBe('Stop requested.');
    await p.page.locator('#clear').click();
    await expect.poll(() => shownCount(p)).toBe(0);
    expect(model.store.size).toBe(0);
    replay(model, rec.frames.slice(half));
    await expect.poll(() => receivedCount(p)).toBe(total);
    const after = batchFrames.slice(0).reduce((n, f) => n + f.count, 0) - batchFrames.filter((f) => rec.frames.indexOf(f) < half).reduce((n, f) => n + f.count, 0);
    await expect.poll(() => shownCount(p)).toBe(after);
    expect(commands).toEqual(['stop', 'stop', 'clear']);
    model.setState('stopped', 'stopped by the user');
    model.flush();
    await expect.poll(() => p.page.locator('#state').textContent()).toBe('stopped');
    await p.close();
  });

  it('the bounded store keeps the newest events, also across a reopen', async () => {
    const model = new PanelModel(rec.run, {}, { maxEvents: 1000 });
    replay(model, rec.frames);
    const p = await openPanel(browser, server, model);
    await expect.poll(() => countsText(p)).toMatch(/^1,000 shown · 1,000 stored · [\d,]+ received/);
    expect(await receivedCount(p)).toBe(total);
    await p.page.locator('#autoscroll').click(); // off: look at the oldest rows
    await p.page.locator('.viewport').focus();
    await p.page.keyboard.press('Home');
    await expect.poll(() => p.page.locator('.tbody .row:not([hidden])').first().getAttribute('data-seq')).toBe(String(total - 1000));
    expect(await p.page.locator('.tbody .row:not([hidden])').first().textContent()).not.toContain('(evicted)');
    await p.close();
  });

  it('keyboard: rows are reachable, Enter opens decoded fields and raw hex, Escape closes', async () => {
    const model = new PanelModel(rec.run);
    const p = await openPanel(browser, server, model);
    replay(model, rec.frames);
    await setFilter(p, 'comm == "true"');
    await p.page.locator('.viewport').focus();
    await p.page.keyboard.press('Home');
    await p.page.keyboard.press('Enter');
    const details = p.page.locator('#details');
    await expect.poll(() => details.isVisible()).toBe(true);
    const text = (await details.textContent()) ?? '';
    expect(text).toMatch(/comm\s*true/);
    expect(text).toMatch(/kind\s*EXEC_EXIT/);
    expect(await p.page.locator('#details .hexdump').textContent()).toMatch(/^0000 {2}[0-9a-f]{2} /);
    await p.page.keyboard.press('Escape');
    await expect.poll(() => details.isHidden()).toBe(true);
    await p.close();
  });

  it('renders a hostile file name and comm as text: no element, no script, no dialog', async () => {
    const model = new PanelModel(rec.run);
    const p = await openPanel(browser, server, model);
    replay(model, rec.frames);
    await setFilter(p, 'filename ~ "onerror" || comm ~ "^<img"');
    const files = (await column(p, 'filename')).filter(Boolean);
    const comms = await column(p, 'comm');
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => f.endsWith(`/${HOSTILE}`))).toBe(true);
    // The comm of the exec'd file is its name's first 15 bytes (TASK_COMM_LEN).
    expect(comms).toContain(HOSTILE.slice(0, 15));
    expect(await p.page.locator('img').count()).toBe(0);
    await p.page.locator('.viewport').focus();
    await p.page.keyboard.press('End');
    await p.page.keyboard.press('Enter');
    expect(await p.page.locator('#details img').count()).toBe(0);
    await p.page.waitForTimeout(300);
    expect(p.dialogs).toEqual([]);
    await p.close();
  });

  it('the CSP blocks injected inline scripts and inline event handlers', async () => {
    const model = new PanelModel(rec.run);
    const p = await openPanel(browser, server, model);
    const ran = await p.page.evaluate(async () => {
      const w = window as unknown as { injected?: number };
      const s = document.createElement('script');
      s.textContent = 'window.injected = 1';
      document.body.append(s);
      const s2 = document.createElement('script');
      s2.setAttribute('nonce', 'not-the-nonce');
      s2.textContent = 'window.injected = 2';
      document.body.append(s2);
      const div = document.createElement('div');
      div.innerHTML = '<img src="data:," onerror="window.injected = 3">';
      document.body.append(div);
      await new Promise((r) => setTimeout(r, 300));
      return w.injected ?? null;
    });
    expect(ran).toBeNull();
    await expect.poll(() => p.cspViolations.filter((v) => v.startsWith('script-src')).length).toBeGreaterThanOrEqual(3);
    expect(p.dialogs).toEqual([]);
    await p.close();
  });

  it('shows a full ring and the program\'s drop counter from the real paused run — loss is never silent', async () => {
    const model = new PanelModel(rec.run);
    const p = await openPanel(browser, server, model);
    // Replay up to the stats sample with the most drops while the helper was paused.
    const statsIdx = rec.frames.map((f, i) => [f, i] as const).filter(([f]) => f.kind === 'stats' && f.stats.paused);
    const [worst, idx] = statsIdx.reduce((a, b) => ((b[0] as { stats: { counters: { value: number }[] } }).stats.counters[0]!.value > (a[0] as { stats: { counters: { value: number }[] } }).stats.counters[0]!.value ? b : a));
    const dropped = (worst as Extract<RecordedFrame, { kind: 'stats' }>).stats.counters.reduce((n, c) => n + c.value, 0);
    expect(dropped).toBeGreaterThan(0);
    replay(model, rec.frames.slice(0, idx + 1));
    const ring = p.page.locator('.ring[data-ring="events"]');
    await expect.poll(() => ring.locator('.fill-text').textContent()).toBe('ring full');
    expect(await ring.textContent()).toContain('(paused)');
    expect(await ring.locator('.gauge').getAttribute('aria-valuenow')).toMatch(/^(99|100)$/);
    expect(await p.page.locator('.drops .drop-total').textContent()).toMatch(new RegExp(`^${dropped.toLocaleString('en-US')}`));
    expect(await p.page.locator('.drops').getAttribute('class')).toContain('has-drops');
    expect(await p.page.locator('.drops .warn').textContent()).toMatch(/ring full/);
    await p.page.screenshot({ path: path.join(shots, 'panel-ring-full.png') });
    // After RESUME the ring drains and the warning goes away; the total stays.
    replay(model, rec.frames.slice(idx + 1));
    await expect.poll(() => ring.locator('.fill-text').textContent()).toMatch(/% full$/);
    await p.close();
  });

  it('rejects a malformed host message without breaking the panel', async () => {
    const logs: string[] = [];
    const model = new PanelModel(rec.run, { log: (_l, t) => logs.push(t) });
    const p = await openPanel(browser, server, model);
    await p.page.evaluate(() => {
      const h = (window as unknown as { __harness: { deliverRaw(x: unknown): void } }).__harness;
      h.deliverRaw({ type: 'update', id: 5, batches: [{ seq: 0, host: 'x', map: 'events', count: 1, timeMs: 0, data: new Uint8Array(4), offsets: Uint32Array.of(0), lengths: Uint32Array.of(400) }], stats: [], totalEvents: 1 });
      h.deliverRaw('<script>');
    });
    await expect.poll(() => logs.join('\n')).toMatch(/webview rejected a message: batches\[0\]: record 0 runs past the end of data/);
    replay(model, rec.frames);
    await expect.poll(() => shownCount(p)).toBe(total);
    await p.close();
  });
});
