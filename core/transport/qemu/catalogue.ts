// The built-in VM kernels: `qemu:<name>` → a Debian suite, the kernel meta-package to
// follow there, the guest arch and page size. Adding a kernel is one line here; the exact
// package (linux-image-6.1.0-NN-amd64 …) is resolved from the suite's signed index when it
// is first downloaded, so versions move with Debian. Names are fixed: tests, CI files and
// settings refer to them.
import { StudioError } from '../../util/errors';
import type { HelperArch } from '../types';

export interface CatalogueKernel {
  /** The part after `qemu:`. */
  readonly name: string;
  /** Debian suite whose index names the kernel (and the guest's busybox and bash). */
  readonly suite: string;
  /** Meta-package whose dependency is the kernel image to download. */
  readonly metaPackage: string;
  /** Debian architecture of the packages. */
  readonly debArch: 'amd64' | 'arm64';
  /** Guest arch, as the helper names it. */
  readonly arch: HelperArch;
  readonly pageSize: number;
  /** For lists: what this kernel stands for. */
  readonly description: string;
}

export const CATALOGUE: readonly CatalogueKernel[] = [
  { name: 'debian-5.10', suite: 'bullseye', metaPackage: 'linux-image-amd64', debArch: 'amd64', arch: 'x86_64', pageSize: 4096, description: 'Debian 11 (bullseye), x86_64' },
  { name: 'debian-6.1', suite: 'bookworm', metaPackage: 'linux-image-amd64', debArch: 'amd64', arch: 'x86_64', pageSize: 4096, description: 'Debian 12 (bookworm), x86_64' },
  { name: 'debian-6.12', suite: 'trixie', metaPackage: 'linux-image-amd64', debArch: 'amd64', arch: 'x86_64', pageSize: 4096, description: 'Debian 13 (trixie), x86_64' },
  { name: 'debian-6.12-arm64-16k', suite: 'trixie', metaPackage: 'linux-image-arm64-16k', debArch: 'arm64', arch: 'aarch64', pageSize: 16384, description: 'Debian 13 (trixie), aarch64 with 16 KiB pages' },
];

export const QEMU_PREFIX = 'qemu:';

export function isQemuSpec(spec: string): boolean {
  return spec.startsWith(QEMU_PREFIX);
}

/** The catalogue entry for `qemu:<name>` (or a bare name); a clear error naming the known ones otherwise. */
export function catalogueKernel(specOrName: string): CatalogueKernel {
  const name = isQemuSpec(specOrName) ? specOrName.slice(QEMU_PREFIX.length) : specOrName;
  const k = CATALOGUE.find((c) => c.name === name);
  if (!k) {
    throw new StudioError(`no built-in VM kernel named '${name}'`, {
      code: 'EVMUNKNOWN',
      hint: `known: ${CATALOGUE.map((c) => QEMU_PREFIX + c.name).join(', ')} (ringbuf-studio vm list)`,
    });
  }
  return k;
}
