import { describe, expect, it } from 'vitest';
import type { BpfObjectInfo } from '../../../core/elf/bpfObject';
import { nearestValidRingSizes, parseOverride, validateOverrides } from '../../../core/run/overrides';

const obj = {
  maps: [
    { name: 'events', type: 27, typeName: 'ringbuf', hasKeyField: false, hasValueField: false, section: '.maps', offset: 0 },
    { name: 'counts', type: 2, typeName: 'array', hasKeyField: true, hasValueField: true, section: '.maps', offset: 32 },
  ],
} as unknown as BpfObjectInfo;
const src = { file: 'p.bpf.c', text: 'struct {\n\t__uint(type, BPF_MAP_TYPE_RINGBUF);\n} events SEC(".maps");\n' };

describe('--max-entries overrides', () => {
  it('parses MAP=N with K/M suffixes and refuses anything else', () => {
    expect(parseOverride('events=262144')).toEqual(['events', 262144]);
    expect(parseOverride('events=256K')).toEqual(['events', 262144]);
    expect(parseOverride('events=1M')).toEqual(['events', 1048576]);
    expect(() => parseOverride('events')).toThrow(/MAP=N/);
    expect(() => parseOverride('events=-1')).toThrow(/MAP=N/);
    expect(() => parseOverride('events=8G')).toThrow(/u32/);
  });

  it('nearest valid ring sizes around an invalid one', () => {
    expect(nearestValidRingSizes(12288, 4096)).toEqual({ below: 8192, above: 16384 });
    expect(nearestValidRingSizes(1000, 4096)).toEqual({ above: 4096 });
    expect(nearestValidRingSizes(65536, 16384)).toEqual({ below: 65536, above: 65536 });
  });

  it('accepts valid sizes for the page size and refuses others on the map line with the nearest sizes', () => {
    expect(validateOverrides({ events: 16384 }, obj, 4096, src)).toEqual([]);
    const [d] = validateOverrides({ events: 16384 }, obj, 65536, src);
    expect(d).toMatchObject({ line: 3, severity: 'error', code: 'override' });
    expect(d?.message).toMatch(/multiple of the page size \(65536\); nearest valid: 65536/);
    expect(validateOverrides({ events: 3 * 4096 }, obj, 4096, src)[0]?.message).toMatch(/8192 \(8 KiB\) or 16384 \(16 KiB\)/);
  });

  it('names the maps when the override names none of them; non-ring maps only need ≥ 1', () => {
    expect(validateOverrides({ evnts: 4096 }, obj, 4096, src)[0]?.message).toMatch(/no map named 'evnts' \(maps: events, counts\)/);
    expect(validateOverrides({ counts: 100 }, obj, 4096, src)).toEqual([]);
    expect(validateOverrides({ counts: 0 }, obj, 4096, src)[0]?.message).toMatch(/at least 1/);
  });
});

describe('kernel check before deploy', () => {
  const hello = { protocol: 1, helper: '0.1.0', arch: 'x86_64', pageSize: 4096, btf: true, ringbuf: true, pid: 1, uid: 0, features: { progTypes: {}, attach: {} } };
  it('refuses kernels older than 5.8 (no BPF ring buffer) with a clear message', async () => {
    const { kernelProblem } = await import('../../../core/run/index');
    expect(kernelProblem({ ...hello, kernel: '5.4.0-150-generic', ringbuf: false }, 'vm1')?.message).toBe(
      'vm1 runs Linux 5.4.0-150-generic, which has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF needs kernel 5.8 or newer)',
    );
    expect(kernelProblem({ ...hello, kernel: '5.7.19' }, 'x')).toBeDefined();
    expect(kernelProblem({ ...hello, kernel: '5.8.0' }, 'x')).toBeUndefined();
    expect(kernelProblem({ ...hello, kernel: '6.18.44-fc-v782' }, 'x')).toBeUndefined();
  });
});
