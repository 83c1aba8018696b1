// Mutated objects and BTF blobs must end in ElfError/BtfError — never another
// exception, a crash or a hang. Deterministic (seeded); set FUZZ_SEED to explore.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BtfError, parseBtf } from '../../../core/btf/btf';
import type { Btf } from '../../../core/btf/btf';
import { parseBtfExt } from '../../../core/btf/btfExt';
import { layoutOf } from '../../../core/btf/layout';
import { compileDecoder } from '../../../core/decode/decode';
import { findDeclaredEventTypes, resolveEventLayouts } from '../../../core/decode/eventTypes';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { ElfError, parseElf } from '../../../core/elf/elf';
import { rng } from '../../fuzz/mutate';
import { compileFixture, repoRoot } from '../../support/compile';

const seed = Number(process.env.FUZZ_SEED ?? 0x5eed);
const dir = path.join(repoRoot, 'test/fixtures/objects');
const seeds: Array<{ name: string; bytes: Uint8Array }> = [];

beforeAll(async () => {
  seeds.push({ name: 'maps_progs', bytes: (await compileFixture(path.join(dir, 'maps_progs.bpf.c'), { name: 'maps_progs' })).bytes });
  seeds.push({ name: 'kinds', bytes: (await compileFixture(path.join(dir, 'kinds.bpf.c'), { name: 'kinds' })).bytes });
  seeds.push({ name: 'kinds_eb', bytes: (await compileFixture(path.join(dir, 'kinds.bpf.c'), { name: 'kinds_eb', target: 'bpfeb' })).bytes });
});

const HUGE = [0xffffffff, 0x7fffffff, 0x80000000, 0xffff, 0x10000, 0, 1, 24, 64];

/** Uses the result the way the product does: maps, programs, layouts, decoding. */
function exerciseBtf(btf: Btf, r: () => number): void {
  let structs = 0;
  for (let id = 0; id < btf.count && structs < 40; id++) {
    const k = btf.kindOf(id);
    btf.typeName(id);
    if (k === 'typedef' || k === 'const' || k === 'volatile') btf.resolve(id);
    if (k !== 'struct' && k !== 'union') continue;
    structs++;
    const layout = layoutOf(btf, id);
    const dec = compileDecoder(layout, { littleEndian: btf.littleEndian, codegen: r() < 0.5 });
    const n = Math.min(layout.size, 4096);
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = (r() * 256) | 0;
    const ev = dec.decode(bytes, 0, Math.floor(r() * (n + 1)));
    for (const c of dec.columns) {
      c.format(c.get(ev));
      c.hex?.(c.get(ev));
    }
    JSON.stringify(layout);
  }
}

function exerciseObject(bytes: Uint8Array, r: () => number): void {
  const obj = readBpfObject(bytes, { file: 'fuzz.o' });
  findDeclaredEventTypes(obj);
  resolveEventLayouts(obj, obj.maps.map((m) => ({ map: m.name, typeName: 'struct record', line: 1, how: 'fuzz' })));
  if (obj.btf) exerciseBtf(obj.btf, r);
}

function mutateElf(src: Uint8Array, r: () => number): { bytes: Uint8Array; what: string } {
  const b = src.slice();
  const dv = new DataView(b.buffer);
  const le = b[5] === 1;
  const pick = Math.floor(r() * 6);
  const shoff = Number(dv.getBigUint64(40, le));
  const shnum = dv.getUint16(60, le);
  switch (pick) {
    case 0: {
      const n = 1 + Math.floor(r() * 16);
      for (let i = 0; i < n; i++) {
        const at = Math.floor(r() * b.length);
        b[at] = (b[at] ?? 0) ^ (1 << Math.floor(r() * 8));
      }
      return { bytes: b, what: `flip ${n} bits` };
    }
    case 1: {
      const len = Math.floor(r() * b.length);
      return { bytes: b.slice(0, len), what: `truncate to ${len}` };
    }
    case 2: {
      const idx = Math.floor(r() * shnum);
      const field = [0, 4, 24, 32, 40, 44, 56][Math.floor(r() * 7)] ?? 0;
      const v = HUGE[Math.floor(r() * HUGE.length)] ?? 0;
      const at = shoff + idx * 64 + field;
      if (field === 24 || field === 32 || field === 56) dv.setBigUint64(at, BigInt(v) * (r() < 0.3 ? 0x100000000n : 1n), le);
      else dv.setUint32(at, v, le);
      return { bytes: b, what: `section header ${idx} field +${field} = ${v}` };
    }
    case 3: {
      const which = [60, 62, 58][Math.floor(r() * 3)] ?? 60;
      dv.setUint16(which, HUGE[Math.floor(r() * HUGE.length)]! & 0xffff, le);
      return { bytes: b, what: `ELF header u16 at ${which}` };
    }
    case 4: {
      // Random bytes inside one section (BTF, BTF.ext, code, relocations, symbols…).
      const sections = parseElf(src).sections.filter((s) => s.size > 0 && s.type !== 8);
      const s = sections[Math.floor(r() * sections.length)]!;
      const n = 1 + Math.floor(r() * 8);
      for (let i = 0; i < n; i++) {
        const at = s.offset + Math.floor(r() * s.size);
        b[at] = r() < 0.5 ? 0xff : (r() * 256) | 0;
      }
      return { bytes: b, what: `scribble ${n} bytes in ${s.name}` };
    }
    default: {
      // A random 32-bit word inside the BTF or BTF.ext set to a huge/edge value.
      const elf = parseElf(src);
      const s = (r() < 0.7 ? elf.section('.BTF') : elf.section('.BTF.ext')) ?? elf.sections[1]!;
      const at = s.offset + 4 * Math.floor((r() * s.size) / 4);
      if (at + 4 <= b.length) dv.setUint32(at, HUGE[Math.floor(r() * HUGE.length)]!, le);
      return { bytes: b, what: `${s.name} word at +${at - s.offset}` };
    }
  }
}

