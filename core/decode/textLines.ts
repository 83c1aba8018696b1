// `run`'s default output — aligned columns under one header — written as bytes the way
// jsonLines.ts writes JSON: a writer compiled once per layout appends each record's row to
// a reused ByteOutput, scalars and char arrays straight from the record. Rows are
// identical to the decoder's columns formatted with formatValue, control characters shown
// as `\xNN`, padded to the column's width (numbers on the right, the last text column
// unpadded). Layouts the fast path does not cover (nested arrays in a cell, a trailing
// `T data[]`, hostile member names) and short records use exactly that decoder path.
import { isCharArray } from '../btf/budget';
import { decimalWidth, literal, utf8SequenceLength, writeByteEscape, writeDecimal, writeHexBytes, writeLiteral, writeUtf8, type ByteOutput } from './byteOutput';
import { bitfieldReader, boundedLayout, compileDecoder, enumNames, flatMembers, formatValue, valueReader, type Column, type EventDecoder, type FlatMember } from './decode';
import type { EventLayout, FieldType, LayoutField, StructType } from '../btf/layoutTypes';
import { int32Reader, int32Writer, int64Writer, type LineWriter } from './jsonLines';

/** Appends one cell's text; returns its width in UTF-16 units (what String.padEnd counts). */
type CellWriter = (out: ByteOutput, dv: DataView, b: Uint8Array, o: number, end: number) => number;

export interface TextLineOptions {
  littleEndian?: boolean;
  /** Text before each row (the host and ring columns when there are several). */
  rowPrefix?: string;
  /** Text before the header's column names. */
  headerPrefix?: string;
}

export interface TextLineWriter extends LineWriter {
  /** The header row, `\n` included. */
  readonly header: string;
}

/** Display width of a column from its type: digits of the largest value, the char array's length, … (at most 20). */
export function columnWidth(name: string, t: FieldType): number {
  let w: number;
  switch (t.kind) {
    case 'int':
      w = t.bool ? 5 : Math.ceil(t.size * 8 * Math.log10(2)) + (t.signed ? 1 : 0);
      break;
    case 'enum':
      w = Math.max(...t.values.map((v) => v.name.length), 4);
      break;
    case 'array':
      w = isCharArray(t) ? Math.min(t.count, 32) : 16;
      break;
    case 'ptr':
      w = 18;
      break;
    case 'float':
      w = 12;
      break;
    default:
      w = 16;
  }
  return Math.max(name.length, Math.min(w, 20));
}

function isNumeric(c: Column): boolean {
  return c.kind === 'int' || c.kind === 'float';
}

/** A cell's text as the table shows it: control characters (which would move a terminal's cursor) as `\xNN`, padded. */
export function padCell(text: string, width: number, last: boolean, right: boolean): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (last && !right) return safe;
  return right ? safe.padStart(width) : safe.padEnd(width);
}

/** The columns, widths and header of a layout's table (null: hex rows). */
function tableOf(decoder: EventDecoder | undefined): { columns: Column[]; widths: number[]; names: string } {
  if (!decoder) return { columns: [], widths: [], names: 'size  data' };
  const columns = decoder.columns;
  const widths = columns.map((c) => columnWidth(c.name, c.type));
  const names = columns.map((c, i) => padCell(c.name, widths[i] ?? 0, i === columns.length - 1, isNumeric(c))).join('  ');
  return { columns, widths, names };
}

export function compileTextLineWriter(layout: EventLayout | null, opts: TextLineOptions = {}): TextLineWriter {
  const le = opts.littleEndian ?? true;
  const decoder = layout ? compileDecoder(layout, { littleEndian: le }) : undefined;
  const table = tableOf(decoder);
  const header = `${opts.headerPrefix ?? ''}${table.names}\n`;
  const prefix = literal(opts.rowPrefix ?? '');
  if (!layout || !decoder) return { header, write: hexRow(prefix) };
  const fast = fastRow(boundedLayout(layout), table.columns, table.widths, prefix, le);
  const slow = slowRow(decoder, table.columns, table.widths, opts.rowPrefix ?? '');
  return {
    header,
    write(out, bytes, offset, length) {
      if (fast && length >= fast.from && offset + length <= bytes.length) fast.write(out, bytes, offset, length);
      else slow(out, bytes, offset, length);
    },
  };
}

function hexRow(prefix: Uint8Array): LineWriter['write'] {
  return (out, bytes, offset, length) => {
    const end = Math.min(offset + length, bytes.length);
    out.reserve(prefix.length + 24 + 2 * Math.max(0, end - offset));
    writeLiteral(out, prefix);
    writeUtf8(out, `${String(length).padStart(4)}  `);
    writeHexBytes(out, bytes, offset, end);
    out.buf[out.pos++] = 10;
  };
}

