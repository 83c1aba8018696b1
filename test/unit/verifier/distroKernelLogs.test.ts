// Verifier logs captured from real Debian kernels in the built-in VMs (test/fixtures/verifier,
// scripts/capture-verifier-logs.ts): every rejection lands on the line the program marks,
// whatever the kernel's wording (5.10, 6.1, 6.12 x86_64 and arm64 with 16 KiB pages).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifierDiagnostic } from '../../../core/verifier/diagnostics';

const fixtures = path.resolve(__dirname, '../../fixtures');
const kernels = fs.readdirSync(path.join(fixtures, 'verifier')).filter((d) => d.startsWith('debian-'));
const sourceOf = (name: string): string =>
  [path.join(fixtures, 'run', `${name}.bpf.c`), path.join(fixtures, 'verifier/programs', `${name}.bpf.c`)].find((f) => fs.existsSync(f)) ?? '';

/** What the capture recorded (scripts/capture-verifier-logs.ts): program, kernel, line, message. */
function captured(kernel: string): Array<{ program: string; line: number; message: string }> {
  return JSON.parse(fs.readFileSync(path.join(fixtures, 'verifier', kernel, 'diagnostics.json'), 'utf8')) as Array<{ program: string; line: number; message: string }>;
}

describe('verifier logs of Debian kernels', () => {
  it('were captured for the four VM kernels', () => {
    expect(kernels.sort()).toEqual(['debian-5.10', 'debian-6.1', 'debian-6.12', 'debian-6.12-arm64-16k']);
  });

  it('5.10: an access past the record and an unbounded index read as the verifier\'s words, not the state dump before them', () => {
    const words = Object.fromEntries(captured('debian-5.10').map((c) => [path.basename(c.program, '.bpf.c'), c.message]));
    expect(words.verifier_oob_record).toBe('invalid access to memory, mem_size=8 off=8 size=1; R6 min value is outside of the allowed memory range');
    expect(words.verifier_unbounded_index).toBe('R1 unbounded memory access, make sure to bounds check any such access');
  });

  for (const kernel of kernels) {
    for (const log of fs.readdirSync(path.join(fixtures, 'verifier', kernel)).filter((f) => f.endsWith('.log'))) {
      const name = log.replace(/\.log$/, '');
      it(`${kernel}: ${name} → the marked line`, () => {
        const file = sourceOf(name);
        const text = fs.readFileSync(file, 'utf8');
        const lines = text.split('\n');
        const marked = lines.findIndex((l) => /REJECTED HERE|LEAKS HERE/.test(l)) + 1;
        const program = /^int (\w+)\(/m.exec(text)?.[1] ?? '';
        const d = verifierDiagnostic({ code: 'verifier', fatal: true, message: 'load program', program, log: fs.readFileSync(path.join(fixtures, 'verifier', kernel, log), 'utf8') }, { file }, 'tp/sched/sched_process_exec');
        expect(d).toMatchObject({ file, line: marked, severity: 'error', code: 'verifier' });
        // The verifier's words, never the register state 5.10 prints on the line before them.
        expect(d.message).not.toMatch(/(^|; )R\d{1,2}(_\w+)?=/);
        expect(d.message).toBe(captured(kernel).find((c) => c.program.endsWith(`/${name}.bpf.c`))?.message);
      });
    }
  }
});
