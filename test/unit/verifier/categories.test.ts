// Each failure category on logs the real kernels wrote (6.18 here, 6.1 in QEMU): the
// line a user must look at, the category, the explanation, and the state that shows why.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { programLineInfo, readBpfObject } from '../../../core/elf/bpfObject';
import { explainFailure, VERIFIER_CATEGORIES } from '../../../core/verifier/categories';
import type { LineInfoLookup } from '../../../core/verifier/source';
import { compileFixture } from '../../support/compile';
import { explainFixture, lineOf, verifierFixtures } from './support';

interface Case {
  name: string;
  category: string;
  message: RegExp;
  /** The register the verifier names and what its value must show. */
  culprit?: [string, RegExp];
  fix: RegExp;
}

const cases: Case[] = [
  { name: 'null_check', category: 'null-check', message: /^R1 type=(ringbuf|alloc)_mem_or_null expected=/, culprit: ['R1', /^(ringbuf|alloc)_mem_or_null\(/], fix: /bpf_ringbuf_reserve\(\).*if \(!e\) return 0;/ },
  { name: 'out_of_bounds', category: 'out-of-bounds', message: /R6 unbounded memory access/, culprit: ['R6', /^map_value\(.*umax=(0x7fffffff8|34359738360)/], fix: /Bound the index/ },
  { name: 'unreleased_reference', category: 'unreleased-reference', message: /^Unreleased reference id=\d+ alloc_insn=6/, fix: /bpf_ringbuf_submit\(\) or bpf_ringbuf_discard\(\)/ },
  { name: 'invalid_access', category: 'invalid-access', message: /^R7 invalid mem access 'scalar'$/, culprit: ['R7', /^scalar\(/], fix: /bpf_probe_read_user\(\)/ },
  { name: 'unbounded_loop', category: 'unbounded-loop', message: /^infinite loop detected at insn 6$/, fix: /bpf_loop\(\)/ },
  { name: 'too_complex', category: 'too-complex', message: /^BPF program is too large\. Processed 1000001 insn$/, fix: /bpf_loop\(\)/ },
  { name: 'other', category: 'other', message: /^cannot call GPL-restricted function from non-GPL compatible program$/, fix: /SEC\("license"\) = "GPL"/ },
];

describe('verifier failures on kernel 6.18 (logs from the helper, level 2)', () => {
  it('has a fixture for every category', () => {
    expect(cases.map((c) => c.category).sort()).toEqual([...VERIFIER_CATEGORIES].sort());
  });

  for (const c of cases) {
    it(`${c.name}: ${c.category} on the marked line, with the state that shows why`, () => {
      const { explained, text, file } = explainFixture('6.18', c.name);
      const e = explained.error!;
      const marker = c.name === 'too_complex' ? 'BRANCHES HERE' : 'REJECTED HERE';
      expect(e.at).toMatchObject({ file, line: lineOf(text, marker) });
      expect(e.at.column).toBe(text.split('\n')[e.at.line - 1]!.search(/\S/) + 1);
      expect(e.category).toBe(c.category);
      expect(e.message).toMatch(c.message);
      expect(e.fix).toMatch(c.fix);
      expect(e.hint).toBe(`${e.explanation} ${e.fix}`);
      if (c.culprit) {
        expect(e.culprit?.name).toBe(c.culprit[0]);
        expect(e.culprit?.value).toMatch(c.culprit[1]);
        // The hover shows the same register on the failing instruction, the last step of the path.
        const failing = explained.path.flatMap((l) => l.steps).find((s) => s.failing)!;
        expect(failing.slots.find((s) => s.name === c.culprit![0])?.value).toMatch(c.culprit[1]);
      }
    });
  }

  it('null-check: the record is "or NULL" in plain words, and the path runs reserve → the helper call', () => {
    const { explained, text } = explainFixture('6.18', 'null_check');
    expect(explained.error?.culprit?.summary).toMatch(/reserved ring buffer record or NULL \(32 bytes/);
    expect(explained.error?.explanation).toBe('R1 may be NULL (ringbuf_mem_or_null) where the call needs a valid pointer.');
    const lines = explained.path.map((l) => l.line);
    expect(lines).toContain(lineOf(text, 'bpf_ringbuf_reserve('));
    expect(lines.at(-1)).toBe(lineOf(text, 'REJECTED HERE'));
    const reserve = explained.path.find((l) => l.line === lineOf(text, 'bpf_ringbuf_reserve('))!;
    const call = reserve.steps.find((s) => /call bpf_ringbuf_reserve/.test(s.text))!;
    expect(call.slots.find((s) => s.name === 'R0')).toMatchObject({ written: true, value: expect.stringMatching(/^ringbuf_mem_or_null\(/) });
  });

  it('unreleased-reference: the branch of the leaking path, with where the reference was acquired', () => {
    const { explained, text } = explainFixture('6.18', 'unreleased_reference');
    expect(explained.error?.acquiredAt?.line).toBe(lineOf(text, 'ACQUIRED HERE'));
    // The failing path takes the `pid < 100` branch straight to the exit, skipping the submit.
    const lines = explained.path.map((l) => l.line);
    expect(lines).toContain(lineOf(text, 'REJECTED HERE'));
    expect(lines).not.toContain(lineOf(text, 'bpf_ringbuf_submit('));
    expect(explained.path.at(-1)?.steps.at(-1)).toMatchObject({ text: 'exit', failing: true });
  });

  it('out-of-bounds: the offset range the verifier could not bound', () => {
    const { explained } = explainFixture('6.18', 'out_of_bounds');
    expect(explained.error?.culprit?.summary).toMatch(/map value \(map rbs_v_oob_count, 128-byte value, plus a variable offset in \[0, 0x7fffffff8\]\)/);
  });

  it('too-complex: the figures, and the branching line hottest on the failing path', () => {
    const { explained, log, text } = explainFixture('6.18', 'too_complex');
    expect(log.stats).toMatchObject({ insnsProcessed: 1000001, insnLimit: 1000000, totalStates: expect.any(Number), peakStates: expect.any(Number) });
    expect(explained.heat[0]?.line).toBe(lineOf(text, 'BRANCHES HERE'));
    expect(explained.heatComplete).toBe(false); // a level 1 log: the failing path only
  });

  it('unbounded-loop: the instruction the verifier names, on the loop line', () => {
    const { explained, text } = explainFixture('6.18', 'unbounded_loop');
    expect(explained.error?.insn).toBe(6);
    const loop = explained.path.find((l) => l.line === lineOf(text, 'REJECTED HERE'))!;
    expect(loop.steps.find((s) => s.failing)?.insn).toBe(6);
  });
});

describe('verifier failures on kernel 6.1 (QEMU; annotations name no line)', () => {
  const lineInfo = new Map<string, LineInfoLookup | undefined>();
  beforeAll(async () => {
    for (const c of cases) {
      const obj = await compileFixture(path.join(verifierFixtures, `${c.name}.bpf.c`), { name: `verifier-${c.name}` });
      const info = readBpfObject(obj.bytes);
      lineInfo.set(c.name, programLineInfo(info, info.programs[0]!.name));
    }
  });

  for (const c of cases.filter((x) => x.name !== 'too_complex')) {
    it(`${c.name}: ${c.category} on the marked line, by source text and by the object's line info`, () => {
      const byText = explainFixture('6.1', c.name);
      const byLineInfo = explainFixture('6.1', c.name, { lineInfo: lineInfo.get(c.name)! });
      for (const { explained, text } of [byText, byLineInfo]) {
        expect(explained.error?.at.line).toBe(lineOf(text, 'REJECTED HERE'));
        expect(explained.error?.category).toBe(c.category);
        if (c.culprit) expect(explained.error?.culprit?.value).toMatch(c.culprit[1]);
      }
      expect(byText.log.level).toBe(2);
    });
  }
});

describe('explainFailure on messages of other kernels and tools', () => {
  it.each([
    ["R0 invalid mem access 'map_value_or_null'", 'null-check', /bpf_map_lookup_elem\(\)/],
    ["R1 type=map_value_or_null expected=map_value", 'null-check', /NULL/],
    ['invalid access to map value, value_size=1320 off=1280 size=1024', 'out-of-bounds', /Bound the index/],
    ['R3 max value is outside of the allowed memory range', 'out-of-bounds', /Bound/],
    ["R2 invalid mem access 'inv'", 'invalid-access', /bpf_probe_read/],
    ['R2 !read_ok', 'invalid-access', /Initialise/],
    ['back-edge from insn 12 to 8', 'unbounded-loop', /bpf_loop/],
    ['The sequence of 8193 jumps is too complex.', 'too-complex', /split the program/],
    ['unknown func bpf_loop#181', 'other', /kernel and program type offer/],
    ['something new the kernel says', 'other', /Read the verifier's message/],
  ])('%s → %s', (message, category, fix) => {
    const e = explainFailure(message);
    expect(e.category).toBe(category);
    expect(e.fix).toMatch(fix);
    expect(e.explanation).toMatch(/\.$/);
  });

  it('E2BIG without words (a log cut before the message) is too-complex', () => {
    expect(explainFailure('', 7).category).toBe('too-complex');
  });
});
