import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ElfError, SHF_EXECINSTR, STB_GLOBAL, STT_FUNC, parseElf } from '../../../core/elf/elf';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { StudioError } from '../../../core/util/errors';
import { compileFixture, repoRoot } from '../../support/compile';
import { thrown } from '../../support/thrown';

const fixture = path.join(repoRoot, 'test/fixtures/objects/maps_progs.bpf.c');
let le: Uint8Array;
let be: Uint8Array;

beforeAll(async () => {
  le = (await compileFixture(fixture, { name: 'maps_progs' })).bytes;
  be = (await compileFixture(fixture, { name: 'maps_progs_eb', target: 'bpfeb' })).bytes;
});

describe('parseElf on real clang objects', () => {
  it('reads sections, symbols and relocations of a little-endian object', () => {
    const elf = parseElf(le);
    expect(elf.littleEndian).toBe(true);
    expect(elf.machine).toBe(247);
    const prog = elf.section('tracepoint/sched/sched_process_exec');
    expect(prog).toBeDefined();
    expect(prog!.flags & SHF_EXECINSTR).toBeTruthy();
    expect(prog!.data.length).toBe(prog!.size);
    expect(elf.section('.BTF')?.size).toBeGreaterThan(0);
    const handleExec = elf.symbols.find((s) => s.name === 'handle_exec');
    expect(handleExec).toMatchObject({ type: STT_FUNC, bind: STB_GLOBAL, sectionIndex: prog!.index });
    // The first ld_imm64 of handle_exec loads &events (insn 1, byte offset 8).
    const rels = elf.relocationsFor(prog!);
    const first = rels.find((r) => r.offset === 8);
    expect(first && elf.symbols[first.symbolIndex]?.name).toBe('events');
  });

  it('reads a big-endian (bpfeb) object the same way', () => {
    const a = parseElf(le);
    const b = parseElf(be);
    expect(b.littleEndian).toBe(false);
    expect(b.sections.map((s) => s.name).filter((n) => !n.startsWith('.debug')).sort()).toEqual(
      a.sections.map((s) => s.name).filter((n) => !n.startsWith('.debug')).sort(),
    );
    const names = (f: typeof a): string[] => f.symbols.filter((s) => s.type === STT_FUNC).map((s) => s.name).sort();
    expect(names(b)).toEqual(names(a));
  });
});

describe('parseElf rejects bad input with a cause and a fix', () => {
  it('not an ELF file', () => {
    const err = thrown(() => parseElf(new TextEncoder().encode('#include <vmlinux.h>\nint x;\n')));
    expect(err).toBeInstanceOf(ElfError);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as ElfError).message).toContain('not an ELF file');
    expect((err as ElfError).hint).toContain('clang');
  });

  it('a 32-bit ELF', () => {
    const b = new Uint8Array(64);
    b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    expect(thrown(() => parseElf(b)).message).toMatch(/32-bit/);
  });

  it('names the section header where the file is cut', () => {
    const dv = new DataView(le.buffer, le.byteOffset, le.byteLength);
    const shoff = Number(dv.getBigUint64(40, true));
    const cut = le.slice(0, shoff + 5 * 64 + 10);
    const err = thrown(() => parseElf(cut));
    expect(err).toBeInstanceOf(ElfError);
    expect(err.message).toContain('truncated at section header 5');
  });

  it('an x86-64 executable is not a BPF object', () => {
    const bin = new Uint8Array(fs.readFileSync('/bin/true'));
    const err = thrown(() => readBpfObject(bin, { file: '/bin/true' }));
    expect(err).toBeInstanceOf(ElfError);
    expect(err.message).toMatch(/not a BPF object \(machine 62, x86-64\); compile with clang -target bpf/);
    expect(err.message).toContain('/bin/true');
  });

  it('a big-endian object for a little-endian target', () => {
    const err = thrown(() => readBpfObject(be, { targetEndian: 'little' }));
    expect(err.message).toContain('object is big-endian (bpfeb) but the target is little-endian; compile with -target bpf');
  });
});
