// `--format jsonl` without JSON.stringify: a writer compiled once per event layout appends
// each record's JSON line as bytes to a reused ByteOutput — no decoded object, no string,
// integers as digits straight from the record. Closures only (no eval), so it runs in a
// webview under a strict CSP too.
//
// The lines are byte-identical to JSON.stringify(eventToJson(decode(record))) — the rules
// in decode.ts's header, key order included: a struct's keys in declaration order with
// anonymous members lifted, a repeated key at its first place with its last value, integer-
// like keys first (as JS objects order them). A record shorter than what the layout reads
// takes the decoder's own path (partial fields and `$truncated`), so the two never differ.
import { flexibleCount, isCharArray, MAX_DECODED_VALUES, valueCount } from '../btf/budget';
import {
  ByteOutput,
  jsonStringRoom,
  literal,
  writeByte,
  writeHex8,
  writeHexBytes,
  writeHexU32,
  writeBigInt64,
  writeDecimal,
  isSafe64,
  writeJsonCString,
  writeJsonString,
  writeLiteral,
  writeSafeInt,
} from './byteOutput';
import { bitfieldReader, boundedLayout, compileDecoder, enumNames, eventToJson, flatMembers, type DecodedValue, type EventDecoder, type FlatMember } from './decode';
import type { EventLayout, FieldType, LayoutField, StructType } from '../btf/layoutTypes';

/** Writes one value at absolute offset `o` of a record ending at `end` (the whole value is there). */
type ValueWriter = (out: ByteOutput, dv: DataView, b: Uint8Array, o: number, end: number) => void;

/** A compiled value: how to write it, the most bytes it can take, and how far it reads. */
interface Plan {
  write: ValueWriter;
  /** A 1/2/4-byte integer: the DataView getter, so generated code can read and print it inline. */
  scalar?: 'Int8' | 'Uint8' | 'Int16' | 'Uint16' | 'Int32' | 'Uint32';
  /** An 8-byte integer: generated code prints it inline below 2^53 (above, `write` quotes the exact decimal). */
  wide?: { signed: boolean };
  /** Upper bound on its JSON bytes. */
  room: number;
  /** Bytes from its offset that must be in the record for the whole value to decode. */
  extent: number;
}

export interface LineWriterOptions {
  /** Byte order of the records (the target's). Default true. */
  littleEndian?: boolean;
  /**
   * Generate one straight-line function per struct (faster: key bytes as stores, integers
   * inline). Default: on in Node, off elsewhere (a webview's CSP forbids eval); falls back
   * to closures if eval fails. The output is the same.
   */
  codegen?: boolean;
  /**
   * Keys written before the event's own, in order, with their (string) values: `run` with
   * several targets or rings adds `host` and `map`. As with `{ ...prefix, ...event }`, an
   * event field of the same name takes the prefix key's place.
   */
  prefix?: ReadonlyArray<readonly [string, string]>;
}

export interface LineWriter {
  /** Appends the record at bytes[offset, offset+length) as one line, `\n` included. */
  write(out: ByteOutput, bytes: Uint8Array, offset: number, length: number): void;
}

const TRUE = literal('true');
const FALSE = literal('false');

interface Ctx {
  le: boolean;
  codegen: boolean;
}

/** Node has `Function`; a webview under a CSP without 'unsafe-eval' does not. */
const defaultCodegen = typeof process !== 'undefined' && typeof process.versions === 'object' && !!process.versions.node;

