// What the Verifier explorer shows, without an editor: the hover of the failing line, the
// inline hint, CodeLens titles with the change since the last build, heat levels, and that
// log text (from the target) never becomes Markdown of its own.
import { describe, expect, it } from 'vitest';
import type { ProgramVerdict } from '../../../core/run/verify';
import { lastPassByLine } from '../../../core/verifier/explain';
import { changeSince, code, heatHoverMarkdown, heatLevel, heatMapLensTitle, inlineHint, lensTitle, pathHoverMarkdown } from '../../../extension/verifier/present';
import { defaultFocus, FigureHistory, focused, mergeVerdicts } from '../../../extension/verifier/state';
import { explainFixture, lineOf } from './support';

describe('hover of a line on the failing path', () => {
  it('the failing line: reason and fix first, then each instruction with the registers it touched, the last in bold', () => {
    const { explained, file, text } = explainFixture('6.18', 'null_check');
    const line = lastPassByLine(explained.path).get(`${file}:${lineOf(text, 'REJECTED HERE')}`)!;
    const md = pathHoverMarkdown(line, 1, 'local (Linux 6.18), program rbs_v_null', explained.error);
    expect(md).toMatch(/^\*\*Verifier: null\\-check\*\* — `R1 type=ringbuf_mem_or_null expected=fp, pkt/);
    expect(md).toContain('**Fix:** Check the result of bpf_ringbuf_reserve() and return early when it is NULL (e.g. `if (!e) return 0;`)');
    const lines = md.split('\n');
    const last = lines.filter((l) => l.startsWith('**`'));
    expect(last).toEqual(['**`8: call bpf_get_current_comm#16`** ← the verifier stopped here']);
    // The failing call shows its arguments (the NULL one first).
    expect(lines).toContain('- **`R1 = ringbuf_mem_or_null(id=2,ref_obj_id=2,sz=32)` — a reserved ring buffer record or NULL \\(32 bytes, reference 2\\)**');
    expect(lines).toContain('- **`R2 = 16` — the constant 16**');
    // Earlier instructions of the line are plain.
    expect(lines).toContain('`7: r2 = 16`');
  });

  it('a line with hundreds of instructions (an unrolled loop) shows the last twelve', () => {
    const { explained, file, text } = explainFixture('6.18', 'too_complex');
    const line = lastPassByLine(explained.path).get(`${file}:${lineOf(text, 'BRANCHES HERE')}`)!;
    expect(line.steps.length).toBeGreaterThan(100);
    const md = pathHoverMarkdown(line, 1, 'local', explained.error);
    expect(md).toContain(`_… ${line.steps.length - 12} earlier instructions on this line`);
    expect(md.split('\n').filter((l) => /^(\*\*)?`\d+: /.test(l))).toHaveLength(12);
  });

  it('a line the path passed more than once says which pass it shows', () => {
    const { explained } = explainFixture('6.18', 'subprogram');
    const again = explained.path.find((l) => l.pass === 2)!;
    expect(pathHoverMarkdown(again, 2, 'local', undefined)).toMatch(/pass 2 of 2 through this line/);
  });

  it('log text stays inside code spans: no backticks, no line breaks, no links of its own', () => {
    expect(code('R1=`x`\n[a](command:evil)')).toBe('`R1= x  [a](command:evil)`');
    expect(code('x'.repeat(500)).length).toBeLessThan(170);
  });
});

describe('inline hint and CodeLens', () => {
  it('the inline hint: category, one sentence, the fix', () => {
    const { explained } = explainFixture('6.18', 'unreleased_reference');
    expect(inlineHint(explained.error!)).toMatch(/^unreleased-reference: A reference acquired on this path .* Fix: Release it on every path/);
    expect(inlineHint(explained.error!, 60)).toHaveLength(60);
  });

  it('+12 % instructions processed, as veristat compares builds', () => {
    expect(changeSince(100_000, 112_000)).toBe('+12 % instructions processed');
    expect(changeSince(100_000, 95_500)).toBe('−4.5 % instructions processed');
    expect(changeSince(100_000, 100_100)).toBe('unchanged since the last build');
    expect(changeSince(undefined, 5)).toBeUndefined();
    expect(changeSince(5, null)).toBeUndefined();
  });

  it('titles per target: a rejection with its category and line, a load with its share of the limit', () => {
    const rejected = { name: 'p', section: 's', loaded: false, insnsProcessed: 8, totalStates: 0, peakStates: 0, error: { category: 'null-check', at: { line: 22 } } } as unknown as ProgramVerdict;
    expect(lensTitle('local', rejected, undefined)).toBe('$(error) rejected on local kernel: null-check at line 22 · 8 instructions');
    const loaded = { name: 'p', section: 's', loaded: true, insnsProcessed: 840_015, totalStates: 8002, peakStates: 8002, error: null } as ProgramVerdict;
    expect(lensTitle('vm-6.12', loaded, 750_000)).toBe('$(pass) loads on vm-6.12: 840\u202f015 instructions processed (84 % of the limit), +12 % instructions processed · 8\u202f002 states, peak 8\u202f002');
    expect(lensTitle('local', { ...loaded, insnsProcessed: null }, undefined)).toBe('$(pass) loads on local kernel');
  });

  it('a program with figures but no heat map (a Run, or too costly) is offered one, saying what it costs', () => {
    const loaded = { name: 'p', section: 's', loaded: true, insnsProcessed: 840_015, totalStates: 8002, peakStates: 8002, error: null } as ProgramVerdict;
    expect(heatMapLensTitle(loaded, 100_000)).toBe('$(flame) Heat map (slow: a level 2 log of 840\u202f015 instructions)');
    expect(heatMapLensTitle({ ...loaded, insnsProcessed: 16 }, 100_000)).toBe('$(flame) Heat map (a level 2 verification)');
    const { explained } = explainFixture('6.18', 'loop_12_iterations', { loaded: true });
    expect(heatMapLensTitle({ ...loaded, explanation: explained }, 100_000)).toBeUndefined(); // it has one
    expect(heatMapLensTitle({ ...loaded, loaded: false }, 100_000)).toBeUndefined();
    expect(heatMapLensTitle({ ...loaded, insnsProcessed: null }, 100_000)).toBeUndefined();
  });

  it('the heat map hover: a share of every instruction processed, or of the part of the log that was kept', () => {
    expect(heatHoverMarkdown(12, 48, 'all', 48)).toBe('Verifier visits to this line: **12** (25.0 % of all instructions processed)');
    expect(heatHoverMarkdown(3, 24, 'path', 1_000_001)).toBe('Verifier visits to this line: **3** (12.5 % of the 24 instructions on the failing path)');
    expect(heatHoverMarkdown(41_544, 72_750, 'tail', 840_015)).toBe('Verifier visits to this line: **41\u202f544** (57.1 % of the 72\u202f750 instructions in the log — the verifier processed 840\u202f015; the log kept the last ones)');
  });

  it('heat levels grow with visits on a log scale', () => {
    expect([0, 1, 10, 100, 1000, 840_015].map((v) => heatLevel(v, 840_015))).toEqual([0, 1, 1, 2, 3, 5]);
  });
});

describe('explorer state', () => {
  it('shows the first rejected program, with its path by line', () => {
    const { explained } = explainFixture('6.18', 'null_check');
    const verdicts = [
      { target: 'local', source: { file: 'x' }, programs: [{ name: 'ok', section: 'a', loaded: true, insnsProcessed: null, totalStates: null, peakStates: null, error: null }] },
      { target: 'vm', source: { file: 'x' }, programs: [{ name: 'bad', section: 'b', loaded: false, insnsProcessed: 8, totalStates: 0, peakStates: 0, error: explained.error!, explanation: explained }] },
    ];
    const focus = defaultFocus(verdicts);
    expect(focus).toEqual({ target: 'vm', program: 'bad' });
    const f = focused({ file: 'x', version: 1, verdicts, focus })!;
    expect(f.program.name).toBe('bad');
    expect([...f.byLine.values()].some((l) => l.steps.some((s) => s.failing))).toBe(true);
  });

  it('a verification of one program replaces its verdict on that target, keeps the others and other targets', () => {
    const p = (name: string, n: number): ProgramVerdict => ({ name, section: 's', loaded: true, insnsProcessed: n, totalStates: 1, peakStates: 1, error: null });
    const older = [
      { target: 'local', source: { file: 'f' }, programs: [p('a', 1), p('b', 2), p('c', 3)] },
      { target: 'qemu:debian-5.10', source: { file: 'f' }, programs: [p('a', 10)] },
    ];
    const merged = mergeVerdicts(older, [{ target: 'local', kernel: '6.18', source: { file: 'f' }, programs: [{ ...p('b', 2), logLevel: 2 }] }]);
    expect(merged.map((t) => [t.target, t.programs.map((x) => `${x.name}:${x.logLevel ?? '-'}`)])).toEqual([
      ['local', ['a:-', 'b:2', 'c:-']],
      ['qemu:debian-5.10', ['a:-']],
    ]);
    expect(merged[0]?.kernel).toBe('6.18');
    expect(older[0]?.programs[1]?.logLevel).toBeUndefined(); // the older result is not changed
    // A target that could not be asked replaces the whole verdict; a new target is added.
    const failed = mergeVerdicts(older, [{ target: 'local', source: { file: 'f' }, programs: [], failure: new Error('gone') as never }, { target: 'ssh1', source: { file: 'f' }, programs: [p('a', 1)] }]);
    expect(failed.map((t) => [t.target, t.programs.length])).toEqual([['local', 0], ['qemu:debian-5.10', 1], ['ssh1', 1]]);
  });

  it('remembers figures across builds: the one before the latest is what the CodeLens compares with', async () => {
    const saved = new Map<string, unknown>();
    const store = { get: <T>(k: string) => saved.get(k) as T | undefined, update: (k: string, v: unknown) => Promise.resolve(void saved.set(k, v)) };
    const verdict = (n: number) => [{ target: 'local', source: { file: 'f' }, programs: [{ name: 'p', section: 's', loaded: true, insnsProcessed: n, totalStates: 1, peakStates: 1, error: null }] }];
    const h = new FigureHistory(store);
    await h.record('f', verdict(100));
    expect(h.before('f', 'local', 'p')).toBeUndefined();
    await h.record('f', verdict(112));
    expect(h.before('f', 'local', 'p')).toBe(100);
    // A new window (same workspace state) compares with the last figure saved.
    const again = new FigureHistory(store);
    await again.record('f', verdict(120));
    expect(again.before('f', 'local', 'p')).toBe(112);
  });
});
