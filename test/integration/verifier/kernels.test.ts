// The same object on this host (6.18) and the four built-in VM kernels (qemu:debian-5.10, -6.1,
// -6.12, -6.12-arm64-16k) at once, through the public API as a user asks: one program per
// failure category and one that passes, each verified on its own, so one verification per
// kernel covers every category — each on its marked line, with the state the kernel printed
// (its own words and register types). And a real per-kernel difference: too_complex is
// rejected at the 1M-instruction limit here and loads on 6.1. Guests already running are
// reused (and left running); the ones this file boots are stopped at its end.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyProgram, type ProgramVerdict, type TargetVerdict } from '../../../core/run/verify';
import { CATALOGUE } from '../../../core/transport/qemu/catalogue';
import { available } from '../../support/prereq';
import { connectTestGuest, type TestGuest } from '../../support/vm';
import { prepare, root } from '../run/support';

const dir = path.join(root, 'test/fixtures/verifier');
const fixture = (name: string): string => path.join(dir, `${name}.bpf.c`);
const lineOf = (file: string, marker: string): number => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;
const every = fixture('every_category');

/** 'local' or a catalogue kernel's name. */
type Kernel = string;
const series = (k: Kernel): string => (k === 'local' ? '6.18' : k.replace(/^debian-/, '').replace(/-arm64-16k$/, ''));

/** What each kernel prints: the register type of a reserved record that may be NULL, a plain number, a missing helper. */
function wordsOf(k: Kernel): { nullable: string; scalar: RegExp; otherHelper: RegExp } {
  const s = series(k);
  return {
    nullable: s === '5.10' ? 'mem_or_null' : s === '6.1' ? 'alloc_mem_or_null' : 'ringbuf_mem_or_null',
    scalar: s === '5.10' ? /^inv\(id=0\)$/ : /^scalar\(\)$/,
    otherHelper: s === '5.10' || s === '6.1' ? /^unknown func bpf_xdp_adjust_head#44$/ : /^program of this type cannot use helper bpf_xdp_adjust_head#44$/,
  };
}

/** The slot the failing instruction shows (what the hover shows in bold). */
function failingSlot(p: ProgramVerdict, name: string): string | undefined {
  const failing = p.explanation?.path.flatMap((l) => l.steps).find((s) => s.failing);
  return failing?.slots.find((s) => s.name === name)?.value;
}