/** One JSON line per record of `layout`; null (an unknown type) → `{"size":N,"hex":"…"}`. */
export function compileJsonLineWriter(layout: EventLayout | null, opts: LineWriterOptions = {}): LineWriter {
  const prefix = opts.prefix ?? [];
  if (!layout) return hexLineWriter(prefix);
  const ctx: Ctx = { le: opts.littleEndian ?? true, codegen: opts.codegen ?? defaultCodegen };
  const bounded = boundedLayout(layout);
  const flexBudget = MAX_DECODED_VALUES - valueCount(bounded.root);
  const members = flatMembers(bounded.root);
  const flexible = members.find((m) => m.last && m.field.type.kind === 'array' && m.field.type.count === 0 && !m.field.bitSize);
  const root = objectPlan(members, ctx, prefix, flexible ? { member: flexible, budget: flexBudget } : undefined);
  const fastFrom = Math.max(layout.size, root.extent);
  let slow: EventDecoder | undefined;
  const head = prefix.length ? Object.fromEntries(prefix) : undefined;
  return {
    write(out, bytes, offset, length) {
      if (length >= fastFrom && offset + length <= bytes.length) {
        out.reserve(root.room + (flexible ? flexibleRoom(flexible.field.type, length, ctx) : 0));
        root.write(out, dataView(bytes), bytes, offset, offset + length);
        out.buf[out.pos++] = 10;
        // A typed array drops writes past its end: never let a wrong room estimate cut a line silently.
        if (out.pos > out.buf.length) throw new Error(`internal: a ${layout.typeName} line needed more than the ${root.room} bytes reserved`);
        return;
      }
      // Short (or out of range): the decoder's rules for partial records, then the same JSON.
      slow ??= compileDecoder(layout, { littleEndian: ctx.le });
      const body = eventToJson(slow.decode(bytes, offset, length)) as Record<string, unknown>;
      const text = JSON.stringify(head ? { ...head, ...body } : body);
      out.reserve(text.length * 3 + 1);
      const r = utf8.encodeInto(text, out.buf.subarray(out.pos));
      out.pos += r.written;
      out.buf[out.pos++] = 10;
    },
  };
}

const utf8 = new TextEncoder();
let lastBytes: Uint8Array | undefined;
let lastView: DataView | undefined;

