// The decoder is checked against bytes laid out by the compiler: record_dump.c (native)
// fills struct record from record.h with known values; the layout comes from the BTF
// of kinds.bpf.c, which includes the same header.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Btf } from '../../../core/btf/btf';
import { parseBtf } from '../../../core/btf/btf';
import { layoutOf } from '../../../core/btf/layout';
import { compileDecoder, decodeCString, eventToJson } from '../../../core/decode/decode';
import type { EventDecoder } from '../../../core/decode/decode';
import type { EventLayout } from '../../../core/btf/layoutTypes';
import { parseElf } from '../../../core/elf/elf';
import { compileFixture, repoRoot, runNativeProgram } from '../../support/compile';

const dir = path.join(repoRoot, 'test/fixtures/objects');
let btf: Btf;
let layout: EventLayout;
let decoder: EventDecoder;
let records: Uint8Array;
let size: number;

beforeAll(async () => {
  const obj = await compileFixture(path.join(dir, 'kinds.bpf.c'), { name: 'kinds' });
  btf = parseBtf(parseElf(obj.bytes).section('.BTF')!.data);
  layout = layoutOf(btf, 'struct record');
  decoder = compileDecoder(layout);
  records = await runNativeProgram(path.join(dir, 'record_dump.c'));
  size = records.length / 3;
});

describe('layoutOf(struct record)', () => {
  it('has the size the compiler gave the struct', () => {
    expect(layout.size).toBe(size);
    expect(layout.typeName).toBe('struct record');
    expect(layout.origin).toBe('btf');
  });

  it('describes nested, anonymous, array, bitfield and enum members', () => {
    const f = (name: string) => layout.root.fields.find((x) => x.name === name);
    expect(f('comm')?.type).toEqual({ kind: 'array', count: 16, elemSize: 1, elem: { kind: 'int', size: 1, signed: true, char: true } });
    expect(f('raw')?.type).toMatchObject({ kind: 'array', elem: { kind: 'int', size: 1, signed: false } });
    expect(f('raw')?.type).not.toMatchObject({ elem: { char: true } });
    expect(f('matrix')?.type).toMatchObject({ kind: 'array', count: 2, elemSize: 6, elem: { kind: 'array', count: 3, elemSize: 2 } });
    expect(f('in')?.type).toMatchObject({ kind: 'struct', name: 'struct inner' });
    expect(layout.root.fields.filter((x) => x.name === '').map((x) => x.type.kind)).toEqual(['union', 'struct']);
    expect(f('level')).toMatchObject({ bitSize: 3 });
    // clang 14 writes no signedness for enums (kind_flag came with clang 15), so NEG is stored as 4294967294;
    // the decoder reads the same u32 and still finds the name (checked below).
    expect(f('color')?.type).toMatchObject({ kind: 'enum', name: 'enum color', size: 4, values: expect.arrayContaining([{ name: 'BLUE', value: '7' }]) as unknown });
    expect(f('ok')?.type).toMatchObject({ kind: 'int', bool: true });
    expect(f('thing')?.type).toEqual({ kind: 'ptr', size: 8 });
    expect(f('ratio')?.type).toEqual({ kind: 'float', size: 4 });
    expect(JSON.parse(JSON.stringify(layout))).toEqual(layout);
  });
});

