// The host-side panel model: ready → snapshot, batching to ≤ 60 posts/s, bounded
// store, commands, export content and message validation — replaying the recorded
// real run (test/fixtures/panel/recording.json).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PanelModel } from '../../../core/panel/model';
import { PANEL_PROTOCOL_VERSION, parseHostMessage } from '../../../core/protocol/panel';
import type { ExportRequest, HostToWebview, SnapshotMessage, UpdateMessage } from '../../../core/protocol/panel';
import { loadRecording, toRecordBatch } from '../../panel/recording';
import type { RecordBatch } from '../../../core/session/types';

const rec = loadRecording();
const batches = rec.frames.flatMap((f) => (f.kind === 'batch' ? [f] : [])).map((f) => toRecordBatch(f));
const stats = rec.frames.filter((f) => f.kind === 'stats');

function setup(opts: { maxEvents?: number } = {}) {
  const posted: HostToWebview[] = [];
  const commands: string[] = [];
  const postTimes: number[] = [];
  const model = new PanelModel(rec.run, { onCommand: (c) => void commands.push(c) }, { maxEvents: opts.maxEvents ?? 1_000_000, now: () => Date.now() });
  model.attach((m) => (posted.push(parseHostMessage(m)), postTimes.push(Date.now())));
  return { model, posted, commands, postTimes };
}

async function ready(model: PanelModel, posted: HostToWebview[]): Promise<SnapshotMessage> {
  await model.handleMessage({ type: 'ready', id: 1, protocol: PANEL_PROTOCOL_VERSION });
  const snap = posted.find((m) => m.type === 'snapshot');
  expect(snap).toBeDefined();
  return snap as SnapshotMessage;
}

