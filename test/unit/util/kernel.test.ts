import { describe, expect, it } from 'vitest';
import { kernelBefore, kernelProblem, parseKernelRelease } from '../../../core/util/kernel';

// The inputs have the shape of the helper's HELLO / the connect probe (kernel release,
// btf, ringbuf): old kernels and kernels without BTF cannot be produced on this host,
// so the message logic is checked on its own here. One parser and one message for
// connect, run, probe and lint.
describe('kernel checks', () => {
  it('parses releases', () => {
    expect(parseKernelRelease('5.4.0-150-generic')).toEqual([5, 4]);
    expect(parseKernelRelease('6.18.44-fc-v782')).toEqual([6, 18]);
    expect(parseKernelRelease('garbage')).toBeUndefined();
    expect(kernelBefore('5.7.19', 5, 8)).toBe(true);
    expect(kernelBefore('5.8.0', 5, 8)).toBe(false);
    expect(kernelBefore('x', 5, 8)).toBe(false);
  });

  it('refuses kernels older than 5.8 (or without ring buffers) with the reason and the fix', () => {
    const err = kernelProblem({ kernel: '5.4.0-150-generic', btf: true }, 'oldvm');
    expect(err?.code).toBe('EKERNELOLD');
    expect(err?.message).toBe('oldvm runs Linux 5.4.0-150-generic, which has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF needs kernel 5.8 or newer)');
    expect(err?.hint).toMatch(/newer kernel/);
    expect(kernelProblem({ kernel: '4.19.0', btf: false }, 'x')?.code).toBe('EKERNELOLD');
    expect(kernelProblem({ kernel: '6.1.0', btf: true, ringbuf: false }, 'x')?.code).toBe('EKERNELOLD');
  });

  it('refuses kernels without BTF when BTF is known to be missing, naming CONFIG_DEBUG_INFO_BTF', () => {
    const err = kernelProblem({ kernel: '5.10.0', btf: false }, 'nobtf');
    expect(err?.code).toBe('ENOBTF');
    expect(err?.hint).toContain('CONFIG_DEBUG_INFO_BTF=y');
    expect(kernelProblem({ kernel: '5.10.0' }, 'unchecked')).toBeUndefined();
  });

  it('accepts 5.8 and newer', () => {
    expect(kernelProblem({ kernel: '5.8.0', btf: true }, 'x')).toBeUndefined();
    expect(kernelProblem({ kernel: '6.18.44', btf: true, ringbuf: true }, 'x')).toBeUndefined();
  });
});
