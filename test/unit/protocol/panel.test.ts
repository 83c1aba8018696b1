// Message validation both ways and request ids with replies/timeouts.
import { describe, expect, it, vi } from 'vitest';
import { PanelMessageError, RequestTracker, parseHostMessage, parseWebviewMessage } from '../../../core/protocol/panel';
import { loadRecording } from '../../panel/recording';

describe('parseWebviewMessage', () => {
  it('accepts each message the webview sends', () => {
    expect(parseWebviewMessage({ type: 'ready', id: 1, protocol: 1 })).toEqual({ type: 'ready', id: 1, protocol: 1 });
    expect(parseWebviewMessage({ type: 'command', id: 2, command: 'stop' })).toMatchObject({ command: 'stop' });
    const view = { filter: 'pid > 1', paused: true, pausedAt: 10, autoScroll: false, hiddenColumns: ['$raw'] };
    expect(parseWebviewMessage({ type: 'viewState', id: 3, view, extra: 1 })).toEqual({ type: 'viewState', id: 3, view });
    expect(parseWebviewMessage({ type: 'createTest', id: 5, filter: 'comm == "true"', extra: 1 })).toEqual({ type: 'createTest', id: 5, filter: 'comm == "true"' });
    expect(parseWebviewMessage({ type: 'export', id: 4, request: { format: 'json', scope: 'all', filter: '', hiddenColumns: [], endSeq: null, seqs: [1, 2] } })).toMatchObject({ request: { seqs: [1, 2] } });
  });
  const bad: Array<[unknown, RegExp]> = [
    [null, /expected an object/],
    [{ type: 'nope', id: 1 }, /unknown message type "nope"/],
    [{ type: 'ready', id: -1, protocol: 1 }, /ready\.id: expected an integer/],
    [{ type: 'command', id: 1, command: 'exec' }, /command\.command: expected one of/],
    [{ type: 'export', id: 1, request: { format: 'xml', scope: 'all', filter: '', hiddenColumns: [], endSeq: null } }, /export\.request\.format/],
    [{ type: 'viewState', id: 1, view: { filter: 'x'.repeat(5000), paused: false, pausedAt: null, autoScroll: true, hiddenColumns: [] } }, /longer than 4096/],
    [{ type: 'declareEventType', id: 1, map: 7 }, /map: expected a string/],
    [{ type: 'createTest', id: 1 }, /createTest\.filter: expected a string/],
    [{ type: 'createTest', id: 1, filter: 'x'.repeat(5000) }, /longer than 4096/],
  ];
  for (const [msg, re] of bad) {
    it(`rejects ${JSON.stringify(msg)?.slice(0, 60)}`, () => {
      expect(() => parseWebviewMessage(msg)).toThrow(PanelMessageError);
      expect(() => parseWebviewMessage(msg)).toThrow(re);
    });
  }
});

describe('parseHostMessage', () => {
  const run = loadRecording().run;
  const batch = { seq: 0, host: 'local', map: 'events', count: 1, timeMs: 1, data: new Uint8Array(8), offsets: Uint32Array.of(0), lengths: Uint32Array.of(8) };
  it('accepts an update with typed arrays', () => {
    expect(parseHostMessage({ type: 'update', id: 1, batches: [batch], stats: [], totalEvents: 1, run })).toMatchObject({ type: 'update' });
  });
  it('rejects a batch whose record runs past its data', () => {
    expect(() => parseHostMessage({ type: 'update', id: 1, batches: [{ ...batch, lengths: Uint32Array.of(9) }], stats: [], totalEvents: 1 })).toThrow(/record 0 runs past the end/);
    expect(() => parseHostMessage({ type: 'update', id: 1, batches: [{ ...batch, data: [1, 2] }], stats: [], totalEvents: 1 })).toThrow(/expected a Uint8Array/);
  });
  it('rejects a run with an unknown state', () => {
    expect(() => parseHostMessage({ type: 'update', id: 1, batches: [], stats: [], totalEvents: 0, run: { ...run, state: 'exploded' } })).toThrow(/run\.state/);
  });
});

describe('RequestTracker', () => {
  it('settles by inReplyTo, rejects error replies, and times out', async () => {
    vi.useFakeTimers();
    const t = new RequestTracker();
    const a = t.newId();
    const b = t.newId();
    const c = t.newId();
    const pa = t.wait(a, 'export', 1000);
    const pb = t.wait(b, 'stop', 1000);
    const pc = t.wait(c, 'clear', 1000);
    expect(t.settle({ type: 'reply', id: 100, inReplyTo: a, result: 'saved' })).toBe(true);
    expect(t.settle({ type: 'error', id: 101, inReplyTo: b, message: 'no helper', hint: 'start a run' })).toBe(true);
    expect(t.settle({ type: 'reply', id: 102, inReplyTo: 999 })).toBe(false);
    vi.advanceTimersByTime(1001);
    await expect(pa).resolves.toBe('saved');
    await expect(pb).rejects.toThrow('no helper');
    await expect(pc).rejects.toThrow(/clear: no reply from the extension within 1 s/);
    expect(t.size).toBe(0);
    vi.useRealTimers();
  });
});
