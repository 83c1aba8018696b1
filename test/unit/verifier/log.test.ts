// The structured verifier log on real logs: level 1 and level 2, kernels 6.18 and 6.1,
// paths rebuilt from the verifier's depth-first walk, states carried along them, frames,
// heat maps, logs that lost their head, and text it does not know.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseVerifierLog, VerifierLogParser } from '../../../core/verifier/log';
import { describeValue, parseState, slotsOfInstruction } from '../../../core/verifier/state';
import { explainFixture, fixtureLog, lineOf } from './support';

const insns = (log: ReturnType<typeof parseVerifierLog>): number[] => log.path.map((s) => s.insn);

describe('level 2 (every path): the failing path is rebuilt from the depth-first walk', () => {
  it('6.18: the branch the verifier came back to is where the failing path leaves the first one', () => {
    const log = parseVerifierLog(fixtureLog('6.18', 'unreleased_reference'));
    expect(log.level).toBe(2);
    // First path: 0…19 through the submit; the failing one resumes at `from 14 to 18`.
    expect(insns(log)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 18, 19]);
    expect([...log.branches.values()]).toEqual([{ from: 14, to: 18, count: 1 }]);
    expect(log.pathEnds).toEqual({ exits: 2, pruned: 0 });
    expect(log.stats).toEqual({ insnsProcessed: 21, insnLimit: 1000000, maxStatesPerInsn: 1, totalStates: 2, peakStates: 2, markRead: 0 });
    expect(log.error).toEqual({ message: 'Unreleased reference id=3 alloc_insn=6', details: ['BPF_EXIT instruction in main prog would lead to reference leak'], insn: 19, acquiredInsn: 6 });
    // The state carried to the leaking exit: the full state the branch resumed with.
    const exit = log.path.at(-1)!;
    expect(Object.fromEntries(exit.before.slots.map((s) => [s.name, s.value]))).toMatchObject({ R6: 'scalar(smin=smin32=0,smax=umax=smax32=umax32=99,var_off=(0x0; 0x7f))', R7: 'ringbuf_mem(ref_obj_id=3,sz=16)', R0: '0' });
    expect(exit.before.refs).toBe('3');
  });

  it('6.1: the same walk with `_w` marks, alloc_mem and annotations without line numbers', () => {
    const log = parseVerifierLog(fixtureLog('6.1', 'unreleased_reference'));
    expect(log.level).toBe(2);
    expect(insns(log)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 18, 19]);
    const at14 = log.path.find((s) => s.insn === 14)!;
    expect(at14.after.slots).toEqual([{ name: 'R1', value: '100' }, { name: 'R6', value: 'scalar(umin=100,umax=4294967295,var_off=(0x0; 0xffffffff))' }]);
    expect(at14.source).toEqual({ file: '', line: 0, text: 'if (pid < 100) /* REJECTED HERE */' });
  });

  it('a loop: the path runs the loop line again, and the error names the instruction it came back to', () => {
    const log = parseVerifierLog(fixtureLog('6.18', 'unbounded_loop'));
    expect(insns(log).slice(-4)).toEqual([6, 7, 6, 7]);
    expect(log.pathEnds.pruned).toBe(1);
    expect(log.error?.insn).toBe(6);
    expect(log.error?.details[0]).toMatch(/^cur state: R1=1 /);
  });

  it('a failure inside a called function: frames, the callee\'s state, the path through the call', () => {
    const { log, explained, text } = explainFixture('6.18', 'subprogram');
    expect(insns(log)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 11, 12, 13, 20, 21]);
    const failing = log.path.at(-1)!;
    expect(failing.frame).toBe(1);
    expect(failing.before.slots.find((s) => s.name === 'R6')?.value).toBe('ringbuf_mem_or_null(id=3,ref_obj_id=3,sz=16)');
    expect(explained.error?.at.line).toBe(lineOf(text, 'REJECTED HERE'));
    expect(explained.path.map((l) => [l.line, l.pass])).toEqual([[26, 1], [27, 1], [26, 2], [29, 1], [31, 1], [16, 1], [18, 1]]);
  });
});

describe('kernels differ', () => {
  it('the same program on 6.1: through the callee and back, then rejected for the reference it still holds', () => {
    const { log, explained, text } = explainFixture('6.1', 'subprogram');
    expect(explained.error?.category).toBe('unreleased-reference');
    expect(log.path.some((s) => s.frame === 1)).toBe(true);
    expect(explained.error?.acquiredAt?.line).toBe(lineOf(text, 'bpf_ringbuf_reserve('));
    expect(explained.error?.at.line).toBe(lineOf(text, 'if (e)'));
  });
});

