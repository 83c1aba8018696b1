// The byte serializers (core/decode/jsonLines.ts, textLines.ts) must print exactly what the
// decoder path printed before them: JSON.stringify(eventToJson(decode(record))) for
// `--format jsonl` (with `{...{host,map}, ...event}` for several targets or rings), and the
// decoder's columns through formatValue, escaped and padded, for text. Checked on records
// the compiler laid out (kinds.bpf.c + record_dump.c) and on thousands of random layouts
// and records: every field kind, bitfields, anonymous members, repeated and hostile names,
// big and negative 64-bit values, invalid UTF-8, short and long records, both byte orders.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBtf } from '../../../core/btf/btf';
import { layoutOf } from '../../../core/btf/layout';
import { ByteOutput } from '../../../core/decode/byteOutput';
import { compileDecoder, eventToJson, type Column, type DecodedValue, type EventDecoder } from '../../../core/decode/decode';
import { compileJsonLineWriter, jsonLineOf } from '../../../core/decode/jsonLines';
import type { EventLayout, FieldType, LayoutField, StructType } from '../../../core/btf/layoutTypes';
import { columnWidth, compileTextLineWriter, type TextLineWriter } from '../../../core/decode/textLines';
import { parseElf } from '../../../core/elf/elf';
import { rng, type Rng } from '../../fuzz/mutate';
import { compileFixture, repoRoot, runNativeProgram } from '../../support/compile';

// ── the paths the serializers replace (cli/commands/run.ts before them) ──

const decoders = new WeakMap<EventLayout, Map<boolean, EventDecoder>>();
function decoderOf(layout: EventLayout, le: boolean): EventDecoder {
  const byOrder = decoders.get(layout) ?? new Map<boolean, EventDecoder>();
  decoders.set(layout, byOrder);
  const d = byOrder.get(le) ?? compileDecoder(layout, { littleEndian: le });
  byOrder.set(le, d);
  return d;
}

function oracleJson(layout: EventLayout, bytes: Uint8Array, off: number, len: number, le: boolean, prefix: Array<[string, string]>): string {
  const body = eventToJson(decoderOf(layout, le).decode(bytes, off, len)) as Record<string, unknown>;
  const head = Object.fromEntries(prefix);
  return JSON.stringify(prefix.length ? { ...head, ...body } : body);
}

function oraclePad(text: string, width: number, index: number, count: number, right = false): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (index === count - 1 && !right) return safe;
  return right ? safe.padStart(width) : safe.padEnd(width);
}

const numeric = (c: Column): boolean => c.kind === 'int' || c.kind === 'float';

function oracleText(layout: EventLayout, bytes: Uint8Array, off: number, len: number, le: boolean, prefix: string): { header: string; row: string } {
  const decoder = decoderOf(layout, le);
  const cols = decoder.columns;
  const widths = cols.map((c) => columnWidth(c.name, c.type));
  const ev = decoder.decode(bytes, off, len);
  return {
    header: cols.map((c, i) => oraclePad(c.name, widths[i] ?? 0, i, cols.length, numeric(c))).join('  '),
    row: prefix + cols.map((c, j) => oraclePad(c.format(c.get(ev)), widths[j] ?? 0, j, cols.length, numeric(c))).join('  '),
  };
}

function textLine(layout: EventLayout, bytes: Uint8Array, off: number, len: number, le: boolean, prefix: string, writer?: TextLineWriter): { header: string; row: string } {
  const w = writer ?? compileTextLineWriter(layout, { littleEndian: le, rowPrefix: prefix });
  const out = new ByteOutput(256);
  w.write(out, bytes, off, len);
  return { header: w.header.slice(0, -1), row: new TextDecoder().decode(out.buf.subarray(0, out.pos - 1)) };
}

// ── random layouts ──

const int = (r: Rng, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)] as T;
const NAMES = ['pid', 'comm', 'host', 'map', 'x', 'x', 'value', '__proto__', '', 'ü', 'a"b', 'new\nline', '7', 'size'];

