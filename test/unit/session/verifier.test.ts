// Verifier logs → source lines, on logs captured from the real kernel (see
// test/fixtures/run/logs/README.md); attach and map positions from real fixture sources.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeVerifierLog, attachDiagnostic, findMapLine, findSectionLine, verifierDiagnostic, verifierLogExcerpt } from '../../../core/verifier/diagnostics';

const dir = path.resolve(__dirname, '../../fixtures/run');
const read = (f: string): string => fs.readFileSync(path.join(dir, f), 'utf8');
const lineOf = (text: string, marker: string): number => text.split('\n').findIndex((l) => l.includes(marker)) + 1;

describe('verifier log analysis', () => {
  it('a NULL-check-less reserve: the failing line is the dereference, the summary the verifier\'s words', () => {
    const log = read('logs/verifier_nonull.log');
    const f = analyzeVerifierLog(log);
    expect(f.summary).toBe("R6 invalid mem access 'ringbuf_mem_or_null'");
    expect(f.file).toBe('verifier_nonull.bpf.c');
    expect(f.line).toBe(lineOf(read('verifier_nonull.bpf.c'), 'REJECTED HERE'));
  });

  it('an unreleased reserve: both error lines, the leaking line and where the reference was acquired', () => {
    const log = read('logs/verifier_leak.log');
    const src = read('verifier_leak.bpf.c');
    const f = analyzeVerifierLog(log);
    expect(f.summary).toBe('Unreleased reference id=3 alloc_insn=6\nBPF_EXIT instruction in main prog would lead to reference leak');
    expect(f.line).toBe(lineOf(src, 'LEAKS HERE'));
    expect(f.acquiredAt?.line).toBe(lineOf(src, 'ACQUIRED HERE'));
  });

  it('becomes a Diagnostic on the user file with column of the first non-blank and the full log as detail', () => {
    const file = path.join(dir, 'verifier_nonull.bpf.c');
    const log = read('logs/verifier_nonull.log');
    const d = verifierDiagnostic({ code: 'verifier', fatal: true, message: 'load program', program: 'rbs_run_nonull', log }, { file });
    expect(d).toMatchObject({ file, line: lineOf(read('verifier_nonull.bpf.c'), 'REJECTED HERE'), column: 2, severity: 'error', code: 'verifier', source: 'verifier' });
    expect(d.message).toBe("R6 invalid mem access 'ringbuf_mem_or_null'");
    expect(d.detail).toBe(log);
  });

  it('without line info (no -g) it falls back to the program\'s SEC line', () => {
    const file = path.join(dir, 'verifier_nonull.bpf.c');
    const log = read('logs/verifier_nonull.log')
      .split('\n')
      .filter((l) => !l.startsWith(';'))
      .join('\n');
    const d = verifierDiagnostic({ code: 'verifier', fatal: true, message: 'x', program: 'rbs_run_nonull', log }, { file }, 'tp/sched/sched_process_exec');
    expect(d.line).toBe(lineOf(read('verifier_nonull.bpf.c'), 'SEC("tp/sched'));
    expect(d.message).toMatch(/invalid mem access/);
  });

  it('an empty or odd log still gives a message, never a crash', () => {
    expect(analyzeVerifierLog('').summary).toBe('the verifier rejected the program');
    expect(analyzeVerifierLog('\n\nsomething odd happened\n').summary).toBe('something odd happened');
    expect(analyzeVerifierLog('; x @ a.c:0\nfoo\n').line).toBeUndefined();
  });

  it('the excerpt ends at the error, without the trailer', () => {
    const ex = verifierLogExcerpt(read('logs/verifier_leak.log'), 4);
    expect(ex.split('\n')).toHaveLength(4);
    expect(ex.split('\n').pop()).toMatch(/reference leak/);
  });
});

describe('source positions', () => {
  const src = read('attach_mixed.bpf.c');
  it('finds a program\'s SEC line and a map\'s definition', () => {
    expect(findSectionLine(src, 'fentry/do_nanosleep')).toMatchObject({ line: lineOf(src, 'SEC("fentry/'), column: 1 });
    expect(findSectionLine(src, 'fentry/do_nanosleep2')).toBeUndefined();
    expect(findMapLine(src, 'rb')?.line).toBe(lineOf(src, '} rb SEC'));
    expect(findMapLine(src, 'r')).toBeUndefined();
  });

  it('an attach failure names the program, the attach point and the reason, on its SEC line', () => {
    const file = path.join(dir, 'attach_mixed.bpf.c');
    const d = attachDiagnostic(
      { name: 'rbs_run_fentry', section: 'fentry/do_nanosleep', type: 'tracing', attachTarget: 'do_nanosleep', attached: false, error: { errno: 1, message: 'tracing load failed: Operation not permitted', reason: 'fentry attach is not permitted on this kernel' } },
      { file },
      'warning',
    );
    expect(d).toMatchObject({ file, line: lineOf(src, 'SEC("fentry/'), severity: 'warning', code: 'attach' });
    expect(d.message).toBe("cannot attach program 'rbs_run_fentry' (fentry/do_nanosleep): fentry attach is not permitted on this kernel");
  });
});