describe('level 1 (the failing path only; the log is rewound at each branch)', () => {
  it('a loop at level 1: the error printed on the jump\'s own line is the error, and the jump keeps its target', () => {
    // 6.18: `7: (15) if r3 == 0x0 goto pc-2 infinite loop detected at insn 6` — no line break before the words.
    const { log, explained, text } = explainFixture('6.18', 'unbounded_loop_level1');
    expect(log.error).toMatchObject({ message: 'infinite loop detected at insn 6', insn: 6 });
    expect(log.error?.details[0]).toMatch(/^cur state: R1=1 /);
    expect(log.path.at(-1)).toMatchObject({ insn: 7, text: 'if r3 == 0x0 goto pc-2' });
    expect(explained.error).toMatchObject({ category: 'unbounded-loop', at: { line: lineOf(text, 'REJECTED HERE') } });
  });

  it('6.18: the popped branch\'s state on the line of the jump is the next step\'s state', () => {
    const log = parseVerifierLog(fs.readFileSync(path.resolve(__dirname, '../../fixtures/run/logs/verifier_leak.log'), 'utf8'));
    expect(log.level).toBe(1);
    expect(insns(log).slice(-4)).toEqual([10, 11, 15, 16]);
    const at15 = log.path.find((s) => s.insn === 15)!;
    expect(at15.before.slots.map((s) => s.name)).toEqual(['R0', 'R6', 'R10']);
    expect(at15.before.slots.find((s) => s.name === 'R6')?.value).toBe('1');
  });

  it('a state forked at an instruction (6.18 on `r &= K`) runs it again without a duplicate step', () => {
    const log = parseVerifierLog(fixtureLog('6.18', 'too_complex'));
    expect(log.level).toBe(1);
    const path = insns(log);
    expect(path.filter((i) => i === 227)).toHaveLength(1);
    expect(path.at(-1)).toBe(231);
    expect(log.stats?.insnsProcessed).toBe(1000001);
  });
});

describe('complexity: visits per source line', () => {
  it('a loop that loads (level 2): every processed instruction is counted, the loop body is hottest', () => {
    const { log, explained, text } = explainFixture('6.18', 'loop_12_iterations', { loaded: true });
    expect(explained.error).toBeUndefined();
    expect(log.instructionsSeen).toBe(log.stats?.insnsProcessed);
    expect(explained.heatComplete).toBe(true);
    const hot = lineOf(text, 'HOT LOOP');
    const hotInsns = [...log.sources].filter(([, s]) => s.line === hot).length;
    expect(explained.heat[0]).toEqual({ file: expect.stringMatching(/near_limit\.bpf\.c$/), line: hot, visits: 12 * hotInsns });
    expect(explained.heat[1]?.line).toBe(lineOf(text, 'for (__u32 i = 0'));
    // Compiler-generated instructions (line 0) have no source line; everything else is on one.
    const unplaced = [...log.visits].filter(([insn]) => !log.sources.get(insn)?.line).reduce((n, [, v]) => n + v, 0);
    expect(explained.heat.reduce((n, h) => n + h.visits, 0) + unplaced).toBe(log.stats?.insnsProcessed);
  });

  it('a log that lost its head (kernels keep the tail of an overflowing log): partial heat, hot loop still first', () => {
    const full = fixtureLog('6.18', 'loop_12_iterations');
    const tail = full.slice(Math.floor(full.length * 0.4));
    const log = parseVerifierLog(tail);
    expect(log.truncatedStart).toBe(true);
    expect(log.pathIncomplete).toBe(true);
    expect(log.instructionsSeen).toBeLessThan(log.stats!.insnsProcessed);
    const { explained, text } = explainFixture('6.18', 'loop_12_iterations', { loaded: true });
    expect(explained.heat[0]?.line).toBe(lineOf(text, 'HOT LOOP'));
  });
});

