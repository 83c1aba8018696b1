// Record bytes → plain JS objects, driven by an EventLayout. A layout is compiled once
// into closures that know their offsets, so decoding does no lookups by name. No
// `new Function`/eval: the webview runs under a CSP without 'unsafe-eval'.
//
// Value mapping (also what `--format jsonl` prints):
// - integers → number when |v| < 2^53 (safe integers), else a decimal string;
//   signed types are read as signed; `_Bool` → boolean
// - enums → the enumerator's name, or the number (or decimal string) when it has none
// - char arrays → string up to the first NUL (the whole array if there is none);
//   bytes that are not valid UTF-8 become `\xNN` escapes
// - other arrays → arrays (multi-dimensional → nested arrays); a trailing
//   zero-length array (`__u8 data[]`) takes the rest of the record
// - pointers → "0x…" hex string; floats → number; opaque → lower-case hex of the bytes
// - nested structs/unions → nested objects; anonymous members are lifted into the parent
// A record shorter than the layout decodes the fields that fit (arrays/strings/nested
// structs partially) and gets `$truncated: { have, need }` — `$` cannot start a C name.
// A record decodes into at most MAX_DECODED_VALUES values (budget.ts): a member that would
// exceed it (say an array of 500-member unions filling 1 MiB) decodes as
// `{ $truncated: { bytes: N } }` — its byte size — while the members before and after it
// decode as usual; a trailing `T data[]` whose elements would exceed what is left, too.
import { fitStruct, flexibleCount, MAX_DECODED_VALUES, valueCount } from '../btf/budget';
import { isSafe64, utf8SequenceLength } from './byteOutput';
import type { EventLayout, FieldType, LayoutField, StructType } from '../btf/layoutTypes';

export type DecodedValue = number | string | boolean | DecodedValue[] | DecodedObject;
export interface DecodedObject {
  [field: string]: DecodedValue | undefined;
}
// A type alias (not an interface) so it is assignable to DecodedObject's index signature.
export type TruncationMarker = {
  /** Bytes the record had. */
  have: number;
  /** Bytes the layout needs. */
  need: number;
};
/** A decoded record: field name → value, plus `$truncated` when the record was short. */
export interface DecodedEvent extends DecodedObject {
  $truncated?: TruncationMarker;
}

export type ColumnKind = 'int' | 'bool' | 'enum' | 'float' | 'ptr' | 'string' | 'array' | 'struct' | 'opaque';

export interface Column {
  /** Flat name: nested fields as `a.b`. */
  name: string;
  /** Field names from the root to this value (anonymous members are skipped). */
  path: string[];
  kind: ColumnKind;
  type: FieldType;
  /** The column's value in a decoded event (undefined when absent, e.g. truncated). */
  get: (event: DecodedObject) => DecodedValue | undefined;
  /** Display text for a table cell. */
  format: (value: DecodedValue | undefined) => string;
  /** Integers and enums: the value in hex (for hover), e.g. "0x1f"; negative values in two's complement of the field size. */
  hex?: (value: DecodedValue | undefined) => string;
}

export interface EventDecoder {
  readonly layout: EventLayout;
  /** Decodes `length` bytes at `offset` (defaults: the whole buffer). */
  decode: (bytes: Uint8Array, offset?: number, length?: number) => DecodedEvent;
  readonly columns: Column[];
}

export interface DecoderOptions {
  /** Byte order of the records (the target's). Default true (x86_64, arm64). */
  littleEndian?: boolean;
  /**
   * Generate one small object-building function per struct (faster). Default: on in Node,
   * off elsewhere (a webview's CSP forbids eval); falls back to closures if eval fails.
   */
  codegen?: boolean;
}

/** Reads one value at absolute offset `o`; `end` is the record's end. Returns undefined when nothing of it fits. */
export type Reader = (dv: DataView, bytes: Uint8Array, o: number, end: number) => DecodedValue | undefined;
/** Builds one struct's object from the struct's absolute offset. */
type Builder = (dv: DataView, bytes: Uint8Array, base: number, end: number) => DecodedObject;

