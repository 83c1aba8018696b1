// A lint check that throws is surfaced, not swallowed. No input is known to make a
// check throw (that would be a bug, and fixed), so this file replaces the
// reserve/submit pairing analysis with a FAKE that throws a TypeError for one
// function: the fault is faked, everything around it is real.
import { describe, expect, it, vi } from 'vitest';
import type * as Flow from '../../../core/lint/flow';
import { lintSource } from '../../../core/lint/index';
import { byCode, codeLines, fixture } from './support';

vi.mock('../../../core/lint/flow', async (importOriginal) => {
  const real = await importOriginal<typeof Flow>();
  return {
    ...real,
    analyzeReservePairing: (...args: Parameters<typeof real.analyzeReservePairing>) => {
      const [, fn] = args;
      if (fn.name === 'never_submitted') throw new TypeError("Cannot read properties of undefined (reading 'text')");
      return real.analyzeReservePairing(...args);
    },
  };
});

describe('a lint check that throws', () => {
  it('costs only its own findings, and says so in an RB019 warning with the check, the place and the stack', () => {
    const { file, text } = fixture('leak.bpf.c');
    const diags = lintSource(text, file);
    const [failure, ...more] = byCode(diags, 'RB019');
    expect(more).toEqual([]);
    expect(failure).toMatchObject({ severity: 'warning', line: 1, source: 'lint' });
    expect(failure!.message).toContain('The lint check "reserve/submit pairing" failed on function never_submitted');
    expect(failure!.message).toContain("Cannot read properties of undefined (reading 'text')");
    expect(failure!.detail).toMatch(/TypeError: Cannot read properties[\s\S]*checkFailure\.test\.ts/);
    // the other functions' pairing findings are still there; only never_submitted's (line 34) is gone
    expect(codeLines(byCode(diags, 'RB008'))).toEqual(['RB008@26', 'RB008@52']);
  });
});
