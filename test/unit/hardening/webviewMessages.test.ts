// A hostile webview (say, one that some event text managed to script) posts malformed
// messages: the host model must do nothing with them — no command, no export, no
// source edit, no prototype pollution — and answer only with error replies or a log
// line. The opposite direction (host → webview) is validated by parseHostMessage.
import { describe, expect, it } from 'vitest';
import { PanelModel } from '../../../core/panel/model';
import { PANEL_PROTOCOL_VERSION, parseHostMessage, PanelMessageError, type HostToWebview } from '../../../core/protocol/panel';
import { loadRecording } from '../../panel/recording';

const rec = loadRecording();

function hostileModel() {
  const effects: string[] = [];
  const posted: HostToWebview[] = [];
  const logs: string[] = [];
  const model = new PanelModel(rec.run, {
    onCommand: (c) => void effects.push(`command ${c}`),
    saveExport: (r) => {
      effects.push(`export ${r.count}`);
      return Promise.resolve('/tmp/x');
    },
    onDeclareEventType: (m) => void effects.push(`declare ${m}`),
    log: (_l, t) => logs.push(t),
  });
  model.attach((m) => posted.push(parseHostMessage(m)));
  return { model, effects, posted, logs };
}

const deep = (n: number): unknown => (n === 0 ? {} : { view: deep(n - 1) });

const hostile: unknown[] = [
  undefined, null, 0, 'stop', ['command', 'stop'], true,
  { type: 'command', command: 'stop' }, // no id
  { type: 'command', id: '1', command: 'stop' },
  { type: 'command', id: 1.5, command: 'stop' },
  { type: 'command', id: -1, command: 'stop' },
  { type: 'command', id: Number.NaN, command: 'stop' },
  { type: 'command', id: 1, command: 'exec' },
  { type: 'command', id: 1, command: 'stop; rm -rf ~' },
  { type: 'command', id: 1, command: ['stop'] },
  { type: 'command', id: 1, command: { toString: 'stop' } },
  { type: 'Command', id: 1, command: 'stop' },
  { type: 'run', id: 1, file: '/etc/passwd' },
  { type: 'exec', id: 1, argv: ['/bin/sh', '-c', 'id'] },
  { type: 'openFile', id: 1, path: '/etc/shadow' },
  JSON.parse('{"type":"command","id":1,"command":"stopp","__proto__":{"polluted":true}}'),
  JSON.parse('{"__proto__":{"type":"command","id":1,"command":"stop"}}'),
  { constructor: { prototype: { polluted: true } }, type: 'viewState', id: 1 },
  { type: 'export', id: 1, request: { format: 'sh', scope: 'all', filter: '', hiddenColumns: [], endSeq: null } },
  { type: 'export', id: 1, request: { format: 'csv', scope: 'all', filter: 'x'.repeat(10_000), hiddenColumns: [], endSeq: null } },
  { type: 'export', id: 1, request: { format: 'csv', scope: 'all', filter: '', hiddenColumns: [1], endSeq: null } },
  { type: 'export', id: 1, request: { format: 'csv', scope: 'all', filter: '', hiddenColumns: [], endSeq: -5 } },
  { type: 'export', id: 1, request: { format: 'csv', scope: 'all', filter: '', hiddenColumns: [], endSeq: null, seqs: [1, 'x'] } },
  { type: 'declareEventType', id: 1, map: 7 },
  { type: 'declareEventType', id: 1, map: '../../etc/passwd' },
  { type: 'declareEventType', id: 1, map: 'rbs.bss' }, // a map, but not a ring
  { type: 'declareEventType', id: 1, map: 'x'.repeat(100_000) },
  { type: 'viewState', id: 1, view: deep(50) },
  { type: 'viewState', id: 1, view: { filter: 1, paused: false, pausedAt: null, autoScroll: true, hiddenColumns: [] } },
  { type: 'viewState', id: 1, view: { filter: '', paused: 'yes', pausedAt: null, autoScroll: true, hiddenColumns: [] } },
  { type: 'log', id: 1, level: 'error', text: 'x'.repeat(70_000) },
  { type: 'log', id: 1, level: 'fatal', text: 'x' },
  { type: 'ready', id: 1, protocol: '1' },
];

describe('hostile webview messages make the host do nothing', () => {
  it.each(hostile.map((m, i) => [i, m] as const))('#%i is refused without side effects', async (_i, msg) => {
    const { model, effects, posted, logs } = hostileModel();
    await model.handleMessage(msg);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(effects, JSON.stringify(msg)?.slice(0, 100)).toEqual([]);
    for (const p of posted) expect(p.type, JSON.stringify(p).slice(0, 200)).toBe('error');
    expect(posted.length + logs.length).toBeGreaterThan(0); // refused visibly (error reply or log line), not silently
  });

  it('extra fields on a valid message are dropped: an own "__proto__" pollutes nothing, a "path" is not used', async () => {
    const { model, effects } = hostileModel();
    await model.handleMessage(JSON.parse('{"type":"command","id":1,"command":"stop","__proto__":{"polluted":true}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The host saves through its own dialog (saveExport), never to a path the webview names.
    let request: unknown;
    const m2 = new PanelModel(rec.run, { saveExport: (_r, req) => ((request = req), Promise.resolve(undefined)) });
    await m2.handleMessage({ type: 'export', id: 2, request: { format: 'csv', scope: 'all', filter: '', hiddenColumns: [], endSeq: null, path: '/etc/cron.d/x' } });
    expect(request).toBeDefined();
    expect(request).not.toHaveProperty('path');
    expect(effects).toEqual(['command stop']);
  });

  it('a valid message still works after a flood of bad ones (no state corruption)', async () => {
    const { model, effects, posted } = hostileModel();
    for (const m of hostile) await model.handleMessage(m);
    effects.length = 0;
    posted.length = 0;
    await model.handleMessage({ type: 'ready', id: 100, protocol: PANEL_PROTOCOL_VERSION });
    expect(posted[0]?.type).toBe('snapshot');
    await model.handleMessage({ type: 'command', id: 101, command: 'pause' });
    await model.handleMessage({ type: 'declareEventType', id: 102, map: 'raw_events' });
    expect(effects).toEqual(['command pause', 'declare raw_events']);
  });

  it('host → webview: a malformed host message is refused by the webview side too', () => {
    for (const bad of [null, { type: 'snapshot' }, { type: 'update', id: 1, batches: [{ data: 'x' }] }, { type: 'reply', id: 1, inReplyTo: 'x' }]) {
      expect(() => parseHostMessage(bad)).toThrow(PanelMessageError);
    }
  });
});