const TWO32 = 4294967296;

/** The layout as it decodes: members over the value budget elided (see budget.ts). */
export function boundedLayout(layout: EventLayout): EventLayout {
  const root = fitStruct(layout.root, MAX_DECODED_VALUES);
  return root === layout.root ? layout : { ...layout, root };
}

/** What a member too large to decode becomes: its byte size. */
export function truncatedMember(bytes: number): DecodedObject {
  return { $truncated: { bytes } };
}

export function compileDecoder(layout: EventLayout, opts: DecoderOptions = {}): EventDecoder {
  const le = opts.littleEndian ?? true;
  const bounded = boundedLayout(layout);
  const flexBudget = MAX_DECODED_VALUES - valueCount(bounded.root);
  const buildRoot = structBuilder(bounded.root, le, flexBudget, opts.codegen ?? defaultCodegen);
  const size = layout.size;
  let lastBytes: Uint8Array | undefined;
  let lastDv: DataView | undefined;
  const cols = columns(bounded);
  return {
    layout,
    columns: cols,
    decode: (bytes, offset = 0, length = bytes.length - offset) => {
      if (bytes !== lastBytes || !lastDv) {
        lastBytes = bytes;
        lastDv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      let start = offset;
      let end = offset + length;
      if (!(start >= 0 && end <= bytes.length && end >= start)) {
        start = Math.max(0, Math.min(offset, bytes.length));
        end = Math.max(start, Math.min(start + Math.max(0, length), bytes.length));
      }
      const out: DecodedEvent = buildRoot(lastDv, bytes, start, end);
      if (end - start < size) {
        dropMissing(out);
        out.$truncated = { have: end - start, need: size };
      }
      return out;
    },
  };
}

interface FlatField {
  /** Own property name in the struct's object. */
  name: string;
  /** Offset from the struct's start (anonymous members folded in). */
  offset: number;
  read: Reader;
}

/** A member's key in the decoded object: `__proto__` (legal in C) would set the prototype in JS; unnamed ones by position. */
export function memberKey(f: LayoutField, index: number): string {
  return f.name === '__proto__' ? '$__proto__' : f.name || `_${index}`;
}

/** Anonymous struct/union members: their fields are lifted into the parent. */
export function isLifted(f: LayoutField): f is LayoutField & { type: StructType } {
  return f.name === '' && (f.type.kind === 'struct' || f.type.kind === 'union');
}

/** A member as it appears in its struct's decoded object. */
export interface FlatMember {
  key: string;
  /** Offset from the struct's start (anonymous members folded in). */
  offset: number;
  field: LayoutField;
  /** The struct's own last member (not one lifted from an anonymous member): at the root, a `T data[]` there takes the rest of the record. */
  last: boolean;
}

/** A struct's members with anonymous members' fields lifted into it, in declaration order. */
export function flatMembers(st: StructType, base = 0, out: FlatMember[] = [], top = true): FlatMember[] {
  const last = st.fields.length - 1;
  st.fields.forEach((f, i) => {
    if (isLifted(f)) flatMembers(f.type, base + f.offset, out, false);
    else out.push({ key: memberKey(f, i), offset: base + f.offset, field: f, last: top && i === last });
  });
  return out;
}

/** `flexBudget` ≥ 0 only for the root: its last member, a `T data[]`, may then take the rest of the record. */
function flatFields(st: StructType, le: boolean, flexBudget: number, codegen: boolean): FlatField[] {
  return flatMembers(st).map(({ key, offset, field, last }) => ({
    name: key,
    offset,
    read: field.bitSize ? bitfieldReader(field, le) : readerFor(field.type, le, last ? flexBudget : -1, codegen),
  }));
}

/** Removes the fields a short record did not reach. */
function dropMissing(obj: DecodedObject): void {
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
}

/** Node has `Function`; a webview under a CSP without 'unsafe-eval' does not (and would log a violation). */
const defaultCodegen = typeof process !== 'undefined' && typeof process.versions === 'object' && !!process.versions.node;

/**
 * One object per struct. With codegen (Node: the CLI decodes every record), a generated
 * function returns one object literal `{ "pid": R[0](dv, b, o + 0, e), … }`: each field's
 * reader is called from its own call site and the object gets its shape at once. The
 * generated text holds only JSON-quoted names and integer offsets; every reading rule
 * stays in the closures. Without codegen (webview CSP), the same readers fill an object
 * cloned from a template that already has every key.
 */
function structBuilder(st: StructType, le: boolean, flexBudget: number, codegen: boolean): Builder {
  const fields = flatFields(st, le, flexBudget, codegen);
  const readers = fields.map((f) => f.read);
  // Offsets go into the generated text: only plain integers (a layout may come from JSON).
  if (codegen && fields.length <= 512 && fields.every((f) => Number.isSafeInteger(f.offset))) {
    try {
      const body = fields.map((f, i) => `${JSON.stringify(f.name)}: R[${i}](dv, b, o + ${f.offset}, e)`).join(',\n');
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const make = new Function('R', `'use strict'; return function (dv, b, o, e) { return {\n${body}\n}; };`) as (r: Reader[]) => Builder;
      return make(readers);
    } catch {
      // No eval here (CSP): fall through to closures.
    }
  }
  const template: DecodedObject = {};
  for (const f of fields) template[f.name] = undefined;
  const n = fields.length;
  const offsets = fields.map((f) => f.offset);
  const names = fields.map((f) => f.name);
  return (dv, bytes, base, end) => {
    const obj: DecodedObject = { ...template };
    for (let i = 0; i < n; i++) {
      const v = (readers[i] as Reader)(dv, bytes, base + (offsets[i] as number), end);
      if (v !== undefined) obj[names[i] as string] = v;
    }
    return obj;
  };
}

/** A reader for one value of type `t` (not a trailing flexible array), for serializers that need the decoded form. */
export function valueReader(t: FieldType, littleEndian = true): Reader {
  return readerFor(t, littleEndian, -1, defaultCodegen);
}

/** `flexBudget` ≥ 0: the root's last member (a zero-length array there takes the rest of the record). */
function readerFor(t: FieldType, le: boolean, flexBudget: number, codegen: boolean): Reader {
  switch (t.kind) {
    case 'int':
      return t.bool ? boolReader(t.size, le) : intReader(t.size, t.signed, le);
    case 'enum': {
      const read = intReader(t.size, t.signed, le);
      const names = enumNames(t);
      return (dv, bytes, o, end) => {
        const v = read(dv, bytes, o, end);
        return v === undefined ? undefined : (names.get(v as number | string) ?? v);
      };
    }
    case 'float': {
      const size = t.size;
      return size === 4
        ? (dv, _b, o, end) => (o + 4 <= end ? dv.getFloat32(o, le) : undefined)
        : (dv, _b, o, end) => (o + 8 <= end ? dv.getFloat64(o, le) : undefined);
    }
    case 'ptr': {
      const size = t.size;
      return (dv, _b, o, end) => {
        if (o + size > end) return undefined;
        if (size === 4) return `0x${dv.getUint32(o, le).toString(16)}`;
        const lo = dv.getUint32(o + (le ? 0 : 4), le);
        const hi = dv.getUint32(o + (le ? 4 : 0), le);
        return hi === 0 ? `0x${lo.toString(16)}` : `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
      };
    }
    case 'opaque': {
      const size = t.size;
      if (t.elided) return (_dv, _bytes, o, end) => (o >= end && size > 0 ? undefined : truncatedMember(size));
      return (_dv, bytes, o, end) => (o >= end && size > 0 ? undefined : hexBytes(bytes, o, Math.min(o + size, end)));
    }
    case 'struct':
    case 'union': {
      const build = structBuilder(t, le, -1, codegen);
      const size = t.size;
      return (dv, bytes, o, end) => {
        if (o >= end && size > 0) return undefined;
        const obj = build(dv, bytes, o, end);
        if (o + size > end) dropMissing(obj);
        return obj;
      };
    }
    case 'array':
      return arrayReader(t, le, flexBudget, codegen);
  }
}

function arrayReader(t: Extract<FieldType, { kind: 'array' }>, le: boolean, flexBudget: number, codegen: boolean): Reader {
  const { count, elemSize, elem } = t;
  const flexible = flexBudget >= 0 && count === 0;
  if (elem.kind === 'int' && elem.size === 1 && elem.char) {
    return (_dv, bytes, o, end) => {
      const stop = flexible ? end : Math.min(o + count, end);
      if (o >= stop && count > 0) return undefined;
      return decodeCString(bytes, o, stop);
    };
  }
  const read = readerFor(elem, le, -1, codegen);
  return (dv, bytes, o, end) => {
    const n = flexible ? flexibleCount(t, o, end, flexBudget) : count;
    if (n < 0) return truncatedMember(end - o);
    const out: DecodedValue[] = [];
    for (let i = 0; i < n; i++) {
      const at = o + i * elemSize;
      if (at + elemSize > end) break;
      const v = read(dv, bytes, at, end);
      if (v === undefined) break;
      out.push(v);
    }
    if (out.length === 0 && n > 0) return undefined;
    return out;
  };
}

/** Enumerator names by the value the int reader returns (a number, or a decimal string beyond 2^53). */
export function enumNames(t: Extract<FieldType, { kind: 'enum' }>): Map<number | string, string> {
  const names = new Map<number | string, string>();
  for (const v of t.values) {
    const n = Number(v.value);
    names.set(Number.isSafeInteger(n) ? n : v.value, v.name);
  }
  return names;
}

function boolReader(size: number, le: boolean): Reader {
  const read = intReader(size, false, le);
  return (dv, bytes, o, end) => {
    const v = read(dv, bytes, o, end);
    return v === undefined ? undefined : v !== 0;
  };
}

function intReader(size: number, signed: boolean, le: boolean): Reader {
  switch (size) {
    case 1:
      return signed ? (dv, _b, o, end) => (o < end ? dv.getInt8(o) : undefined) : (_dv, b, o, end) => (o < end ? b[o] : undefined);
    case 2:
      return signed ? (dv, _b, o, end) => (o + 2 <= end ? dv.getInt16(o, le) : undefined) : (dv, _b, o, end) => (o + 2 <= end ? dv.getUint16(o, le) : undefined);
    case 4:
      return signed ? (dv, _b, o, end) => (o + 4 <= end ? dv.getInt32(o, le) : undefined) : (dv, _b, o, end) => (o + 4 <= end ? dv.getUint32(o, le) : undefined);
    default: {
      const loAt = le ? 0 : 4;
      const hiAt = le ? 4 : 0;
      return signed
        ? (dv, _b, o, end) => {
            if (o + 8 > end) return undefined;
            const hi = dv.getInt32(o + hiAt, le);
            const lo = dv.getUint32(o + loAt, le);
            return isSafe64(hi, lo) ? hi * TWO32 + lo : dv.getBigInt64(o, le).toString();
          }
        : (dv, _b, o, end) => {
            if (o + 8 > end) return undefined;
            const hi = dv.getUint32(o + hiAt, le);
            const lo = dv.getUint32(o + loAt, le);
            return isSafe64(hi, lo) ? hi * TWO32 + lo : dv.getBigUint64(o, le).toString();
          };
    }
  }
}

/** Bitfield: read the bytes that cover it, then shift/mask (sign-extend when signed). */
export function bitfieldReader(f: LayoutField, le: boolean): Reader {
  const t = f.type as Extract<FieldType, { kind: 'int' | 'enum' }>;
  const bits = f.bitSize ?? 0;
  const bitPos = f.bitOffset ?? 0;
  const firstByte = Math.floor(bitPos / 8);
  const shiftInFirst = bitPos % 8;
  const nBytes = Math.ceil((shiftInFirst + bits) / 8);
  const signed = t.signed;
  const asBool = t.kind === 'int' && !!t.bool;
  const enumNames = t.kind === 'enum' ? new Map(t.values.map((v) => [v.value, v.name] as const)) : undefined;
  const finish = (v: bigint): DecodedValue => {
    const val = signed ? BigInt.asIntN(bits, v) : v;
    if (asBool) return val !== 0n;
    const s = val.toString();
    if (enumNames) return enumNames.get(s) ?? (Number.isSafeInteger(Number(val)) ? Number(val) : s);
    const num = Number(val);
    return Number.isSafeInteger(num) ? num : s;
  };
  if (nBytes <= 6 && bits <= 32) {
    // Fast path in plain numbers (≤ 48 bits of input).
    const modulus = 2 ** bits;
    return (_dv, bytes, o, end) => {
      const s = o + firstByte;
      if (s + nBytes > end) return undefined;
      let acc = 0;
      if (le) {
        for (let i = nBytes - 1; i >= 0; i--) acc = acc * 256 + (bytes[s + i] ?? 0);
        acc = Math.floor(acc / 2 ** shiftInFirst);
      } else {
        for (let i = 0; i < nBytes; i++) acc = acc * 256 + (bytes[s + i] ?? 0);
        acc = Math.floor(acc / 2 ** (nBytes * 8 - shiftInFirst - bits));
      }
      let v = acc % modulus;
      if (signed && v >= modulus / 2) v -= modulus;
      if (asBool) return v !== 0;
      if (enumNames) return enumNames.get(String(v)) ?? v;
      return v;
    };
  }
  return (_dv, bytes, o, end) => {
    const s = o + firstByte;
    if (s + nBytes > end) return undefined;
    let acc = 0n;
    if (le) {
      for (let i = nBytes - 1; i >= 0; i--) acc = (acc << 8n) | BigInt(bytes[s + i] ?? 0);
      acc >>= BigInt(shiftInFirst);
    } else {
      for (let i = 0; i < nBytes; i++) acc = (acc << 8n) | BigInt(bytes[s + i] ?? 0);
      acc >>= BigInt(nBytes * 8 - shiftInFirst - bits);
    }
    return finish(BigInt.asUintN(bits, acc));
  };
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexBytes(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[bytes[i] ?? 0];
  return s;
}

/**
 * C string in [start, end): stops at the first NUL. Valid UTF-8 is decoded; every byte
 * that is not part of a valid UTF-8 sequence becomes the four characters `\xNN`.
 */
export function decodeCString(bytes: Uint8Array, start: number, end: number): string {
  let stop = start;
  let ascii = true;
  let hash = 0x811c9dc5;
  while (stop < end) {
    const b = bytes[stop] ?? 0;
    if (b === 0) break;
    if (b >= 0x80) ascii = false;
    hash = Math.imul(hash ^ b, 0x01000193);
    stop++;
  }
  const len = stop - start;
  if (ascii) {
    if (len <= INTERN_MAX) return internAscii(bytes, start, len, hash);
    return latin1.decode(bytes.subarray(start, stop));
  }
  let s = '';
  let i = start;
  while (i < stop) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      s += String.fromCharCode(b);
      i++;
      continue;
    }
    const n = utf8SequenceLength(bytes, i, stop);
    if (n > 0) {
      s += utf8.decode(bytes.subarray(i, i + n));
      i += n;
    } else {
      s += `\\x${HEX[b] ?? '00'}`;
      i++;
    }
  }
  return s;
}

// Short ASCII strings (comm, names) repeat a lot: a small hash-indexed cache returns the
// same string object for the same bytes, saving the allocation and the memory of 1 M
// stored events.
const INTERN_MAX = 32;
const INTERN_SLOTS = 4096;
const internBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX);
const internLen = new Int16Array(INTERN_SLOTS).fill(-1);
const internStr: string[] = new Array<string>(INTERN_SLOTS).fill('');

function internAscii(bytes: Uint8Array, start: number, len: number, hash: number): string {
  const slot = (hash ^ len) & (INTERN_SLOTS - 1);
  const base = slot * INTERN_MAX;
  if (internLen[slot] === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (internBytes[base + i] !== bytes[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return internStr[slot] ?? '';
  }
  let s = '';
  for (let i = 0; i < len; i++) {
    const b = bytes[start + i] ?? 0;
    s += String.fromCharCode(b);
    internBytes[base + i] = b;
  }
  internLen[slot] = len;
  internStr[slot] = s;
  return s;
}
const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

// ---------------------------------------------------------------------------
// Columns for a flat table.

/** Flat table columns: nested struct fields as `a.b`, arrays as one column, char arrays as text. */
export function columns(layout: EventLayout): Column[] {
  const out: Column[] = [];
  addColumns(layout.root, [], out);
  return out;
}

function addColumns(st: StructType, prefix: string[], out: Column[]): void {
  st.fields.forEach((f, i) => {
    if (f.name === '' && (f.type.kind === 'struct' || f.type.kind === 'union')) {
      addColumns(f.type, prefix, out);
      return;
    }
    const path = [...prefix, memberKey(f, i)];
    if (f.type.kind === 'struct' || f.type.kind === 'union') {
      addColumns(f.type, path, out);
      return;
    }
    out.push(makeColumn(path, f.type));
  });
}

function kindOf(t: FieldType): ColumnKind {
  switch (t.kind) {
    case 'int':
      return t.bool ? 'bool' : 'int';
    case 'array':
      return t.elem.kind === 'int' && t.elem.size === 1 && t.elem.char ? 'string' : 'array';
    case 'union':
      return 'struct';
    default:
      return t.kind;
  }
}

function makeColumn(path: string[], type: FieldType): Column {
  // Own keys only: a member named like an Object.prototype property must not reach the prototype.
  const first = path[0] ?? '';
  const get =
    path.length === 1
      ? (e: DecodedObject): DecodedValue | undefined => (Object.hasOwn(e, first) ? e[first] : undefined)
      : (e: DecodedObject): DecodedValue | undefined => {
          let cur: DecodedValue | undefined = e;
          for (const p of path) {
            if (cur === undefined || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, p)) return undefined;
            cur = cur[p];
          }
          return cur;
        };
  const col: Column = { name: path.join('.'), path, kind: kindOf(type), type, get, format: formatValue };
  if (type.kind === 'int' && !type.bool) {
    const bits = type.size * 8;
    col.hex = (v) => hexOf(v, bits);
  } else if (type.kind === 'enum') {
    const bits = type.size * 8;
    const byName = new Map(type.values.map((v) => [v.name, v.value] as const));
    col.hex = (v) => hexOf(typeof v === 'string' && byName.has(v) ? (byName.get(v) ?? '') : v, bits);
  }
  return col;
}

function hexOf(v: DecodedValue | undefined, bits: number): string {
  if (typeof v !== 'number' && typeof v !== 'string') return '';
  let big: bigint;
  try {
    big = BigInt(v);
  } catch {
    return '';
  }
  return `0x${BigInt.asUintN(bits, big).toString(16)}`;
}

/** Display text: strings as they are, arrays as `[1, 2, 3]`, nested objects as `{a: 1, b: "x"}`. */
export function formatValue(v: DecodedValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return formatNested(v);
}

function formatNested(v: DecodedValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatNested).join(', ')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${k}: ${formatNested(x)}`).join(', ')}}`;
}

/**
 * The JSON shape the CLI prints with --format jsonl: the decoded event itself (field
 * names from BTF, char[] as strings, 64-bit values beyond 2^53 as decimal strings),
 * with non-finite floats as the strings "NaN"/"Infinity"/"-Infinity" (JSON has none).
 */
export function eventToJson(event: DecodedEvent): unknown {
  return jsonSafe(event);
}

function jsonSafe(v: DecodedValue | TruncationMarker | undefined): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v === undefined || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(jsonSafe);
  let copy: Record<string, unknown> | undefined;
  for (const k in v) {
    const x = (v as DecodedObject)[k];
    const y = jsonSafe(x);
    if (y !== x && !copy) copy = { ...v };
    if (copy) copy[k] = y;
  }
  return copy ?? v;
}
