// The BPF target arch names (libbpf's __TARGET_ARCH_*), from Node's or uname's.

export type BpfArch = 'x86' | 'arm64' | 's390' | 'powerpc' | 'riscv';

/** Maps Node's process.arch / `uname -m` to libbpf's __TARGET_ARCH_* names. */
export function bpfArchOf(machine: string): BpfArch | undefined {
  switch (machine) {
    case 'x64':
    case 'x86_64':
    case 'amd64':
    case 'i686':
    case 'ia32':
      return 'x86';
    case 'arm64':
    case 'aarch64':
      return 'arm64';
    case 's390x':
    case 's390':
      return 's390';
    case 'ppc64':
    case 'ppc64le':
    case 'powerpc':
      return 'powerpc';
    case 'riscv64':
      return 'riscv';
    default:
      return undefined;
  }
}

export function hostBpfArch(): BpfArch {
  return bpfArchOf(process.arch) ?? 'x86';
}