function randomScalar(r: Rng): FieldType {
  switch (int(r, 7)) {
    case 0:
    case 1:
      return { kind: 'int', size: pick(r, [1, 2, 4, 8] as const), signed: r() < 0.5, ...(r() < 0.1 ? { bool: true } : {}) };
    case 2: {
      const size = pick(r, [1, 2, 4, 8] as const);
      const values = Array.from({ length: 1 + int(r, 4) }, (_, i) => ({ name: pick(r, ['A', 'B_C', 'ü', 'Q"', `V${i}`]), value: pick(r, ['0', '1', '2', '-1', '255', '4294967295', '18446744073709551615', '-9223372036854775808']) }));
      return { kind: 'enum', name: 'enum e', size, signed: r() < 0.5, values };
    }
    case 3:
      return { kind: 'float', size: pick(r, [4, 8] as const) };
    case 4:
      return { kind: 'ptr', size: pick(r, [4, 8] as const) };
    case 5:
      return r() < 0.2 ? { kind: 'opaque', size: int(r, 40), elided: true } : { kind: 'opaque', size: int(r, 12) };
    default:
      return { kind: 'array', count: int(r, 20), elemSize: 1, elem: { kind: 'int', size: 1, signed: r() < 0.5, char: true } };
  }
}

const sizeOf = (t: FieldType): number => (t.kind === 'array' ? t.count * t.elemSize : t.size);

function randomType(r: Rng, depth: number): FieldType {
  const k = int(r, 10);
  if (depth < 3 && k === 0) return randomStruct(r, depth + 1, r() < 0.3 ? 'union' : 'struct');
  if (depth < 3 && k === 1) {
    const elem = r() < 0.5 ? randomScalar(r) : randomType(r, depth + 1);
    return { kind: 'array', elem, count: int(r, 4), elemSize: sizeOf(elem) };
  }
  return randomScalar(r);
}

function randomStruct(r: Rng, depth: number, kind: 'struct' | 'union', root = false): StructType {
  const fields: LayoutField[] = [];
  let offset = 0;
  let size = 0;
  const n = 1 + int(r, 6);
  for (let i = 0; i < n; i++) {
    const bitfield = r() < 0.15;
    let field: LayoutField;
    if (bitfield) {
      const type: FieldType = r() < 0.7 ? { kind: 'int', size: pick(r, [4, 8] as const), signed: r() < 0.5, ...(r() < 0.1 ? { bool: true } : {}) } : { kind: 'enum', name: 'enum b', size: 8, signed: r() < 0.5, values: [{ name: 'ONE', value: '1' }, { name: 'NEG', value: '-1' }] };
      const unit = type.size * 8;
      const bitSize = 1 + int(r, unit);
      field = { name: pick(r, NAMES), offset, bitOffset: int(r, unit - bitSize + 1), bitSize, type };
    } else if (depth < 3 && r() < 0.1) {
      field = { name: '', offset, type: randomStruct(r, depth + 1, r() < 0.5 ? 'union' : 'struct') }; // anonymous: lifted
    } else {
      field = { name: pick(r, NAMES), offset, type: randomType(r, depth) };
    }
    if (kind === 'union') field.offset = 0;
    fields.push(field);
    const s = sizeOf(field.type);
    if (kind === 'struct') offset += s + int(r, 3);
    size = Math.max(size, field.offset + s);
  }
  if (root && r() < 0.25) {
    const elem = r() < 0.5 ? ({ kind: 'int', size: 1, signed: true, char: true } as const) : randomScalar(r);
    fields.push({ name: pick(r, ['data', 'x']), offset: size, type: { kind: 'array', count: 0, elemSize: sizeOf(elem), elem } });
  }
  return { kind, name: `${kind} s`, size: size + int(r, 3), fields };
}

const STRINGS: Uint8Array[] = [
  ...['bash', 'rbs_gen', '', 'ü ok', '\x1b[31m', 'a"b\\c', 'é\u2028\u0085', '\t\n\r\x00after', '😀', '\x7f'].map((t) => Buffer.from(t, 'utf8')),
  Buffer.from([0xff, 0xfe, 0x41]), // not UTF-8
  Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate: invalid
  Buffer.from([0xf0, 0x9f, 0x98]), // a cut 4-byte sequence
  Buffer.from([0xc0, 0xaf]), // overlong
];

function randomRecord(r: Rng, length: number): Uint8Array {
  const b = new Uint8Array(length);
  const fill = pick(r, ['random', 'zeros', 'ones', 'strings']);
  for (let i = 0; i < length; i++) {
    if (fill === 'random') b[i] = int(r, 256);
    else if (fill === 'ones') b[i] = 0xff;
    else if (fill === 'strings') b[i] = 0x20 + int(r, 0x60);
  }
  for (let k = 0; k < 4 && length > 0; k++) {
    const s = pick(r, STRINGS).subarray(0, length);
    b.set(s, int(r, length - s.length + 1));
  }
  return b;
}

