import { describe, expect, it } from 'vitest';
import { describeError, StudioError, wrapError } from '../../../core/util/errors';

describe('errors', () => {
  it('wraps with context and keeps the hint', () => {
    const inner = new StudioError('clang not found', { hint: 'apt-get install clang' });
    const outer = wrapError(inner, 'build prog.bpf.c');
    expect(outer.message).toBe('build prog.bpf.c: clang not found');
    expect(describeError(outer)).toContain('hint: apt-get install clang');
  });
});