/** Mutations on a raw BTF blob: headers, vlen/kind words, and type references turned into cycles. */
function mutateBtf(src: Uint8Array, r: () => number): { bytes: Uint8Array; what: string } {
  const b = src.slice();
  const le = b[0] === 0x9f;
  const dv = new DataView(b.buffer);
  const hdr = dv.getUint32(4, le);
  const typeLen = dv.getUint32(12, le);
  const word = (): number => hdr + 4 * Math.floor((r() * typeLen) / 4);
  const pick = Math.floor(r() * 5);
  switch (pick) {
    case 0: {
      const at = 4 * Math.floor(r() * 6);
      dv.setUint32(at, HUGE[Math.floor(r() * HUGE.length)]!, le);
      return { bytes: b, what: `header word ${at / 4}` };
    }
    case 1: {
      // A type reference to a nearby id: creates cycles through typedef/ptr/array/struct.
      const at = word();
      dv.setUint32(at, 1 + Math.floor(r() * 60), le);
      return { bytes: b, what: `word +${at} = small id` };
    }
    case 2: {
      const at = word();
      dv.setUint32(at, (dv.getUint32(at, le) & 0xffff0000) | 0xffff, le);
      return { bytes: b, what: `vlen 0xffff at +${at}` };
    }
    case 3: {
      const len = Math.floor(r() * b.length);
      return { bytes: b.slice(0, len), what: `truncate ${len}` };
    }
    default: {
      const n = 1 + Math.floor(r() * 8);
      for (let i = 0; i < n; i++) {
        const at = Math.floor(r() * b.length);
        b[at] = (b[at] ?? 0) ^ (1 << Math.floor(r() * 8));
      }
      return { bytes: b, what: `flip ${n} bits` };
    }
  }
}

function expectTyped(run: () => void, what: string, failures: string[]): void {
  try {
    run();
  } catch (err) {
    if (err instanceof ElfError || err instanceof BtfError) return;
    failures.push(`${what}: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err)}`);
  }
}

describe('fuzz: malformed objects and BTF give typed errors', () => {
  it('mutated ELF objects (2000)', () => {
    const r = rng(seed);
    const failures: string[] = [];
    let typed = 0;
    for (let i = 0; i < 2000; i++) {
      const s = seeds[i % seeds.length]!;
      const { bytes, what } = mutateElf(s.bytes, r);
      const before = failures.length;
      try {
        exerciseObject(bytes, r);
      } catch (err) {
        if (err instanceof ElfError || err instanceof BtfError) typed++;
        else failures.push(`#${i} ${s.name} ${what}: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err)}`);
      }
      if (failures.length > before && failures.length > 5) break;
    }
    expect(failures, `seed ${seed}`).toEqual([]);
    expect(typed).toBeGreaterThan(100); // the mutations do hit the error paths
  }, 180_000);

  it('mutated BTF blobs incl. reference cycles (2000)', () => {
    const r = rng(seed + 1);
    const failures: string[] = [];
    const blobs = seeds.map((s) => {
      const elf = parseElf(s.bytes);
      return { name: s.name, btf: elf.section('.BTF')!.data.slice(), ext: elf.section('.BTF.ext')!.data.slice() };
    });
    for (let i = 0; i < 2000 && failures.length < 5; i++) {
      const s = blobs[i % blobs.length]!;
      const { bytes, what } = mutateBtf(s.btf, r);
      expectTyped(() => {
        const btf = parseBtf(bytes);
        exerciseBtf(btf, r);
        parseBtfExt(s.ext, btf);
      }, `#${i} ${s.name} ${what}`, failures);
      const ext = mutateBtf(s.ext, r);
      expectTyped(() => parseBtfExt(ext.bytes, parseBtf(s.btf)), `#${i} ${s.name} .BTF.ext ${ext.what}`, failures);
    }
    expect(failures, `seed ${seed}`).toEqual([]);
  }, 180_000);
});