describe('robustness', () => {
  it('chunks of any size give the same result as the whole log', () => {
    const text = fixtureLog('6.18', 'subprogram');
    const whole = parseVerifierLog(text);
    for (const size of [1, 7, 64, 1000]) {
      const p = new VerifierLogParser();
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
      const parsed = p.finish();
      expect(insns(parsed)).toEqual(insns(whole));
      expect(parsed.error).toEqual(whole.error);
      expect([...parsed.visits]).toEqual([...whole.visits]);
    }
  });

  it('text it does not know is counted and sampled, never thrown', () => {
    const odd = '0: R1=ctx() R10=fp0\nsomething new\n0: (b7) r0 = 0 ; R0=0\n1: (95) exit\nthe kernel said no\nprocessed 2 insns';
    const log = parseVerifierLog(odd);
    expect(log.unknownLines).toBe(1);
    expect(log.unknownSample).toEqual(['something new']);
    expect(log.error?.message).toBe('the kernel said no');
    for (const junk of ['', '\n\n', '\u0000\u00ff'.repeat(100), 'from 1 to 2: safe\n'.repeat(50), '; @ :\n; x @ y:z\n', `${'('.repeat(10_000)}\n`]) {
      expect(() => parseVerifierLog(junk)).not.toThrow();
    }
  });

  it('the 5.10 print format (constructed from v5.10 kernel/bpf/verifier.c until real 5.10 logs land): state before each instruction, no `from`', () => {
    // At level 2, 5.10 prints the whole state before every instruction and resumes a branch
    // without `from X to Y`; a conditional jump is followed by the fall-through's state.
    const log510 = [
      'func#0 @0',
      '0: R1=ctx(id=0,off=0,imm=0) R10=fp0',
      '; int prog(void *ctx)',
      '0: (b7) r1 = 0',
      '1: R1_w=invP0 R10=fp0',
      '1: (63) *(u32 *)(r10 -4) = r1',
      '2: R1_w=invP0 R10=fp0 fp-8=0000????',
      '2: (bf) r2 = r10',
      '3: R1_w=invP0 R2_w=fp0 R10=fp0 fp-8=0000????',
      '3: (07) r2 += -4',
      '4: R1_w=invP0 R2_w=fp-4 R10=fp0 fp-8=0000????',
      '; v = bpf_map_lookup_elem(&m, &k);',
      '4: (18) r1 = 0xffff88810a0e5c00',
      '6: R1_w=map_ptr(id=0,off=0,ks=4,vs=8,imm=0) R2_w=fp-4 R10=fp0 fp-8=0000????',
      '6: (85) call bpf_map_lookup_elem#1',
      '7: R0_w=map_value_or_null(id=1,off=0,ks=4,vs=8,imm=0) R10=fp0 fp-8=0000????',
      '; if (flag)',
      '7: (55) if r0 != 0x0 goto pc+2',
      ' R0_w=inv0 R10=fp0 fp-8=0000????',
      '8: R0_w=inv0 R10=fp0 fp-8=0000????',
      '8: (b7) r0 = 0',
      '9: R0_w=inv0 R10=fp0 fp-8=0000????',
      '9: (95) exit',
      '10: R0=map_value_or_null(id=1,off=0,ks=4,vs=8,imm=0) R10=fp0 fp-8=0000????',
      '; return *v;',
      '10: (61) r0 = *(u32 *)(r0 +0)',
      "R0 invalid mem access 'map_value_or_null'",
      'processed 11 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1',
    ].join('\n');
    const log = parseVerifierLog(log510);
    expect(log.level).toBe(2);
    expect(insns(log)).toEqual([0, 1, 2, 3, 4, 6, 7, 10]);
    expect(log.path.at(-1)?.before.slots.find((s) => s.name === 'R0')?.value).toBe('map_value_or_null(id=1,off=0,ks=4,vs=8,imm=0)');
    expect(log.path[1]?.before.slots.find((s) => s.name === 'R1')?.value).toBe('invP0');
    expect(describeValue('invP0')).toMatchObject({ type: 'scalar', precise: true, constant: '0' });
    expect(log.error).toMatchObject({ message: "R0 invalid mem access 'map_value_or_null'", insn: 10 });
  });
});

describe('register and stack state', () => {
  it('parses every slot, frames and references, without liveness marks', () => {
    expect(parseState('frame1: R0_w=scalar(smin=0,smax=9) R6_rw=map_value(map=m,ks=4,vs=8) fp-8_w=mmmmmmmm refs=2,5 cb')).toEqual({
      frame: 1,
      slots: [{ name: 'R0', value: 'scalar(smin=0,smax=9)' }, { name: 'R6', value: 'map_value(map=m,ks=4,vs=8)' }, { name: 'fp-8', value: 'mmmmmmmm' }],
      refs: '2,5',
    });
  });

  it('says what a value is in plain words', () => {
    expect(describeValue('scalar(smin=smin32=0,smax=umax=smax32=umax32=99,var_off=(0x0; 0x7f))').summary).toBe('a number in […, 99] (signed [0, 99])');
    expect(describeValue('Pscalar(umin=1,umax=8)')).toMatchObject({ precise: true, summary: 'a number in [1, 8]' });
    expect(describeValue('map_value_or_null(id=1,map=counts,ks=4,vs=128)')).toMatchObject({ nullable: true, summary: 'a map value or NULL (map counts, 128-byte value)' });
    expect(describeValue('fp-16').summary).toBe('a pointer into the stack at offset -16');
    expect(describeValue('0000????').summary).toBe('stack bytes 0000???? (0 = zero, ? = never written)');
    expect(describeValue('scalar()').summary).toBe('any number (unknown scalar)');
  });

  it('knows which registers and stack slots an instruction touches', () => {
    expect(slotsOfInstruction('*(u32 *)(r6 +0) = r0')).toEqual(['R6', 'R0']);
    expect(slotsOfInstruction('*(u64 *)(r10 -12) = r1')).toEqual(['R1', 'fp-16']);
    expect(slotsOfInstruction('call bpf_ringbuf_reserve#131')).toEqual(['R1', 'R2', 'R3', 'R4', 'R5', 'R0']);
    expect(slotsOfInstruction('if w4 > 0xf goto pc+5')).toEqual(['R4']);
  });
});