describe('line serializers print what decode + JSON.stringify / formatValue printed', () => {
  it('1500 random layouts × 4 records: identical bytes, JSON (generated and closure writers) and text, both byte orders, short and long records', () => {
    const r = rng(20240611);
    let fast = 0;
    for (let n = 0; n < 1500; n++) {
      const root = randomStruct(r, 0, 'struct', true);
      const layout: EventLayout = { typeName: 'struct s', size: root.size, root, origin: 'btf' };
      const le = r() < 0.8;
      const prefix: Array<[string, string]> = pick(r, [[], [['host', 'vm1']], [['host', 'h"1'], ['map', 'rb']], [['map', 'events']]] as Array<Array<[string, string]>>);
      // Generated functions (Node's default) and closures only (a webview's CSP) alternate.
      const writer = compileJsonLineWriter(layout, { littleEndian: le, prefix, codegen: n % 2 === 0 });
      const textPrefix = prefix.map(([, v]) => `${v}  `).join('');
      const text = compileTextLineWriter(layout, { littleEndian: le, rowPrefix: textPrefix });
      for (let k = 0; k < 4; k++) {
        const len = pick(r, [layout.size, layout.size, layout.size + int(r, 40), int(r, layout.size + 1)]);
        const pad = int(r, 8);
        const bytes = randomRecord(r, pad + len + int(r, 4));
        const expected = oracleJson(layout, bytes, pad, len, le, prefix);
        expect(jsonLineOf(writer, bytes, pad, len), JSON.stringify({ layout, len, pad, le, prefix })).toBe(expected);
        expect(textLine(layout, bytes, pad, len, le, textPrefix, text), JSON.stringify({ layout, len, pad, le })).toEqual(oracleText(layout, bytes, pad, len, le, textPrefix));
        if (len >= layout.size) fast++;
      }
    }
    expect(fast).toBeGreaterThan(3600); // most take the fast path; the short ones the decoder's
  });

  it('64-bit integers at every boundary: numbers below 2^53, exact decimal strings above', () => {
    const u64: EventLayout = { typeName: 'struct v', size: 16, origin: 'btf', root: { kind: 'struct', name: 'v', size: 16, fields: [{ name: 'u', offset: 0, type: { kind: 'int', size: 8, signed: false } }, { name: 's', offset: 8, type: { kind: 'int', size: 8, signed: true } }] } };
    const writer = compileJsonLineWriter(u64);
    const edges = [0n, 1n, 9n, 10n, 99999999n, 100000000n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 1234567890123456789n];
    const bytes = new Uint8Array(16);
    const dv = new DataView(bytes.buffer);
    for (const a of edges) {
      for (const b of edges) {
        dv.setBigUint64(0, a, true);
        dv.setBigUint64(8, b, true);
        expect(jsonLineOf(writer, bytes)).toBe(oracleJson(u64, bytes, 0, 16, true, []));
      }
    }
  });
});

describe('line serializers on records the compiler laid out (kinds.bpf.c, record_dump.c)', () => {
  let layout: EventLayout;
  let records: Uint8Array;
  beforeAll(async () => {
    const dir = path.join(repoRoot, 'test/fixtures/objects');
    const obj = await compileFixture(path.join(dir, 'kinds.bpf.c'), { name: 'kinds' });
    layout = layoutOf(parseBtf(parseElf(obj.bytes).section('.BTF')!.data), 'struct record');
    records = await runNativeProgram(path.join(dir, 'record_dump.c'));
  });

  it('prints the same JSON and text for every record, whole and cut short', () => {
    const size = layout.size;
    for (let i = 0; i < records.length / size; i++) {
      for (const len of [size, size - 1, 30, 0]) {
        expect(jsonLineOf(compileJsonLineWriter(layout), records, i * size, len)).toBe(oracleJson(layout, records, i * size, len, true, []));
        expect(textLine(layout, records, i * size, len, true, '')).toEqual(oracleText(layout, records, i * size, len, true, ''));
      }
    }
    const first = JSON.parse(jsonLineOf(compileJsonLineWriter(layout), records, 0, size)) as Record<string, DecodedValue>;
    expect(first).toMatchObject({ pid: 4242, big_unsigned: '18446744073709551615', comm: 'bash', color: 'BLUE' });
  });
});
