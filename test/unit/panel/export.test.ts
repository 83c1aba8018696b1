// Export content from the recorded real run: CSV and JSON, visible (filter, hidden
// columns, pause point) or all.
import { describe, expect, it } from 'vitest';
import { PanelModel } from '../../../core/panel/model';
import type { ExportRequest } from '../../../core/protocol/panel';
import { loadRecording, toRecordBatch } from '../../panel/recording';

const rec = loadRecording();
const model = new PanelModel(rec.run);
for (const f of rec.frames) if (f.kind === 'batch') model.pushBatch(toRecordBatch(f));
const total = model.store.size;
const base: ExportRequest = { format: 'csv', scope: 'visible', filter: '', hiddenColumns: [], endSeq: null };

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') q = false;
      else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows;
}

describe('export', () => {
  it('CSV of the events that match the filter has typed columns in table form', () => {
    // At execve entry the comm is still the caller's; at exit it is the new program's.
    const r = model.exportContent({ ...base, filter: 'filename == "/bin/true" && kind == "EXEC_ENTER"' });
    const [head, ...rows] = parseCsv(r.content);
    expect(head).toEqual(['$seq', '$time', '$host', '$map', 'pid', 'ret', 'ids.uid', 'ids.gid', 'kind', 'ts_ns', 'comm', 'filename', 'cpu', '$raw']);
    expect(rows.length).toBe(r.count);
    expect(r.count).toBeGreaterThanOrEqual(4);
    for (const row of rows) {
      const get = (name: string) => row[head!.indexOf(name)];
      expect(get('comm')).not.toBe('');
      expect(get('kind')).toBe('EXEC_ENTER');
      expect(get('filename')).toBe('/bin/true');
      expect(get('$time')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(get('cpu')).toMatch(/^\[\d+, \d+\]$/);
      expect(Number(get('pid'))).toBeGreaterThan(0);
    }
    expect(r.suggestedName).toMatch(/\.csv$/);
    const exits = parseCsv(model.exportContent({ ...base, filter: 'comm == "true"' }).content);
    expect(exits.length).toBeGreaterThan(4);
    for (const row of exits.slice(1)) expect([row[exits[0]!.indexOf('kind')], row[exits[0]!.indexOf('ret')]]).toEqual(['EXEC_EXIT', '0']);
  });

  it('CSV keeps negative values, quotes markup safely and neutralises formulas', () => {
    const failed = parseCsv(model.exportContent({ ...base, filter: 'kind == "EXEC_EXIT" && ret == -2' }).content);
    expect(failed.length).toBeGreaterThan(1);
    expect(failed[1]![failed[0]!.indexOf('ret')]).toBe('-2');
    const hostile = parseCsv(model.exportContent({ ...base, filter: 'filename ~ "onerror"' }).content);
    expect(hostile[1]![hostile[0]!.indexOf('filename')]).toMatch(/\/<img src=x onerror=alert\(1\)>$/);
  });

  it('hidden columns and the pause point apply to "visible", not to "all"', () => {
    const vis = parseCsv(model.exportContent({ ...base, hiddenColumns: ['$raw', 'ts_ns'], endSeq: 10 }).content);
    expect(vis[0]).not.toContain('ts_ns');
    expect(vis[0]).not.toContain('$raw');
    expect(vis.length - 1).toBe(10);
    const all = parseCsv(model.exportContent({ ...base, scope: 'all', filter: 'pid == 0', hiddenColumns: ['ts_ns'], endSeq: 10 }).content);
    expect(all[0]).toContain('ts_ns');
    expect(all.length - 1).toBe(total);
  });

  it('JSON holds decoded nested events, raw hex for untyped records, and parses back', () => {
    const r = model.exportContent({ ...base, format: 'json', scope: 'all' });
    const arr = JSON.parse(r.content) as Array<{ seq: number; map: string; event?: Record<string, unknown>; raw?: string }>;
    expect(arr).toHaveLength(total);
    const typed = arr.find((e) => e.map === 'events' && e.event?.comm === 'true')!;
    expect(typed.event).toMatchObject({ comm: 'true', ids: { uid: 0, gid: 0 }, kind: expect.stringMatching(/^EXEC_/) });
    expect(Array.isArray(typed.event!.cpu)).toBe(true);
    const raw = arr.find((e) => e.map === 'raw_events')!;
    expect(raw.event).toBeUndefined();
    expect(raw.raw).toMatch(/^[0-9a-f]{32}$/);
    const vis = JSON.parse(model.exportContent({ ...base, format: 'json', filter: 'comm == "true"', hiddenColumns: ['ids.gid', '$raw'] }).content) as Array<{ event: { ids: object }; raw?: string }>;
    expect(vis[0]!.event.ids).toEqual({ uid: 0 });
    expect(vis[0]!.raw).toBeUndefined();
  });
});
