// Kernel release facts, parsed once: what ring buffer programs need from a target's
// kernel (BPF_MAP_TYPE_RINGBUF from 5.8; BTF for CO-RE). Used by connect (SSH probe),
// run (the helper's HELLO), probe output and lint.
import { StudioError } from './errors';

/** BPF_MAP_TYPE_RINGBUF arrived in Linux 5.8. */
export const MIN_RINGBUF_KERNEL: readonly [number, number] = [5, 8];

/** "5.4.0-150-generic" → [5, 4]; undefined when it does not start with major.minor. */
export function parseKernelRelease(release: string | undefined): [number, number] | undefined {
  const m = release ? /^(\d+)\.(\d+)/.exec(release) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** True when the release is known and older than major.minor. */
export function kernelBefore(release: string | undefined, major: number, minor: number): boolean {
  const v = parseKernelRelease(release);
  return v !== undefined && (v[0] < major || (v[0] === major && v[1] < minor));
}

export interface KernelFacts {
  /** `uname -r` of the target. */
  kernel: string;
  /** The helper's own probe: BPF_MAP_TYPE_RINGBUF can be created (absent: unknown). */
  ringbuf?: boolean;
  /** /sys/kernel/btf/vmlinux is present (absent: not checked). */
  btf?: boolean;
}

/**
 * The problem that keeps ring buffer programs from running on a target, if any:
 * a kernel older than 5.8 (or one whose helper probe found no ring buffer), or —
 * when `btf` is given — no kernel BTF for CO-RE.
 */
export function kernelProblem(facts: KernelFacts, target: string): StudioError | undefined {
  const [major, minor] = MIN_RINGBUF_KERNEL;
  if (facts.ringbuf === false || kernelBefore(facts.kernel, major, minor)) {
    return new StudioError(
      `${target} runs Linux ${facts.kernel}, which has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF needs kernel ${major}.${minor} or newer)`,
      {
        code: 'EKERNELOLD',
        hint: 'run on a newer kernel (Ubuntu 22.04 ships 5.15, Debian 12 ships 6.1; any distribution kernel from 2021 on has ring buffers), or pick another target',
      },
    );
  }
  if (facts.btf === false) {
    return new StudioError(`${target} (Linux ${facts.kernel}) has no kernel BTF (/sys/kernel/btf/vmlinux is missing)`, {
      code: 'ENOBTF',
      hint: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (the default in current Debian, Ubuntu, Fedora and RHEL kernels)',
    });
  }
  return undefined;
}
