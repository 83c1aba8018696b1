// Export of stored events to CSV or JSON, produced on the host side from the same
// store, typing and filter the webview uses (so "visible" means what the table shows).
//
// CSV: a header row `seq,time,<columns…>`, then one row per event; time as ISO 8601;
// cell text as the table shows it (enums by name, char[] as text, arrays compact);
// RFC 4180 quoting; text cells that start with = + - @ get a leading ' so that a
// spreadsheet does not run them as formulas (event data is untrusted).
// JSON: an array of `{seq, time, host, map, event}` where `event` is the decoded
// record (nested objects, numbers; 64-bit values beyond 2^53 as decimal strings), or
// `raw` (hex) for records without an event type. Hidden columns are left out of both.
import type { ExportRequest } from '../protocol/panel';
import { compileFilter } from './filter';
import type { EventTyping, TableColumn } from './rows';
import { hexOf } from '../util/hex';
import type { BatchStore } from './store';

export interface ExportResult {
  content: string;
  count: number;
  /** e.g. "events.csv" */
  suggestedName: string;
}

function csvCell(s: string, isText: boolean): string {
  let v = s;
  if (isText && /^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Throws FilterError when req.filter does not parse (the caller replies with the error). */
export function exportEvents(store: BatchStore, typing: EventTyping, req: ExportRequest): ExportResult {
  const visible = req.scope === 'visible';
  const filter = visible ? compileFilter(req.filter, typing.fieldNames) : null;
  const hidden = new Set(visible ? req.hiddenColumns : []);
  const cols: TableColumn[] = typing.columns.filter((c) => c.kind !== 'time' && !hidden.has(c.name));
  // host/map are always useful in an export, even when the table hides them for a single target.
  const extra: TableColumn[] = [];
  if (!cols.some((c) => c.kind === 'host')) extra.push({ name: '$host', label: 'host', kind: 'host' });
  if (!cols.some((c) => c.kind === 'map')) extra.push({ name: '$map', label: 'map', kind: 'map' });
  const allCols = [...extra, ...cols];
  const end = visible && req.endSeq !== null ? req.endSeq : store.nextSeq;
  const wanted = req.seqs ? new Set(req.seqs) : null;

  const rows: string[] = [];
  const objects: string[] = [];
  let count = 0;
  store.forEachEvent(store.firstSeq, end, (batch, index, seq) => {
    if (wanted && !wanted.has(seq)) return;
    if (filter && !filter.test(typing.getter(batch, index))) return;
    count++;
    const time = new Date(batch.timeMs).toISOString();
    if (req.format === 'csv') {
      const decoded = typing.decode(batch, index);
      const cells = [String(seq), time];
      for (const c of allCols) {
        if (c.kind === 'raw') cells.push(hexOf(batch.data, batch.offsets[index] ?? 0, batch.lengths[index] ?? 0));
        else {
          const isText = c.kind === 'host' || c.kind === 'map' || c.byMap?.get(batch.map)?.kind === 'string';
          cells.push(csvCell(typing.cell(c, batch, index, decoded).text, isText));
        }
      }
      rows.push(cells.join(','));
    } else {
      const o: Record<string, unknown> = { seq, time, host: batch.host, map: batch.map };
      const event = typing.json(batch, index);
      if (event && typeof event === 'object') o.event = hidden.size ? withoutPaths(event as Record<string, unknown>, hidden) : event;
      if (!event || !hidden.has('$raw')) {
        if (!event || allCols.some((c) => c.kind === 'raw')) o.raw = hexOf(batch.data, batch.offsets[index] ?? 0, batch.lengths[index] ?? 0);
      }
      objects.push(JSON.stringify(o));
    }
  });
  const base = `ringbuf-events-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
  if (req.format === 'csv') {
    // Our columns keep their `$` names so that a field called `time` or `host` stays distinct.
    const header = ['$seq', '$time', ...allCols.map((c) => csvCell(c.name, true))].join(',');
    return { content: [header, ...rows].join('\n') + '\n', count, suggestedName: `${base}.csv` };
  }
  return { content: objects.length ? `[\n${objects.join(',\n')}\n]\n` : '[]\n', count, suggestedName: `${base}.json` };
}

/** Copy of a decoded event without the given flat column paths (`a.b`). */
function withoutPaths(event: Record<string, unknown>, hidden: ReadonlySet<string>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (hidden.has(name)) continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? withoutPaths(v as Record<string, unknown>, hidden, name) : v;
  }
  return out;
}