/** The decoder's path: decode, format each column, pad. */
function slowRow(decoder: EventDecoder, columns: Column[], widths: number[], prefix: string): LineWriter['write'] {
  return (out, bytes, offset, length) => {
    const ev = decoder.decode(bytes, offset, length);
    const cells = columns.map((c, j) => padCell(c.format(c.get(ev)), widths[j] ?? 0, j === columns.length - 1, isNumeric(c)));
    const text = `${prefix}${cells.join('  ')}\n`;
    out.reserve(text.length * 3);
    writeUtf8(out, text);
  };
}

interface Cell {
  write: CellWriter;
  /** Integers: writes the value right-aligned in `width` directly (its length is known before writing). */
  writeRight?: (out: ByteOutput, dv: DataView, b: Uint8Array, o: number, width: number) => void;
  /** Most bytes it can take (before padding). */
  room: number;
  /** Bytes from its offset the record must hold. */
  extent: number;
  offset: number;
}

/** The member a column shows: at each level the last member with that key (the decoded object's value). */
function memberOf(root: StructType, path: string[]): { field: LayoutField; offset: number } | undefined {
  let st: StructType | undefined = root;
  let base = 0;
  for (let i = 0; i < path.length; i++) {
    if (!st) return undefined;
    const m: FlatMember | undefined = flatMembers(st).filter((x) => x.key === path[i]).pop();
    if (!m) return undefined;
    // The root's trailing `T data[]` takes the rest of the record: the decoder's path shows it.
    if (st === root && m.last && m.field.type.kind === 'array' && m.field.type.count === 0) return undefined;
    if (i === path.length - 1) return { field: m.field, offset: base + m.offset };
    const t: FieldType = m.field.type;
    st = (t.kind === 'struct' || t.kind === 'union') && !m.field.bitSize ? t : undefined;
    base += m.offset;
  }
  return undefined;
}

