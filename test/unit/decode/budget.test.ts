// Valid BTF that explodes (Trust issue, item 7): test/fixtures/run/wide_unions.bpf.c,
// built by the real build (clang + event-type anchor), has a 1 MiB event of two arrays of
// 131 064 unions of 500 members — ~131 M values if decoded. The layout counts array
// elements × element values, elides both arrays, and a record decodes in bounded work:
// the fields before and after them are there, each array is a marker with its byte size.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBtf } from '../../../core/btf/btf';
import { layoutOf } from '../../../core/btf/layout';
import { compileBpf } from '../../../core/compile/build';
import { fitStruct, MAX_DECODED_VALUES, valueCount } from '../../../core/btf/budget';
import { compileDecoder, eventToJson } from '../../../core/decode/decode';
import { compileJsonLineWriter, jsonLineOf } from '../../../core/decode/jsonLines';
import type { EventLayout, FieldType, StructType } from '../../../core/btf/layoutTypes';
import { compileTextLineWriter } from '../../../core/decode/textLines';
import { parseElf } from '../../../core/elf/elf';
import { repoRoot } from '../../support/compile';

const u32: FieldType = { kind: 'int', size: 4, signed: false };
const CELLS = 131064;
const ARRAY_BYTES = CELLS * 4;

describe('a 1 MiB record of arrays of 500-member unions (real BTF from clang)', () => {
  let layout: EventLayout;
  let record: Uint8Array;

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-wide-'));
    const built = await compileBpf({ file: path.join(repoRoot, 'test/fixtures/run/wide_unions.bpf.c'), outFile: path.join(dir, 'wide.bpf.o') });
    expect(built.ok, JSON.stringify(built.diagnostics)).toBe(true);
    layout = layoutOf(parseBtf(parseElf(built.object!).section('.BTF')!.data), 'struct huge_event');
    fs.rmSync(dir, { recursive: true, force: true });
    record = new Uint8Array(layout.size);
    const dv = new DataView(record.buffer);
    dv.setUint32(0, 0x11111111, true);
    dv.setUint32(4 + 2 * ARRAY_BYTES, 0x22222222, true);
    record.set(Buffer.from('true'), 8 + 2 * ARRAY_BYTES);
  });

  it('the layout counts elements × members and elides both arrays, keeping the fields around them', () => {
    expect(layout.size).toBe(8 + 2 * ARRAY_BYTES + 16);
    expect(layout.root.fields.map((f) => [f.name, f.type.kind])).toEqual([
      ['before', 'int'],
      ['first', 'opaque'],
      ['second', 'opaque'],
      ['after', 'int'],
      ['comm', 'array'],
    ]);
    expect(layout.root.fields[1]!.type).toEqual({ kind: 'opaque', size: ARRAY_BYTES, elided: true });
    expect(valueCount(layout.root)).toBeLessThanOrEqual(MAX_DECODED_VALUES);
  });

  it('decodes in bounded work: the marker with the byte size, the fields before and after', () => {
    const event = compileDecoder(layout).decode(record);
    expect(event).toEqual({ before: 0x11111111, first: { $truncated: { bytes: ARRAY_BYTES } }, second: { $truncated: { bytes: ARRAY_BYTES } }, after: 0x22222222, comm: 'true' });
    const line = jsonLineOf(compileJsonLineWriter(layout), record);
    expect(line).toBe(`{"before":286331153,"first":{"$truncated":{"bytes":${ARRAY_BYTES}}},"second":{"$truncated":{"bytes":${ARRAY_BYTES}}},"after":572662306,"comm":"true"}`);
    expect(line).toBe(JSON.stringify(eventToJson(event)));
    const text = compileTextLineWriter(layout);
    expect(text.header.split(/\s+/).filter(Boolean)).toEqual(['before', 'first', 'second', 'after', 'comm']);
  });
});

describe('fitting a struct to the budget', () => {
  const wide = (members: number): StructType => ({ kind: 'union', name: 'union w', size: 4, fields: Array.from({ length: members }, (_, i) => ({ name: `m${i}`, offset: 0, type: u32 })) });

  it('elides the largest members first; a nested struct keeps its small fields', () => {
    const inner: StructType = {
      kind: 'struct',
      name: 'struct inner',
      size: 4 + 4000 * 4,
      fields: [
        { name: 'id', offset: 0, type: u32 },
        { name: 'cells', offset: 4, type: { kind: 'array', elem: wide(100), count: 4000, elemSize: 4 } },
      ],
    };
    const root: StructType = {
      kind: 'struct',
      name: 'struct ev',
      size: 8 + inner.size,
      fields: [
        { name: 'a', offset: 0, type: u32 },
        { name: 'in', offset: 4, type: inner },
        { name: 'small', offset: 4 + inner.size, type: { kind: 'array', elem: u32, count: 1000, elemSize: 4 } },
      ],
    };
    const fitted = fitStruct(root, 5000);
    expect(valueCount(fitted)).toBeLessThanOrEqual(5000);
    expect(fitted.fields[2]!.type).toBe(root.fields[2]!.type); // 1001 values: kept
    const fittedInner = fitted.fields[1]!.type as StructType;
    expect(fittedInner.fields.map((f) => f.type.kind)).toEqual(['int', 'opaque']);
    expect(fitStruct(root, 1e9)).toBe(root);
  });

  it('bounds a trailing T data[] at run time: over the budget it is a marker with the bytes it had', () => {
    const elem = wide(499); // 500 values per element
    const layout: EventLayout = {
      typeName: 'struct flex',
      size: 4,
      origin: 'btf',
      root: { kind: 'struct', name: 'flex', size: 4, fields: [{ name: 'n', offset: 0, type: u32 }, { name: 'data', offset: 4, type: { kind: 'array', elem, count: 0, elemSize: 4 } }] },
    };
    const small = new Uint8Array(4 + 4 * 10);
    expect((compileDecoder(layout).decode(small).data as unknown[]).length).toBe(10);
    const big = new Uint8Array(4 + 4 * 1000); // 1000 × 500 values > 200 000
    expect(compileDecoder(layout).decode(big).data).toEqual({ $truncated: { bytes: 4000 } });
    expect(jsonLineOf(compileJsonLineWriter(layout), big)).toBe(JSON.stringify(eventToJson(compileDecoder(layout).decode(big))));
  });
});