describe.each([
  ['generated builders', true],
  ['closures only (webview CSP)', false],
])('compileDecoder on compiler-made records, %s', (_mode, codegen) => {
  beforeAll(() => {
    decoder = compileDecoder(layout, { codegen });
  });

  it('decodes every kind of field', () => {
    const e = decoder.decode(records, 0, size);
    expect(e).toMatchObject({
      pid: 4242,
      signed_val: -123456,
      big_signed: '-1152921504606846981',
      big_unsigned: '18446744073709551615',
      comm: 'bash',
      raw: [1, 2, 3, 255],
      matrix: [[0, 1, 2], [10, 11, 12]],
      in: { port: 8080, delta: -7, tag: 'ab' },
      pair: [{ port: 1, delta: -1, tag: 'x' }, { port: 2, delta: -2, tag: 'yz' }],
      as_u32: 0x04030201,
      as_bytes: [1, 2, 3, 4],
      anon_a: 9,
      anon_b: 10,
      flag_a: 1,
      level: 5,
      negative_bits: -11,
      wide: 0x7abcde,
      color: 'BLUE',
      big: 'BIG_SMALL',
      ok: true,
      ratio: 0.5,
      precise: -2.25,
      thing: '0xffff888812345678',
      cv: 2 ** 53 - 1,
      uptr: '0x0',
    });
    expect(e.$truncated).toBeUndefined();
  });

  it('handles char arrays without NUL, invalid UTF-8, unnamed enum values, signed extremes', () => {
    const e = decoder.decode(records, size, size);
    expect(e.comm).toBe('0123456789abcdef');
    expect((e.in as Record<string, unknown>).tag).toBe('\\xffaé');
    expect(e.color).toBe(5);
    expect(e.big_signed).toBe(-1);
    expect(e.negative_bits).toBe(-16);
    expect(e.level).toBe(7);
    expect(e.signed_val).toBe(-2147483648);
    expect(e.flag_a).toBe(0);
    const z = decoder.decode(records, 2 * size, size);
    expect(z).toMatchObject({ color: 'NEG', comm: '', pid: 0, ok: false, thing: '0x0', big: 0 });
  });

  it('decodes what fits of a short record and marks it truncated', () => {
    const e = decoder.decode(records, 0, 30);
    expect(e.$truncated).toEqual({ have: 30, need: size });
    expect(e.pid).toBe(4242);
    expect(e.comm).toBe('bash'); // comm starts at 24; 6 bytes are there
    expect(e.color).toBeUndefined();
    expect(decoder.decode(records, 0, 0)).toEqual({ $truncated: { have: 0, need: size } });
  });

  it('prints JSON with BTF field names and strings for char[]', () => {
    const json = JSON.stringify(eventToJson(decoder.decode(records, 0, size)));
    expect(json).toContain('"comm":"bash"');
    expect(json).toContain('"in":{"port":8080,"delta":-7,"tag":"ab"}');
    expect(eventToJson({ x: NaN, y: [Infinity] })).toEqual({ x: 'NaN', y: ['Infinity'] });
  });

  it('reads big-endian records when told', async () => {
    const eb = await compileFixture(path.join(dir, 'kinds.bpf.c'), { name: 'kinds_eb', target: 'bpfeb' });
    const beLayout = layoutOf(parseBtf(parseElf(eb.bytes).section('.BTF')!.data), 'struct inner');
    const bytes = new Uint8Array([0x1f, 0x90, 0xff, 0xf9, 0x61, 0x62, 0, 0]);
    expect(compileDecoder(beLayout, { littleEndian: false, codegen }).decode(bytes)).toEqual({ port: 8080, delta: -7, tag: 'ab' });
  });

  it('decodes the compiler-initialised record of the object in its own byte order (bpfel and bpfeb)', async () => {
    for (const target of ['bpfel', 'bpfeb'] as const) {
      const obj = await compileFixture(path.join(dir, 'kinds.bpf.c'), { name: `kinds_${target}`, target });
      const elf = parseElf(obj.bytes);
      const l = layoutOf(parseBtf(elf.section('.BTF')!.data), 'struct record');
      const sym = elf.symbols.find((x) => x.name === 'sample_record')!;
      const data = elf.sections[sym.sectionIndex]!.data;
      const e = compileDecoder(l, { littleEndian: elf.littleEndian, codegen }).decode(data, sym.value, sym.size);
      expect(e, target).toMatchObject({
        pid: 4242, signed_val: -123456, big_signed: '-1152921504606846981', big_unsigned: '18446744073709551615',
        comm: 'bash', raw: [1, 2, 3, 255], matrix: [[0, 1, 2], [10, 11, 12]], in: { port: 8080, delta: -7, tag: 'ab' },
        pair: [{ port: 1, delta: -1, tag: 'x' }, { port: 2, delta: -2, tag: 'yz' }], as_u32: 0x04030201,
        anon_a: 9, anon_b: 10, flag_a: 1, level: 5, negative_bits: -11, wide: 0x7abcde, color: 'BLUE', big: 'BIG_SMALL',
        ok: true, ratio: 0.5, precise: -2.25, cv: 2 ** 53 - 1, thing: '0x0',
      });
      expect(e.as_bytes, target).toEqual(elf.littleEndian ? [1, 2, 3, 4] : [4, 3, 2, 1]);
    }
  });

  it('keeps hostile member names as plain data', () => {
    const l: EventLayout = {
      typeName: 'struct x',
      size: 8,
      origin: 'btf',
      root: {
        kind: 'struct',
        name: 'struct x',
        size: 8,
        fields: [
          { name: '__proto__', offset: 0, type: { kind: 'int', size: 4, signed: false } },
          { name: '"}); globalThis.pwned = 1; ({"', offset: 4, type: { kind: 'int', size: 4, signed: false } },
        ],
      },
    };
    const e = compileDecoder(l, { codegen }).decode(new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]));
    expect(Object.getPrototypeOf(e)).toBe(Object.prototype);
    expect(e).toEqual({ $__proto__: 1, '"}); globalThis.pwned = 1; ({"': 2 });
    expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
  });
});

