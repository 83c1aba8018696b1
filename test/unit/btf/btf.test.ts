import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Btf, BtfStruct } from '../../../core/btf/btf';
import { BtfError, parseBtf } from '../../../core/btf/btf';
import { parseElf } from '../../../core/elf/elf';
import { layoutOf } from '../../../core/btf/layout';
import { compileFixture, repoRoot } from '../../support/compile';
import { BtfBuilder } from './btfBuilder';
import { thrown } from '../../support/thrown';

const kindsFixture = path.join(repoRoot, 'test/fixtures/objects/kinds.bpf.c');
let btf: Btf;
let btfBe: Btf;

beforeAll(async () => {
  const obj = await compileFixture(kindsFixture, { name: 'kinds' });
  btf = parseBtf(parseElf(obj.bytes).section('.BTF')!.data);
  const eb = await compileFixture(kindsFixture, { name: 'kinds_eb', target: 'bpfeb' });
  btfBe = parseBtf(parseElf(eb.bytes).section('.BTF')!.data);
});

describe('parseBtf on a clang-compiled object', () => {
  it('finds struct record with its members and bit offsets', () => {
    const rec = btf.findByName('record', 'struct') as BtfStruct;
    expect(rec.kind).toBe('struct');
    const names = rec.members.map((m) => m.name);
    expect(names.slice(0, 5)).toEqual(['pid', 'signed_val', 'big_signed', 'big_unsigned', 'comm']);
    const comm = rec.members.find((m) => m.name === 'comm')!;
    expect(comm.bitOffset).toBe(24 * 8);
    expect(btf.typeName(comm.type)).toBe('char[16]');
    expect(btf.typeName(rec.members.find((m) => m.name === 'matrix')!.type)).toBe('__u16[2][3]');
    expect(btf.typeName(rec.members.find((m) => m.name === 'pid')!.type)).toBe('pid_type');
    expect(btf.typeName(rec.id)).toBe('struct record');
    // kind_flag bitfields: width in the member's offset word.
    const level = rec.members.find((m) => m.name === 'level')!;
    expect(level.bitfieldSize).toBe(3);
    const thing = rec.members.find((m) => m.name === 'thing')!;
    expect(btf.typeName(thing.type)).toBe('struct opaque_thing *');
    expect(btf.resolve(btf.type(thing.type).kind === 'ptr' ? (btf.type(thing.type) as { type: number }).type : 0).kind).toBe('fwd');
    expect(btf.typeName(rec.members.find((m) => m.name === 'cv')!.type)).toBe('const volatile __u64');
  });

  it('has every kind clang 14 emits, each decodable', () => {
    const kinds = new Set(btf.types.map((t) => t.kind));
    for (const k of ['int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const', 'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag']) {
      expect(kinds, k).toContain(k);
    }
    const tag = btf.types.find((t) => t.kind === 'decl_tag' && t.name === 'event_type:pair_rb');
    expect(tag && btf.typeName((tag as { type: number }).type)).toBe('struct record');
    expect(btf.declTagsOf(btf.findByName('record', 'struct')!.id).map((t) => t.name)).toContain('event_type:pair_rb');
    const color = btf.findByName('color', 'enum');
    expect(color).toMatchObject({ kind: 'enum', values: expect.arrayContaining([{ name: 'BLUE', value: 7 }]) as unknown });
    const helper = btf.findByName('helper_fn', 'func');
    expect(helper && btf.typeName((helper as { type: number }).type)).toBe('int (*)(int * restrict, const char *)');
  });

  it('reads big-endian BTF identically', () => {
    expect(btfBe.littleEndian).toBe(false);
    expect(JSON.stringify(layoutOf(btfBe, 'struct record'))).toBe(JSON.stringify(layoutOf(btf, 'struct record')));
  });

  it('resolve skips typedef/const/volatile and findByName misses cleanly', () => {
    const rec = btf.findByName('record', 'struct') as BtfStruct;
    const cv = rec.members.find((m) => m.name === 'cv')!;
    expect(btf.resolve(cv.type)).toMatchObject({ kind: 'int', size: 8 });
    expect(btf.findByName('no_such_type')).toBeUndefined();
    expect(thrown(() => btf.type(1e9))).toBeInstanceOf(BtfError);
  });
});