/** One DataView per batch buffer, not per record. */
function dataView(bytes: Uint8Array): DataView {
  if (bytes !== lastBytes || !lastView) {
    lastBytes = bytes;
    lastView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return lastView;
}

function hexLineWriter(prefix: ReadonlyArray<readonly [string, string]>): LineWriter {
  const open = literal(`{${prefix.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)},`).join('')}"size":`);
  const hexKey = literal(',"hex":"');
  return {
    write(out, bytes, offset, length) {
      const end = Math.min(offset + length, bytes.length);
      out.reserve(open.length + hexKey.length + 24 + 2 * Math.max(0, end - offset));
      writeLiteral(out, open);
      writeSafeInt(out, length);
      writeLiteral(out, hexKey);
      writeHexBytes(out, bytes, offset, end);
      writeLiteral(out, QUOTE_BRACE_NL);
    },
  };
}
const QUOTE_BRACE_NL = literal('"}\n');

/** A canonical array index ("0", "17"): JS objects list such keys first, in numeric order. */
function isIndexKey(k: string): boolean {
  return /^(0|[1-9]\d*)$/.test(k) && Number(k) < 4294967295;
}

interface Entry {
  key: string;
  /** The value's plan: a member's, or a prefix constant's. */
  plan: Plan;
  offset: number;
}

/**
 * An object's keys as a JS object literal orders them: first occurrence decides the
 * place, the last one the value; integer-like keys first, ascending.
 */
function orderEntries(entries: Entry[]): Entry[] {
  const byKey = new Map<string, Entry>();
  for (const e of entries) byKey.set(e.key, e); // a Map keeps a key where it was first set
  const ordered = [...byKey.values()];
  const index = ordered.filter((e) => isIndexKey(e.key)).sort((a, b) => Number(a.key) - Number(b.key));
  return [...index, ...ordered.filter((e) => !isIndexKey(e.key))];
}

function constantPlan(value: string): Plan {
  const bytes = literal(JSON.stringify(value));
  return { write: (out) => writeLiteral(out, bytes), room: bytes.length, extent: 0 };
}

/** `{"k":v,…}` for a struct's flat members (plus the prefix keys at the root). */
function objectPlan(members: FlatMember[], ctx: Ctx, prefix: ReadonlyArray<readonly [string, string]> = [], flex?: { member: FlatMember; budget: number }): Plan {
  const entries: Entry[] = [
    ...prefix.map(([k, v]) => ({ key: k, plan: constantPlan(v), offset: 0 })),
    ...members.map((m) => ({ key: m.key, plan: m === flex?.member ? flexiblePlan(m.field.type, ctx, flex.budget) : memberPlan(m.field, ctx), offset: m.offset })),
  ];
  const ordered = orderEntries(entries);
  const keys = ordered.map((e, i) => literal(`${i ? ',' : ''}${JSON.stringify(e.key)}:`));
  let room = 2;
  let extent = 0;
  ordered.forEach((e, i) => {
    room += (keys[i]?.length ?? 0) + e.plan.room;
    extent = Math.max(extent, e.offset + e.plan.extent);
  });
  const write = (ctx.codegen && generatedObjectWriter(ordered, keys, ctx.le)) || loopObjectWriter(ordered, keys);
  return { write, room, extent };
}

/**
 * Generated lines that print entry i at `o + offset`: integers read, signed, split into
 * small halves and printed inline (no double crosses a call, see writeDecimal); anything
 * else — and 64-bit values beyond 2^53 — through its writer W[i].
 */
function valueLines(e: Entry, i: number, le: boolean): string[] {
  const at = `o + ${e.offset}`;
  const call = `out.pos = p; W[${i}](out, dv, b, ${at}, end); p = out.pos;`;
  const print = ['if (v < 0) { buf[p++] = 45; v = -v; }', 'h = Math.floor(v / 1e8); out.pos = p; D(out, h, v - h * 1e8); p = out.pos;'];
  const { scalar, wide } = e.plan;
  if (scalar) return [`v = dv.get${scalar}(${at}${scalar.endsWith('8') ? '' : `, ${le}`});`, ...print];
  if (!wide) return [call];
  const [hiAt, loAt] = le ? [4, 0] : [0, 4];
  return [
    `hi = dv.get${wide.signed ? 'Int32' : 'Uint32'}(${at} + ${hiAt}, ${le}); v = hi * 4294967296 + dv.getUint32(${at} + ${loAt}, ${le});`,
    `if (hi >= -2097152 && hi < 2097152 && v > -9007199254740992) { ${print.join(' ')} } else { ${call} }`,
  ];
}

function loopObjectWriter(ordered: Entry[], keys: Uint8Array[]): ValueWriter {
  const plans = ordered.map((e) => e.plan.write);
  const offsets = ordered.map((e) => e.offset);
  const n = ordered.length;
  return (out, dv, b, o, end) => {
    out.buf[out.pos++] = 123;
    for (let i = 0; i < n; i++) {
      writeLiteral(out, keys[i] as Uint8Array);
      (plans[i] as ValueWriter)(out, dv, b, o + (offsets[i] as number), end);
    }
    out.buf[out.pos++] = 125;
  };
}

/**
 * The same object as one generated function: the key bytes as stores, 1/2/4-byte integers
 * read and printed inline, other values through their writers W[i] from their own call
 * sites. The text holds only byte values, integer offsets and getter names; every rule
 * stays in the closures. The buffer cannot move inside a record (the root reserved its room).
 */
function generatedObjectWriter(ordered: Entry[], keys: Uint8Array[], le: boolean): ValueWriter | undefined {
  if (ordered.length > 512 || !ordered.every((e) => Number.isSafeInteger(e.offset))) return undefined;
  const lines = ['const buf = out.buf;', 'let p = out.pos;', 'buf[p++] = 123;'];
  ordered.forEach((e, i) => {
    const key = keys[i] ?? new Uint8Array();
    lines.push(key.length <= 48 ? `${Array.from(key, (c, j) => `buf[p + ${j}] = ${c};`).join(' ')} p += ${key.length};` : `out.pos = p; L(out, K[${i}]); p = out.pos;`);
    lines.push(...valueLines(e, i, le));
  });
  lines.push('buf[p] = 125;', 'out.pos = p + 1;');
  lines.unshift('let v = 0;', 'let h = 0;', 'let hi = 0;');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const make = new Function('W', 'K', 'D', 'L', `'use strict'; return function (out, dv, b, o, end) {\n${lines.join('\n')}\n};`) as (...args: unknown[]) => ValueWriter;
    return make(
      ordered.map((e) => e.plan.write),
      keys,
      writeDecimal,
      writeLiteral,
    );
  } catch {
    return undefined; // no eval here (a webview's CSP): the loop writes the same
  }
}

function memberPlan(f: LayoutField, ctx: Ctx): Plan {
  if (f.bitSize) return bitfieldPlan(f, ctx);
  return plan(f.type, ctx);
}

const plans = new WeakMap<object, Map<string, Plan>>();

/** The plan for a type, memoised per type object, byte order and codegen (layouts share types). */
function plan(t: FieldType, ctx: Ctx): Plan {
  const variant = `${ctx.le}/${ctx.codegen}`;
  let byVariant = plans.get(t);
  const hit = byVariant?.get(variant);
  if (hit) return hit;
  const p = buildPlan(t, ctx);
  if (!byVariant) plans.set(t, (byVariant = new Map<string, Plan>()));
  byVariant.set(variant, p);
  return p;
}

function buildPlan(t: FieldType, ctx: Ctx): Plan {
  switch (t.kind) {
    case 'int':
      return t.bool ? boolPlan(t.size, ctx) : intPlan(t.size, t.signed, ctx);
    case 'enum':
      return enumPlan(t, ctx);
    case 'float':
      return floatPlan(t.size, ctx);
    case 'ptr':
      return ptrPlan(t.size, ctx);
    case 'opaque':
      return opaquePlan(t);
    case 'struct':
    case 'union':
      return structPlan(t, ctx);
    case 'array':
      return arrayPlan(t, ctx);
  }
}

function structPlan(st: StructType, ctx: Ctx): Plan {
  const inner = objectPlan(flatMembers(st), ctx);
  return { write: inner.write, room: inner.room, extent: Math.max(st.size, inner.extent) };
}

/** Reads a 1/2/4/8-byte integer; 8-byte values come as (hi, lo) words. */
function intPlan(size: number, signed: boolean, ctx: Ctx): Plan {
  const le = ctx.le;
  switch (size) {
    case 1:
    case 2:
    case 4:
      return { write: int32Writer(int32Reader(size, signed, le)), room: size === 1 ? 4 : size === 2 ? 6 : 11, extent: size, scalar: `${signed ? 'Int' : 'Uint'}${size * 8}` as Plan['scalar'] };
    default:
      return { write: int64Writer(signed, le), room: 23, extent: 8, wide: { signed } };
  }
}

/** As the decoder: a number when |v| < 2^53, else the exact decimal — quoted for JSON, bare for text. */
export function int64Writer(signed: boolean, le: boolean, quoteBig = true): ValueWriter {
  const loAt = le ? 0 : 4;
  const hiAt = le ? 4 : 0;
  return (out, dv, _b, o) => {
    const hi = signed ? dv.getInt32(o + hiAt, le) : dv.getUint32(o + hiAt, le);
    const lo = dv.getUint32(o + loAt, le);
    let v = hi * 4294967296 + lo;
    if (hi >= -0x200000 && hi < 0x200000 && v > -9007199254740992) {
      // isSafe64, inline: the halves below are small integers (see writeDecimal).
      if (v < 0) {
        out.buf[out.pos++] = 45;
        v = -v;
      }
      const h = Math.floor(v / 1e8);
      writeDecimal(out, h, v - h * 1e8);
      return;
    }
    if (quoteBig) writeByte(out, 34);
    writeBigInt64(out, hi, lo, signed);
    if (quoteBig) writeByte(out, 34);
  };
}

/** 1/2/4-byte integers: the value split into small halves before any call (see writeDecimal). */
export function int32Writer(read: (dv: DataView, b: Uint8Array, o: number) => number): ValueWriter {
  return (out, dv, b, o) => {
    let v = read(dv, b, o);
    if (v < 0) {
      out.buf[out.pos++] = 45;
      v = -v;
    }
    const h = Math.floor(v / 1e8);
    writeDecimal(out, h, v - h * 1e8);
  };
}

/** The integer as the decoder returns it (number, or a decimal string beyond 2^53): for enums and bools. */
/** Reads a 1/2/4-byte integer. */
export function int32Reader(size: number, signed: boolean, le: boolean): (dv: DataView, b: Uint8Array, o: number) => number {
  if (size === 1) return signed ? (dv, _b, o) => dv.getInt8(o) : (_dv, b, o) => b[o] as number;
  if (size === 2) return signed ? (dv, _b, o) => dv.getInt16(o, le) : (dv, _b, o) => dv.getUint16(o, le);
  return signed ? (dv, _b, o) => dv.getInt32(o, le) : (dv, _b, o) => dv.getUint32(o, le);
}

function intValue(size: number, signed: boolean, le: boolean): (dv: DataView, b: Uint8Array, o: number) => number | string {
  switch (size) {
    case 1:
    case 2:
    case 4:
      return int32Reader(size, signed, le);
    default: {
      const loAt = le ? 0 : 4;
      const hiAt = le ? 4 : 0;
      return (dv, _b, o) => {
        const hi = signed ? dv.getInt32(o + hiAt, le) : dv.getUint32(o + hiAt, le);
        const lo = dv.getUint32(o + loAt, le);
        if (isSafe64(hi, lo)) return hi * 4294967296 + lo;
        return signed ? dv.getBigInt64(o, le).toString() : dv.getBigUint64(o, le).toString();
      };
    }
  }
}

function boolPlan(size: number, ctx: Ctx): Plan {
  const read = intValue(size, false, ctx.le);
  return { write: (out, dv, b, o) => writeLiteral(out, read(dv, b, o) !== 0 ? TRUE : FALSE), room: 5, extent: size };
}

function enumPlan(t: Extract<FieldType, { kind: 'enum' }>, ctx: Ctx): Plan {
  const read = intValue(t.size, t.signed, ctx.le);
  const names = new Map<number | string, Uint8Array>();
  let room = 23;
  for (const [v, name] of enumNames(t)) {
    const bytes = literal(JSON.stringify(name));
    names.set(v, bytes);
    room = Math.max(room, bytes.length);
  }
  return {
    write(out, dv, b, o) {
      const v = read(dv, b, o);
      const name = names.get(v);
      if (name) writeLiteral(out, name);
      else if (typeof v === 'number') writeSafeInt(out, v);
      else writeJsonString(out, v);
    },
    room,
    extent: t.size,
  };
}

function floatPlan(size: 4 | 8, ctx: Ctx): Plan {
  const le = ctx.le;
  const write = (out: ByteOutput, v: number): void => {
    // eventToJson: NaN and ±Infinity (which JSON has not) as strings.
    const text = Number.isFinite(v) ? String(v) : `"${String(v)}"`;
    for (let i = 0; i < text.length; i++) out.buf[out.pos++] = text.charCodeAt(i);
  };
  return {
    write: size === 4 ? (out, dv, _b, o) => write(out, dv.getFloat32(o, le)) : (out, dv, _b, o) => write(out, dv.getFloat64(o, le)),
    room: 26,
    extent: size,
  };
}

function ptrPlan(size: 4 | 8, ctx: Ctx): Plan {
  const le = ctx.le;
  const loAt = le ? 0 : 4;
  const hiAt = le ? 4 : 0;
  const open = literal('"0x');
  return {
    write(out, dv, _b, o) {
      writeLiteral(out, open);
      if (size === 4) {
        writeHexU32(out, dv.getUint32(o, le));
      } else {
        const hi = dv.getUint32(o + hiAt, le);
        const lo = dv.getUint32(o + loAt, le);
        if (hi === 0) writeHexU32(out, lo);
        else {
          writeHexU32(out, hi);
          writeHex8(out, lo);
        }
      }
      writeByte(out, 34);
    },
    room: 20,
    extent: size,
  };
}

function opaquePlan(t: Extract<FieldType, { kind: 'opaque' }>): Plan {
  const size = t.size;
  if (t.elided) {
    const marker = literal(`{"$truncated":{"bytes":${size}}}`);
    return { write: (out) => writeLiteral(out, marker), room: marker.length, extent: size };
  }
  return {
    write(out, _dv, b, o) {
      writeByte(out, 34);
      writeHexBytes(out, b, o, o + size);
      writeByte(out, 34);
    },
    room: 2 + 2 * size,
    extent: size,
  };
}

function arrayPlan(t: Extract<FieldType, { kind: 'array' }>, ctx: Ctx): Plan {
  const { count, elemSize } = t;
  if (isCharArray(t)) {
    return { write: (out, _dv, b, o) => writeJsonCString(out, b, o, o + count), room: 2 + 6 * count, extent: count };
  }
  const elem = plan(t.elem, ctx);
  const write = elem.write;
  return {
    write(out, dv, b, o, end) {
      out.buf[out.pos++] = 91;
      for (let i = 0; i < count; i++) {
        if (i) out.buf[out.pos++] = 44;
        write(out, dv, b, o + i * elemSize, end);
      }
      out.buf[out.pos++] = 93;
    },
    room: 2 + count * (elem.room + 1),
    extent: count ? Math.max(count * elemSize, (count - 1) * elemSize + elem.extent) : 0,
  };
}

/** The root's trailing `T data[]`: as many elements as the record holds (a string for char), elided over the budget. */
function flexiblePlan(t: FieldType, ctx: Ctx, budget: number): Plan {
  const arr = t as Extract<FieldType, { kind: 'array' }>;
  if (isCharArray(arr)) return { write: (out, _dv, b, o, end) => writeJsonCString(out, b, o, end), room: 2, extent: 0 };
  const elem = plan(arr.elem, ctx);
  const elemSize = arr.elemSize;
  const marker = literal('{"$truncated":{"bytes":');
  return {
    write(out, dv, b, o, end) {
      const n = flexibleCount(arr, o, end, budget);
      if (n < 0) {
        writeLiteral(out, marker);
        writeSafeInt(out, end - o);
        writeByte(out, 125);
        writeByte(out, 125);
        return;
      }
      out.buf[out.pos++] = 91;
      for (let i = 0; i < n; i++) {
        if (i) out.buf[out.pos++] = 44;
        elem.write(out, dv, b, o + i * elemSize, end);
      }
      out.buf[out.pos++] = 93;
    },
    room: 2,
    extent: 0,
  };
}

/** Room a trailing flexible array needs in a record of `length` bytes (its offset is at least 0). */
function flexibleRoom(t: FieldType, length: number, ctx: Ctx): number {
  const arr = t as Extract<FieldType, { kind: 'array' }>;
  if (isCharArray(arr)) return 6 * length + 2;
  const n = Math.floor(length / Math.max(1, arr.elemSize));
  return 64 + n * (plan(arr.elem, ctx).room + 1);
}

/** Bitfields through the decoder's own reader (a number, a decimal string, a bool or an enum name). */
function bitfieldPlan(f: LayoutField, ctx: Ctx): Plan {
  const read = bitfieldReader(f, ctx.le);
  const t = f.type as Extract<FieldType, { kind: 'int' | 'enum' }>;
  const longestName = t.kind === 'enum' ? Math.max(0, ...t.values.map((v) => jsonStringRoom(v.name))) : 0;
  const bits = f.bitSize ?? 0;
  const firstByte = Math.floor((f.bitOffset ?? 0) / 8);
  return {
    write(out, dv, b, o, end) {
      writeDecoded(out, read(dv, b, o, end));
    },
    room: Math.max(24, longestName),
    extent: firstByte + Math.ceil((((f.bitOffset ?? 0) % 8) + bits) / 8),
  };
}

/** A scalar decoded value as JSON (what eventToJson + JSON.stringify make of it). */
function writeDecoded(out: ByteOutput, v: DecodedValue | undefined): void {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) writeSafeInt(out, v);
    else writeLiteral(out, literal(Number.isFinite(v) ? String(v) : JSON.stringify(String(v))));
  } else if (typeof v === 'boolean') writeLiteral(out, v ? TRUE : FALSE);
  else if (typeof v === 'string') writeJsonString(out, v);
  else writeLiteral(out, literal(JSON.stringify(eventToJson((v ?? {}) as never)) ?? 'null'));
}

/** For tests and tools: bytes → the same line as a string. */
export function jsonLineOf(writer: LineWriter, bytes: Uint8Array, offset = 0, length = bytes.length - offset): string {
  const out = new ByteOutput(1024);
  writer.write(out, bytes, offset, length);
  return new TextDecoder().decode(out.buf.subarray(0, out.pos - 1));
}
