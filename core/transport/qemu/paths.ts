// Where the VM targets keep things, all under the per-user cache (~/.cache/ringbuf-studio/vm):
//   apt/<suite>-<arch>/   private apt sources list, signed indexes and state
//   debs/                 downloaded packages (a kernel's is deleted once it is extracted)
//   kernels/<pkg>_<ver>/  the kernel QEMU boots, the modules the guest loads, kernel.json
//   userland/<suite>-<arch>/  busybox, bash and their libraries for the guest
//   guests/<name>/        a guest's run state: QEMU pid, port sockets, console log, guest.json
import path from 'node:path';
import { cacheRoot } from '../../util/cache';

export function vmRoot(): string {
  return path.join(cacheRoot(), 'vm');
}

export const vmPaths = {
  apt: (suiteArch: string): string => path.join(vmRoot(), 'apt', suiteArch),
  debs: (): string => path.join(vmRoot(), 'debs'),
  kernels: (): string => path.join(vmRoot(), 'kernels'),
  userland: (suiteArch: string): string => path.join(vmRoot(), 'userland', suiteArch),
  guest: (name: string): string => path.join(vmRoot(), 'guests', name),
};