describe('hand-written BTF', () => {
  it('ENUM64 (signed and unsigned) and TYPE_TAG', () => {
    const b = new BtfBuilder();
    const u64 = b.int('unsigned long long', 8);
    // ENUM64 unsigned with a value above 2^63.
    const e = b.add('big', 19, 2, false, 8, [b.str('SMALL'), 1, 0, b.str('HUGE'), 0xfffffff0, 0xffffffff]);
    const es = b.add('sbig', 19, 1, true, 8, [b.str('MINUS'), 0xfffffffe, 0xffffffff]);
    const tt = b.add('user', 18, 0, false, u64);
    const ptr = b.add('', 2, 0, false, tt);
    const parsed = parseBtf(b.build());
    expect(parsed.type(e)).toMatchObject({ kind: 'enum64', values: [{ name: 'SMALL', value: 1n }, { name: 'HUGE', value: 0xfffffffffffffff0n }] });
    expect(parsed.type(es)).toMatchObject({ kind: 'enum64', signed: true, values: [{ name: 'MINUS', value: -2n }] });
    expect(parsed.type(tt)).toMatchObject({ kind: 'type_tag', name: 'user', type: u64 });
    expect(parsed.resolve(tt).id).toBe(u64);
    expect(parsed.typeName(ptr)).toBe('unsigned long long *');
    const be = parseBtf(b.build(false));
    expect(be.type(e)).toEqual(parsed.type(e));
  });

  it('a typedef cycle is a BtfError, not a hang', () => {
    const b = new BtfBuilder();
    const a = b.add('a', 8, 0, false, 2); // typedef a -> 2
    b.add('b', 8, 0, false, 1); // typedef b -> 1
    const parsed = parseBtf(b.build());
    const err = thrown(() => parsed.resolve(a));
    expect(err).toBeInstanceOf(BtfError);
    expect(err.message).toMatch(/cycle/);
    expect(parsed.typeName(a)).toContain('a');
    expect(thrown(() => layoutOf(parsed, a))).toBeInstanceOf(BtfError);
  });

  it('rejects bad magic, bad references and truncation with the cause', () => {
    expect(thrown(() => parseBtf(new Uint8Array(30))).message).toMatch(/bad magic/);
    const b = new BtfBuilder();
    b.add('p', 2, 0, false, 99);
    expect(thrown(() => parseBtf(b.build())).message).toMatch(/refers to type 99/);
    const ok = new BtfBuilder();
    ok.int('int', 4, 1);
    const bytes = ok.build();
    expect(thrown(() => parseBtf(bytes.subarray(0, 30))).message).toMatch(/runs past the end|truncated/);
  });
});

const vmlinuxPath = '/sys/kernel/btf/vmlinux';
describe.skipIf(!fs.existsSync(vmlinuxPath))('kernel BTF (/sys/kernel/btf/vmlinux)', () => {
  it('parses and lays out task_struct', () => {
    const k = parseBtf(new Uint8Array(fs.readFileSync(vmlinuxPath)));
    expect(k.count).toBeGreaterThan(10_000);
    const layout = layoutOf(k, 'task_struct');
    expect(layout.typeName).toBe('struct task_struct');
    const pid = layout.root.fields.find((f) => f.name === 'pid');
    expect(pid?.type).toMatchObject({ kind: 'int', size: 4, signed: true });
    const comm = layout.root.fields.find((f) => f.name === 'comm');
    expect(comm?.type).toMatchObject({ kind: 'array', count: 16, elem: { kind: 'int', char: true } });
    expect(layout.size).toBe(k.sizeOf(k.findByName('task_struct', 'struct')!.id));
    // Kinds clang 14 does not emit are present in kernel BTF.
    const kinds = new Set<string>();
    for (let id = 1; id < k.count; id++) kinds.add(k.kindOf(id));
    expect(kinds).toContain('enum64');
    for (let id = 1; id < k.count; id++) if (k.kindOf(id) === 'enum64') expect(k.typeName(id)).toMatch(/^enum /);
  });
});

describe('layoutOf by name', () => {
  it('finds typedefs of anonymous structs and wraps scalars in a one-field struct', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const anon = b.add('', 4, 1, false, 4, [b.str('pid'), u32, 0]);
    b.add('event_t', 8, 0, false, anon);
    const u64 = b.int('unsigned long long', 8);
    b.add('ts_t', 8, 0, false, u64);
    const btfh = parseBtf(b.build());
    expect(layoutOf(btfh, 'event_t')).toMatchObject({ typeName: 'event_t', size: 4, root: { kind: 'struct', fields: [{ name: 'pid', offset: 0 }] } });
    expect(layoutOf(btfh, 'ts_t')).toMatchObject({ typeName: 'ts_t', size: 8, root: { fields: [{ name: 'value', type: { kind: 'int', size: 8 } }] } });
    const err = thrown(() => layoutOf(btfh, 'struct missing'));
    expect(err).toBeInstanceOf(BtfError);
    expect(err.message).toContain("type 'struct missing' is not in the object's BTF");
  });
});