function fastRow(layout: EventLayout, columns: Column[], widths: number[], prefix: Uint8Array, le: boolean): { from: number; write: LineWriter['write'] } | undefined {
  const cells: Cell[] = [];
  for (const c of columns) {
    const m = memberOf(layout.root, c.path);
    const cell = m && cellFor(m.field, le);
    if (!m || !cell) return undefined;
    cells.push({ ...cell, offset: m.offset });
  }
  const last = cells.length - 1;
  const right = columns.map(isNumeric);
  const room = prefix.length + 1 + cells.reduce((n, c, j) => n + Math.max(c.room, widths[j] ?? 0) + 2, 0);
  const from = Math.max(layout.size, ...cells.map((c) => c.offset + c.extent));
  let dv: DataView | undefined;
  let dvBytes: Uint8Array | undefined;
  return {
    from,
    write(out, bytes, offset, length) {
      if (bytes !== dvBytes || !dv) [dvBytes, dv] = [bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
      out.reserve(room);
      writeLiteral(out, prefix);
      const end = offset + length;
      for (let j = 0; j <= last; j++) {
        const cell = cells[j] as Cell;
        if (j) {
          out.buf[out.pos++] = 32;
          out.buf[out.pos++] = 32;
        }
        if (right[j] && cell.writeRight) {
          cell.writeRight(out, dv, bytes, offset + cell.offset, widths[j] as number);
          continue;
        }
        const start = out.pos;
        const units = cell.write(out, dv, bytes, offset + cell.offset, end);
        const pad = (widths[j] as number) - units;
        if (pad > 0 && right[j]) padLeft(out, start, pad);
        else if (pad > 0 && j !== last) padRight(out, pad);
      }
      out.buf[out.pos++] = 10;
    },
  };
}

/** Shifts what was written since `start` right by `pad` and fills the gap with spaces (cells are short: loops beat copyWithin/fill). */
function padLeft(out: ByteOutput, start: number, pad: number): void {
  const buf = out.buf;
  for (let i = out.pos - 1; i >= start; i--) buf[i + pad] = buf[i] as number;
  for (let i = start; i < start + pad; i++) buf[i] = 32;
  out.pos += pad;
}

/** `pad` spaces (none when pad ≤ 0). */
function padRight(out: ByteOutput, pad: number): void {
  const buf = out.buf;
  let p = out.pos;
  for (let i = 0; i < pad; i++) buf[p++] = 32;
  out.pos = p;
}

function asciiCell(text: (dv: DataView, b: Uint8Array, o: number) => string, room: number, extent: number): Omit<Cell, 'offset'> {
  return {
    write(out, dv, b, o) {
      const s = text(dv, b, o);
      for (let i = 0; i < s.length; i++) out.buf[out.pos++] = s.charCodeAt(i);
      return s.length;
    },
    room,
    extent,
  };
}

/** The cell for a member, or undefined when only the decoder's path formats it. */
function cellFor(f: LayoutField, le: boolean): Omit<Cell, 'offset'> | undefined {
  if (f.bitSize) {
    const read = bitfieldReader(f, le);
    return { write: (out, dv, b, o, end) => writeText(out, formatValue(read(dv, b, o, end))), room: 80, extent: Math.ceil(((f.bitOffset ?? 0) + f.bitSize) / 8) };
  }
  const t = f.type;
  switch (t.kind) {
    case 'int':
      return t.bool ? boolCell(t.size, le) : intCell(t.size, t.signed, le);
    case 'enum':
      return enumCell(t, le);
    case 'float': {
      const read = valueReader(t, le);
      return asciiCell((dv, b, o) => formatValue(read(dv, b, o, Infinity)), 24, t.size);
    }
    case 'ptr': {
      const read = valueReader(t, le);
      return asciiCell((dv, b, o) => read(dv, b, o, Infinity) as string, 18, t.size);
    }
    case 'opaque':
      return t.elided
        ? asciiCell(() => `{$truncated: {bytes: ${t.size}}}`, 40, t.size)
        : { write: (out, _dv, b, o) => writeHex(out, b, o, t.size), room: 2 * t.size, extent: t.size };
    case 'array':
      if (isCharArray(t)) return { write: (out, _dv, b, o) => writeTextCString(out, b, o, o + t.count), room: 4 * t.count, extent: t.count };
      return undefined;
    default:
      return undefined;
  }
}

function writeHex(out: ByteOutput, b: Uint8Array, o: number, size: number): number {
  writeHexBytes(out, b, o, o + size);
  return 2 * size;
}

function writeText(out: ByteOutput, text: string): number {
  const safe = padCell(text, 0, true, false);
  out.reserve(safe.length * 3);
  writeUtf8(out, safe);
  return safe.length;
}

/** A cell from a writer of ASCII: its width is the bytes it wrote. */
function measured(write: (out: ByteOutput, dv: DataView, b: Uint8Array, o: number, end: number) => void): CellWriter {
  return (out, dv, b, o, end) => {
    const start = out.pos;
    write(out, dv, b, o, end);
    return out.pos - start;
  };
}

function intCell(size: number, signed: boolean, le: boolean): Omit<Cell, 'offset'> {
  if (size !== 8) {
    const read = int32Reader(size, signed, le);
    return {
      write: measured(int32Writer(read)),
      writeRight(out, dv, b, o, width) {
        // Split before any call, as in jsonLines (see writeDecimal); the width is known before writing.
        let v = read(dv, b, o);
        const sign = v < 0 ? 1 : 0;
        if (sign) v = -v;
        const h = Math.floor(v / 1e8);
        const l = v - h * 1e8;
        padRight(out, width - sign - decimalWidth(h, l));
        if (sign) out.buf[out.pos++] = 45;
        writeDecimal(out, h, l);
      },
      room: 11,
      extent: size,
    };
  }
  const write = int64Writer(signed, le, false);
  const loAt = le ? 0 : 4;
  const hiAt = le ? 4 : 0;
  return {
    write: measured(write),
    writeRight(out, dv, b, o, width) {
      const hi = signed ? dv.getInt32(o + hiAt, le) : dv.getUint32(o + hiAt, le);
      let v = hi * 4294967296 + dv.getUint32(o + loAt, le);
      const start = out.pos;
      if (hi >= -0x200000 && hi < 0x200000 && v > -9007199254740992) {
        const sign = v < 0 ? 1 : 0;
        if (sign) v = -v;
        const h = Math.floor(v / 1e8);
        padRight(out, width - sign - decimalWidth(h, v - h * 1e8));
      }
      write(out, dv, b, o, 0);
      if (start + width > out.pos) padLeft(out, start, start + width - out.pos);
    },
    room: 21,
    extent: 8,
  };
}

function boolCell(size: number, le: boolean): Omit<Cell, 'offset'> {
  const read = valueReader({ kind: 'int', size: size as 1 | 2 | 4 | 8, signed: false, bool: true }, le);
  return asciiCell((dv, b, o) => formatValue(read(dv, b, o, Infinity)), 5, size);
}

function enumCell(t: Extract<FieldType, { kind: 'enum' }>, le: boolean): Omit<Cell, 'offset'> {
  const read = valueReader(t, le);
  const room = Math.max(21, ...[...enumNames(t).values()].map((n) => n.length * 4));
  return { write: (out, dv, b, o) => writeText(out, formatValue(read(dv, b, o, Infinity))), room, extent: t.size };
}

/** A char array as the table shows it: up to the NUL, valid UTF-8 as is, other bytes and control characters as `\xNN`. */
function writeTextCString(out: ByteOutput, bytes: Uint8Array, start: number, end: number): number {
  const buf = out.buf;
  let units = 0;
  let i = start;
  while (i < end) {
    const b = bytes[i] as number;
    if (b >= 0x20 && b < 0x7f) {
      buf[out.pos++] = b;
      units++;
      i++;
    } else if (b === 0) {
      break;
    } else if (b < 0x80) {
      writeByteEscape(out, b, false);
      units += 4;
      i++;
    } else {
      const n = utf8SequenceLength(bytes, i, end);
      if (n === 0) {
        writeByteEscape(out, b, false);
        units += 4;
        i++;
      } else {
        for (let k = 0; k < n; k++) buf[out.pos++] = bytes[i + k] as number;
        units += n === 4 ? 2 : 1;
        i += n;
      }
    }
  }
  return units;
}
