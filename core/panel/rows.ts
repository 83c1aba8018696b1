// From raw batches to table rows: one decoder per ringbuf map (compiled once from its
// EventLayout), the table's columns (union over maps, plus time/host/map), lazy
// per-record field access for the filter, and cell text. Shared by the webview
// (table, filter) and the host model (export), so both show the same thing.
import { columns as layoutColumns, compileDecoder, eventToJson } from '../decode/decode';
import type { Column, DecodedEvent, DecodedValue, EventDecoder } from '../decode/decode';
import type { LayoutField, StructType } from '../btf/layoutTypes';
import type { PanelEventType, WireBatch } from '../protocol/panel';
import { PSEUDO_FIELDS, type FieldGetter, type FilterValue } from './filter';
import { hexByte, hexOf } from '../util/hex';

export interface TableColumn {
  /** Column name as the filter and column menu know it: `time`, `$host`, `comm`, `in.port`. */
  name: string;
  /** Header text. */
  label: string;
  kind: 'time' | 'host' | 'map' | 'raw' | 'field';
  /** For kind 'field': the decoder column per map that has it. */
  byMap?: Map<string, Column>;
}

/** Hex dump lines (16 bytes each, offset + hex + ASCII) for row details. */
export function hexDump(data: Uint8Array, start: number, length: number): string {
  const lines: string[] = [];
  for (let o = 0; o < length; o += 16) {
    const n = Math.min(16, length - o);
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      if (i < n) {
        const b = data[start + o + i] ?? 0;
        hex += `${hexByte(b)} `;
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else hex += '   ';
      if (i === 7) hex += ' ';
    }
    lines.push(`${o.toString(16).padStart(4, '0')}  ${hex} ${ascii}`);
  }
  return lines.join('\n');
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Decoders and columns for the maps of one run. */
export class EventTyping {
  private readonly decoders = new Map<string, EventDecoder | null>();
  private readonly reasons = new Map<string, string>();
  readonly columns: TableColumn[] = [];
  private readonly byName = new Map<string, TableColumn>();
  /** Names the filter accepts. */
  readonly fieldNames = new Set<string>(PSEUDO_FIELDS);

  constructor(eventTypes: readonly PanelEventType[], opts: { multiHost: boolean; multiMap: boolean }) {
    // Our own columns are `$`-named: a C field can never be called that, so no clash with `time`/`raw` fields.
    this.columns.push({ name: '$time', label: 'time', kind: 'time' });
    if (opts.multiHost) this.columns.push({ name: '$host', label: 'host', kind: 'host' });
    if (opts.multiMap) this.columns.push({ name: '$map', label: 'map', kind: 'map' });
    const fieldCols = new Map<string, TableColumn>();
    for (const et of eventTypes) {
      if (!et.layout) {
        this.decoders.set(et.map, null);
        if (et.reason) this.reasons.set(et.map, et.reason);
        continue;
      }
      let decoder: EventDecoder | null = null;
      try {
        decoder = compileDecoder(et.layout);
      } catch (err) {
        this.reasons.set(et.map, `layout could not be compiled: ${err instanceof Error ? err.message : String(err)}`);
      }
      this.decoders.set(et.map, decoder);
      if (!decoder) continue;
      for (const c of layoutColumns(et.layout)) {
        let tc = fieldCols.get(c.name);
        if (!tc) {
          tc = { name: c.name, label: c.name, kind: 'field', byMap: new Map() };
          fieldCols.set(c.name, tc);
          this.columns.push(tc);
          this.fieldNames.add(c.name);
        }
        tc.byMap?.set(et.map, c);
      }
    }
    // Records of maps without a layout show as hex; for typed maps the column is hidden by default.
    this.columns.push({ name: '$raw', label: 'raw (hex)', kind: 'raw' });
    for (const c of this.columns) this.byName.set(c.name, c);
  }

  /** Default hidden columns: raw hex when every map is typed. */
  defaultHidden(): string[] {
    const allTyped = [...this.decoders.values()].length > 0 && [...this.decoders.values()].every((d) => d !== null);
    return allTyped ? ['$raw'] : [];
  }

  /**
   * Ring bytes one record of `map` takes (8-byte header + payload, 8-aligned), when its
   * layout is known: a ring is full once less than this is free.
   */
  recordSlot(map: string): number | undefined {
    const d = this.decoders.get(map);
    return d ? (d.layout.size + 8 + 7) & ~7 : undefined;
  }

  decoderFor(map: string): EventDecoder | null {
    return this.decoders.get(map) ?? null;
  }

  /** Why a map's records are not typed (null when they are). */
  untypedReason(map: string): string | null {
    if (this.decoders.get(map)) return null;
    return this.reasons.get(map) ?? (this.decoders.has(map) ? 'no event type found for this ring' : 'ring not described by the run');
  }

  decode(batch: WireBatch, index: number): DecodedEvent | null {
    const d = this.decoderFor(batch.map);
    if (!d) return null;
    return d.decode(batch.data, batch.offsets[index] ?? 0, batch.lengths[index] ?? 0);
  }

  /** A lazy field getter for the filter: decodes the record on first use only. */
  getter(batch: WireBatch, index: number): FieldGetter {
    let decoded: DecodedEvent | null | undefined;
    return (name: string): FilterValue => {
      switch (name) {
        case '$host':
          return batch.host;
        case '$map':
          return batch.map;
        case '$time':
          return batch.timeMs;
        case '$raw':
          return hexOf(batch.data, batch.offsets[index] ?? 0, batch.lengths[index] ?? 0);
      }
      // One field: read just it (the filter's usual case), else decode the record once.
      const single = this.fieldReader(batch.map, name);
      if (single) return toFilterValue(single.decode(batch.data, batch.offsets[index] ?? 0, batch.lengths[index] ?? 0).v);
      if (decoded === undefined) decoded = this.decode(batch, index);
      if (!decoded) return undefined;
      const col = this.byName.get(name)?.byMap?.get(batch.map);
      return col ? toFilterValue(col.get(decoded)) : undefined;
    };
  }

  private readonly fieldReaders = new Map<string, EventDecoder | null>();

  /**
   * A decoder for one field of a map's records, built by compiling a one-field layout
   * with the same decoder (so values are exactly what the table shows), or null when
   * the field cannot be isolated (flexible arrays, unknown names).
   */
  private fieldReader(map: string, name: string): EventDecoder | null {
    const key = `${map}\u0000${name}`;
    let r = this.fieldReaders.get(key);
    if (r !== undefined) return r;
    r = null;
    const decoder = this.decoders.get(map);
    const col = this.byName.get(name)?.byMap?.get(map);
    if (decoder && col) {
      const field = locateField(decoder.layout.root.fields, col.path, 0);
      const flexible = field?.type.kind === 'array' && field.type.count === 0;
      if (field && !flexible) {
        const root: StructType = { kind: 'struct', name: 'field', size: decoder.layout.size, fields: [{ ...field, name: 'v' }] };
        try {
          r = compileDecoder({ typeName: 'field', size: decoder.layout.size, root, origin: decoder.layout.origin });
        } catch {
          r = null; // a field the decoder cannot read on its own: the column stays empty for this map, the row's other columns decode
        }
      }
    }
    this.fieldReaders.set(key, r);
    return r;
  }

  /** Cell text and hover title of one column for an already decoded record. */
  cell(col: TableColumn, batch: WireBatch, index: number, decoded: DecodedEvent | null): { text: string; title?: string } {
    switch (col.kind) {
      case 'time':
        return { text: formatTime(batch.timeMs), title: new Date(batch.timeMs).toISOString() };
      case 'host':
        return { text: batch.host };
      case 'map':
        return { text: batch.map };
      case 'raw': {
        const len = batch.lengths[index] ?? 0;
        return { text: hexOf(batch.data, batch.offsets[index] ?? 0, len, 64), title: `${len} bytes` };
      }
      case 'field': {
        const c = col.byMap?.get(batch.map);
        if (!c || !decoded) return { text: '' };
        const v = c.get(decoded);
        const text = c.format(v);
        const hex = c.hex?.(v);
        return hex ? { text, title: hex } : { text };
      }
    }
  }

  /** The decoded record as JSON-safe nested values (for details and JSON export). */
  json(batch: WireBatch, index: number): unknown {
    const decoded = this.decode(batch, index);
    return decoded ? eventToJson(decoded) : null;
  }
}

/** The field at `path` (names from the root; anonymous members transparent) with its absolute offset. */
function locateField(fields: LayoutField[], path: string[], base: number): LayoutField | undefined {
  const [head, ...rest] = path;
  if (head === undefined) return undefined;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as LayoutField;
    if (f.name === '' && (f.type.kind === 'struct' || f.type.kind === 'union')) {
      const inner = locateField(f.type.fields, path, base + f.offset);
      if (inner) return inner;
      continue;
    }
    if ((f.name || `_${i}`) !== head) continue;
    if (rest.length === 0) return { ...f, offset: base + f.offset };
    if (f.type.kind === 'struct' || f.type.kind === 'union') return locateField(f.type.fields, rest, base + f.offset);
    return undefined;
  }
  return undefined;
}

function toFilterValue(v: DecodedValue | undefined): FilterValue {
  return v;
}