describe.skipIf(!(available('bpf') && available('qemu')))('verify on this host and the four VM kernels at once', () => {
  const kernels: Kernel[] = ['local', ...CATALOGUE.map((k) => k.name)];
  const spec = (k: Kernel): string => (k === 'local' ? 'local' : `qemu:${k}`);
  let guests: TestGuest[] = [];
  let verdicts: TargetVerdict[] = [];
  const on = (k: Kernel): TargetVerdict => {
    const v = verdicts.find((x) => x.target === spec(k));
    if (!v || v.failure) throw new Error(`${spec(k)}: ${v?.failure?.message ?? 'no verdict'}`);
    return v;
  };
  const program = (k: Kernel, name: string): ProgramVerdict => {
    const p = on(k).programs.find((x) => x.name === name);
    if (!p) throw new Error(`${spec(k)}: no verdict for ${name}`);
    return p;
  };

  beforeAll(async () => {
    prepare();
    guests = await Promise.all(CATALOGUE.map((k) => connectTestGuest(`qemu:${k.name}`)));
    verdicts = await verifyProgram(every, { targets: kernels.map(spec) });
  }, 900_000); // the first use may download the kernels
  afterAll(async () => {
    await Promise.all(guests.map((g) => g.done()));
  });

  it('a verdict per target in the order asked, each naming its kernel and arch', () => {
    expect(verdicts.map((v) => v.target)).toEqual(kernels.map(spec));
    for (const [i, k] of CATALOGUE.entries()) {
      expect(on(k.name).kernel).toBe(guests[i]?.target.record.kernel.release);
      expect(on(k.name).arch).toBe(k.arch);
    }
  });

  for (const k of kernels) {
    describe(spec(k), () => {
      it('null-check: the record from bpf_ringbuf_reserve written before a NULL check, the register may be NULL', () => {
        const p = program(k, 'rbs_vk_null');
        expect(p.error).toMatchObject({ category: 'null-check', message: `R6 invalid mem access '${wordsOf(k).nullable}'`, at: { file: every, line: lineOf(every, 'null-check HERE') } });
        expect(failingSlot(p, 'R6')).toMatch(new RegExp(`^${wordsOf(k).nullable}\\(id=\\d+,ref_obj_id=\\d+,`));
      });

      it('out-of-bounds: an unchecked index into the map value, the pointer\'s range unbounded', () => {
        const p = program(k, 'rbs_vk_oob');
        expect(p.error).toMatchObject({ category: 'out-of-bounds', message: 'R6 unbounded memory access, make sure to bounds check any such access', at: { line: lineOf(every, 'out-of-bounds HERE') } });
        expect(failingSlot(p, 'R6')).toMatch(/^map_value\(.*var_off=\(0x0; 0x7fffffff8\)/);
      });

      it('unreleased-reference: the leaking branch, with the reserve as where it was acquired', () => {
        const p = program(k, 'rbs_vk_leak');
        expect(p.error).toMatchObject({ category: 'unreleased-reference', at: { line: lineOf(every, 'unreleased-reference HERE') }, acquiredAt: { line: lineOf(every, 'ACQUIRED HERE') } });
        expect(p.error?.message).toMatch(/^Unreleased reference id=\d+ alloc_insn=\d+/);
      });

      it('invalid-access: a tracepoint argument (a plain number) dereferenced', () => {
        const p = program(k, 'rbs_vk_scalar');
        expect(p.error).toMatchObject({ category: 'invalid-access', at: { line: lineOf(every, 'invalid-access HERE') } });
        expect(p.error?.message).toMatch(/^R1 invalid mem access '(inv|scalar)'$/);
        expect(failingSlot(p, 'R1')).toMatch(wordsOf(k).scalar);
      });

      it('unbounded-loop: a loop waiting for a flag nothing changes', () => {
        const p = program(k, 'rbs_vk_loop');
        expect(p.error).toMatchObject({ category: 'unbounded-loop', message: expect.stringMatching(/^infinite loop detected at insn \d+$/), at: { line: lineOf(every, 'unbounded-loop HERE') } });
      });

      it('other: a helper of another program type, in this kernel\'s words', () => {
        const p = program(k, 'rbs_vk_xdp_helper');
        expect(p.error).toMatchObject({ category: 'other', at: { line: lineOf(every, 'other HERE') } });
        expect(p.error?.message).toMatch(wordsOf(k).otherHelper);
      });

      it('the program that passes: loaded, with its figures and a complete heat map', () => {
        const p = program(k, 'rbs_vk_good');
        expect(p).toMatchObject({ loaded: true, error: null, logLevel: 2 });
        expect(p.insnsProcessed).toBeGreaterThan(10);
        expect(p.totalStates).toEqual(expect.any(Number));
        expect(p.explanation?.heatComplete).toBe(true);
        expect(p.explanation?.heat.map((h) => h.line)).toContain(lineOf(every, 'e->ts = bpf_ktime_get_ns();'));
      });
    });
  }

  it('too_complex: rejected at the 1M-instruction limit on 6.18, loads on 6.1 (it does not fork states on `r &= K` there)', async () => {
    const [host, old] = await verifyProgram(fixture('too_complex'), { targets: ['local', 'qemu:debian-6.1'], heatMap: 'never' });
    expect(host?.programs[0]).toMatchObject({ loaded: false, insnsProcessed: 1000001, error: { category: 'too-complex' } });
    expect(old?.failure).toBeUndefined();
    expect(old?.programs[0]).toMatchObject({ loaded: true, error: null, logLevel: 0 });
    expect(old?.programs[0]?.insnsProcessed).toBeLessThan(1_000_000);
  }, 300_000);
});