describe('PanelModel', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('posts nothing before ready, then answers ready with a snapshot holding every stored event', async () => {
    const { model, posted } = setup();
    for (const b of batches.slice(0, 50)) model.pushBatch(b);
    vi.advanceTimersByTime(1000);
    expect(posted).toHaveLength(0);
    const snap = await ready(model, posted);
    expect(snap.inReplyTo).toBe(1);
    const n = batches.slice(0, 50).reduce((s, b) => s + b.count, 0);
    expect(snap.batches.reduce((s, b) => s + b.count, 0)).toBe(n);
    expect(snap.totalEvents).toBe(n);
    expect(snap.run.maps.find((m) => m.name === 'events')?.maxEntries).toBe(16384);
  });

  it('batches a flood into at most 60 posts per second and loses no event', async () => {
    const { model, posted, postTimes } = setup();
    await ready(model, posted);
    posted.length = 0;
    postTimes.length = 0;
    let pushed = 0;
    // 10 000 pushes spread over one second (one every 0.1 ms).
    for (let i = 0; i < 10_000; i++) {
      const b = batches[i % batches.length] as RecordBatch;
      model.pushBatch(b);
      pushed += b.count;
      if (i % 10 === 9) vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(100);
    const updates = posted.filter((m): m is UpdateMessage => m.type === 'update');
    // 1.1 s of (fake) time: at most 1 + 1100 / (1000 / 60) posts, each ≥ 1/60 s after the previous one.
    expect(updates.length).toBeLessThanOrEqual(67);
    expect(updates.length).toBeGreaterThan(30);
    for (let i = 1; i < postTimes.length; i++) expect(postTimes[i]! - postTimes[i - 1]!).toBeGreaterThanOrEqual(16);
    expect(updates.reduce((s, u) => s + u.batches.reduce((x, b) => x + b.count, 0), 0)).toBe(pushed);
    // Sequence numbers are contiguous across posts.
    let next = updates[0]!.batches[0]!.seq;
    for (const u of updates) {
      for (const b of u.batches) {
        expect(b.seq).toBe(next);
        next += b.count;
      }
    }
  });

  it('keeps only the newest maxEvents events', async () => {
    const { model, posted } = setup({ maxEvents: 100 });
    for (const b of batches) model.pushBatch(b);
    const snap = await ready(model, posted);
    const total = batches.reduce((s, b) => s + b.count, 0);
    expect(snap.totalEvents).toBe(total);
    expect(model.store.size).toBe(100);
    expect(snap.firstSeq).toBe(total - 100);
    const last = snap.batches[snap.batches.length - 1]!;
    expect(last.seq + last.count).toBe(total);
  });

  it('forwards stats with the host and keeps a history for a reopened panel', async () => {
    const { model, posted } = setup();
    for (const s of stats) if (s.kind === 'stats') model.pushStats(s.host, s.stats);
    const snap = await ready(model, posted);
    expect(snap.stats).toHaveLength(stats.length);
    expect(snap.stats[0]!.host).toBe('local');
    expect(snap.stats[0]!.rings.map((r) => r.name)).toEqual(['events', 'raw_events']);
  });

  it('clear empties the store, tells the webview and the extension, and replies', async () => {
    const { model, posted, commands } = setup();
    for (const b of batches) model.pushBatch(b);
    await ready(model, posted);
    await model.handleMessage({ type: 'command', id: 7, command: 'clear' });
    expect(model.store.size).toBe(0);
    expect(posted.some((m) => m.type === 'cleared')).toBe(true);
    expect(posted.some((m) => m.type === 'reply' && m.inReplyTo === 7)).toBe(true);
    expect(commands).toEqual(['clear']);
  });

  it('a failing command gets an error reply naming it', async () => {
    const posted: HostToWebview[] = [];
    const model = new PanelModel(rec.run, { onCommand: () => Promise.reject(new Error('helper is gone')) });
    model.attach((m) => posted.push(m));
    await model.handleMessage({ type: 'command', id: 3, command: 'stop' });
    const err = posted.find((m) => m.type === 'error');
    expect(err).toMatchObject({ inReplyTo: 3, message: 'stop: helper is gone' });
  });

  it('rejects invalid webview messages: logged, and an error reply when they carry an id', async () => {
    const logs: string[] = [];
    const posted: HostToWebview[] = [];
    const model = new PanelModel(rec.run, { log: (_l, t) => logs.push(t) });
    model.attach((m) => posted.push(m));
    await model.handleMessage({ type: 'command', id: 4, command: 'rm -rf /' });
    await model.handleMessage('hello');
    await model.handleMessage({ type: 'ready', id: 5, protocol: 99 });
    expect(logs.join('\n')).toMatch(/command\.command: expected one of stop, pause, resume, clear/);
    expect(logs.join('\n')).toMatch(/expected an object/);
    expect(posted.filter((m) => m.type === 'error').map((m) => (m as { inReplyTo: number }).inReplyTo)).toEqual([4, 5]);
    expect(posted.some((m) => m.type === 'snapshot')).toBe(false);
  });

  it('export replies with what was saved, or with the filter error', async () => {
    const posted: HostToWebview[] = [];
    const saved: string[] = [];
    const model = new PanelModel(rec.run, {
      saveExport: (r) => {
        saved.push(r.content);
        return Promise.resolve('/tmp/x.csv');
      },
    });
    model.attach((m) => posted.push(m));
    for (const b of batches) model.pushBatch(b);
    const req: ExportRequest = { format: 'csv', scope: 'visible', filter: 'comm == "true"', hiddenColumns: [], endSeq: null };
    await model.handleMessage({ type: 'export', id: 9, request: req });
    expect(posted.find((m) => m.type === 'reply')).toMatchObject({ inReplyTo: 9, result: expect.stringMatching(/^saved \d+ events to \/tmp\/x.csv$/) });
    await model.handleMessage({ type: 'export', id: 10, request: { ...req, filter: 'comm ==' } });
    expect(posted.find((m) => m.type === 'error')).toMatchObject({ inReplyTo: 10, message: expect.stringMatching(/filter is invalid/) });
    expect(saved).toHaveLength(1);
  });

  it('Create Test… hands the filter and the number of stored events it matches to the extension, or replies with the filter error', async () => {
    const posted: HostToWebview[] = [];
    const asked: Array<{ filter: string; observed: number }> = [];
    const model = new PanelModel(rec.run, {
      onCreateTest: (r) => {
        asked.push(r);
        return Promise.resolve(`added "t" to x.rbtest.yaml (expects ${r.observed})`);
      },
    });
    model.attach((m) => posted.push(parseHostMessage(m)));
    for (const b of batches) model.pushBatch(b);
    const trues = model.exportContent({ format: 'json', scope: 'visible', filter: 'comm == "true"', hiddenColumns: [], endSeq: null }).count;
    expect(trues).toBeGreaterThan(0);
    expect(trues).toBeLessThan(model.countMatching(''));
    await model.handleMessage({ type: 'createTest', id: 7, filter: 'comm == "true"' });
    expect(asked).toEqual([{ filter: 'comm == "true"', observed: trues }]);
    expect(posted.find((m) => m.type === 'reply')).toMatchObject({ inReplyTo: 7, result: `added "t" to x.rbtest.yaml (expects ${trues})` });
    await model.handleMessage({ type: 'createTest', id: 8, filter: 'comm ==' });
    expect(posted.find((m) => m.type === 'error')).toMatchObject({ inReplyTo: 8, message: expect.stringMatching(/^create test: the filter is invalid/) });
    expect(asked).toHaveLength(1);
    expect(model.countMatching('comm == "no such command"')).toBe(0);
  });
});
