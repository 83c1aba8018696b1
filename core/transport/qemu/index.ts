// VM targets (`qemu:<name>`): the public face of core/transport/qemu.
import type { TransportFactory } from '../types';
import { isQemuSpec } from './catalogue';
import { QemuTarget, type QemuConnectOptions } from './target';

export { CATALOGUE, QEMU_PREFIX, catalogueKernel, isQemuSpec, type CatalogueKernel } from './catalogue';
export { DEFAULT_IDLE_SEC, DEFAULT_MEMORY_MB, ensureGuest, guestConsole, guestStatus, setGuestDefaults, stopGuest, type GuestOptions, type GuestState, type GuestStatus } from './machine';
export { ensureKernel } from './kernel';
export { ensureUserland } from './userland';
export { QemuTarget, type QemuConnectOptions } from './target';

export const qemuTransport: TransportFactory<QemuConnectOptions> = {
  id: 'qemu',
  handles: isQemuSpec,
  connect: (spec, opts) => QemuTarget.connect(spec, opts),
};
