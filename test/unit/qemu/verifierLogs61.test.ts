// Verifier logs from kernel 6.1 (captured in the QEMU guest, see test/fixtures/qemu/logs/README.md):
// annotations carry only the source text, so the failing line is found by that text.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeVerifierLog, findSourceTextLine, verifierDiagnostic } from '../../../core/verifier/diagnostics';

const runFixtures = path.resolve(__dirname, '../../fixtures/run');
const logs = path.resolve(__dirname, '../../fixtures/qemu/logs');
const source = (f: string): string => fs.readFileSync(path.join(runFixtures, f), 'utf8');
const log = (f: string): string => fs.readFileSync(path.join(logs, f), 'utf8');
const lineOf = (text: string, marker: string): number => text.split('\n').findIndex((l) => l.includes(marker)) + 1;

describe('verifier logs of kernel 6.1 (no @ file:line in annotations)', () => {
  it('a NULL-check-less reserve: the diagnostic sits on the dereference, not on the SEC line', () => {
    const file = path.join(runFixtures, 'verifier_nonull.bpf.c');
    const f = analyzeVerifierLog(log('verifier_nonull.log'));
    expect(f.summary).toBe("R6 invalid mem access 'alloc_mem_or_null'");
    expect(f.line).toBeUndefined();
    expect(f.sourceText).toContain('REJECTED HERE');
    const d = verifierDiagnostic({ code: 'verifier', fatal: true, message: 'load program', program: 'rbs_run_nonull', log: log('verifier_nonull.log') }, { file }, 'tp/sched/sched_process_exec');
    expect(d).toMatchObject({ file, line: lineOf(source('verifier_nonull.bpf.c'), 'REJECTED HERE'), column: 2, code: 'verifier' });
  });

  it('an unreleased reserve: the leaking line, and the reserve as related information', () => {
    const file = path.join(runFixtures, 'verifier_leak.bpf.c');
    const src = source('verifier_leak.bpf.c');
    const d = verifierDiagnostic({ code: 'verifier', fatal: true, message: 'load program', program: 'rbs_run_leak', log: log('verifier_leak.log') }, { file }, 'tp/sched/sched_process_exec');
    expect(d.line).toBe(lineOf(src, 'LEAKS HERE'));
    expect(d.message).toMatch(/^Unreleased reference id=3 alloc_insn=6/);
    expect(d.related?.[0]).toMatchObject({ file, range: { line: lineOf(src, 'ACQUIRED HERE') } });
  });

  it('text lookup: trimmed match, the first at or after the program, undefined when absent', () => {
    const text = 'a();\nSEC("x")\nint f() {\n\ta();\n}\n';
    expect(findSourceTextLine(text, 'a();')).toBe(1);
    expect(findSourceTextLine(text, 'a();', 2)).toBe(4);
    expect(findSourceTextLine(text, 'b();')).toBeUndefined();
    expect(findSourceTextLine(text, '   ')).toBeUndefined();
    expect(findSourceTextLine(undefined, 'a();')).toBeUndefined();
  });
});