describe('columns', () => {
  it('flattens nested structs, keeps arrays compact and shows hex for integers', () => {
    const cols = decoder.columns;
    const names = cols.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['pid', 'comm', 'in.port', 'in.tag', 'pair', 'as_u32', 'anon_a', 'matrix', 'level', 'color']));
    expect(names).not.toContain('in');
    const e = decoder.decode(records, 0, size);
    const col = (n: string) => cols.find((c) => c.name === n)!;
    expect(col('comm').kind).toBe('string');
    expect(col('comm').format(col('comm').get(e))).toBe('bash');
    expect(col('raw').format(col('raw').get(e))).toBe('[1, 2, 3, 255]');
    expect(col('matrix').format(col('matrix').get(e))).toBe('[[0, 1, 2], [10, 11, 12]]');
    expect(col('pair').format(col('pair').get(e))).toBe('[{port: 1, delta: -1, tag: "x"}, {port: 2, delta: -2, tag: "yz"}]');
    expect(col('in.port').format(col('in.port').get(e))).toBe('8080');
    expect(col('in.delta').hex!(col('in.delta').get(e))).toBe('0xfff9');
    expect(col('big_unsigned').hex!(col('big_unsigned').get(e))).toBe('0xffffffffffffffff');
    expect(col('color').hex!(col('color').get(e))).toBe('0x7');
    expect(col('comm').hex).toBeUndefined();
  });
});

describe('decodeCString', () => {
  const enc = (...b: number[]) => new Uint8Array(b);
  it('stops at NUL, escapes invalid UTF-8 and keeps valid multi-byte text', () => {
    expect(decodeCString(enc(0x68, 0x69, 0, 0x78), 0, 4)).toBe('hi');
    expect(decodeCString(enc(0xe2, 0x82, 0xac, 0x80), 0, 4)).toBe('€\\x80');
    expect(decodeCString(enc(0xc0, 0xaf), 0, 2)).toBe('\\xc0\\xaf'); // overlong
    expect(decodeCString(enc(0xed, 0xa0, 0x80), 0, 3)).toBe('\\xed\\xa0\\x80'); // surrogate
    expect(decodeCString(enc(0xf0, 0x9f, 0x98, 0x80), 0, 4)).toBe('😀');
    expect(decodeCString(enc(0xf0, 0x9f, 0x98), 0, 3)).toBe('\\xf0\\x9f\\x98'); // cut sequence
  });
});
