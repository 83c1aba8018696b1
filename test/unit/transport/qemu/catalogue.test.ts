// The built-in VM kernels: fixed names (tests, CI files and settings use them) and a clear
// error for anything else.
import { describe, expect, it } from 'vitest';
import { CATALOGUE, catalogueKernel, isQemuSpec } from '../../../../core/transport/qemu/catalogue';
import { parseIdle } from '../../../../cli/commands/vm';

describe('VM kernel catalogue', () => {
  it('has the four fixed names with their arch and page size', () => {
    expect(CATALOGUE.map((k) => [k.name, k.arch, k.pageSize])).toEqual([
      ['debian-5.10', 'x86_64', 4096],
      ['debian-6.1', 'x86_64', 4096],
      ['debian-6.12', 'x86_64', 4096],
      ['debian-6.12-arm64-16k', 'aarch64', 16384],
    ]);
    expect(catalogueKernel('qemu:debian-6.12-arm64-16k')).toMatchObject({ suite: 'trixie', metaPackage: 'linux-image-arm64-16k', debArch: 'arm64' });
    expect(catalogueKernel('debian-5.10').suite).toBe('bullseye');
  });

  it('an unknown name lists the known ones', () => {
    expect(() => catalogueKernel('qemu:debian-4.19')).toThrow(/no built-in VM kernel named 'debian-4.19'/);
    try {
      catalogueKernel('qemu:ubuntu');
    } catch (err) {
      expect((err as { hint?: string }).hint).toContain('qemu:debian-6.12-arm64-16k');
    }
    expect(isQemuSpec('qemu:x')).toBe(true);
    expect(isQemuSpec('user@qemu')).toBe(false);
  });

  it('--idle takes seconds, minutes or hours; 0 is never', () => {
    expect([parseIdle('90s'), parseIdle('10m'), parseIdle('1h'), parseIdle('300'), parseIdle('0')]).toEqual([90, 600, 3600, 300, 0]);
    expect(() => parseIdle('soon')).toThrow(/expected a duration/);
  });
});
