// VM targets (`qemu:<name>`): the public face of core/transport/qemu.
import type { TransportFactory } from '../types';
import { isQemuSpec } from './catalogue';
import { QemuTarget, type QemuConnectOptions } from './target';

export { CATALOGUE, QEMU_PREFIX, catalogueKernel, isQemuSpec, type CatalogueKernel } from './catalogue';
export { DEFAULT_IDLE_SEC, DEFAULT_MEMORY_MB, ensureGuest, guestConsole, guestStatus, setGuestDefaults, stopGuest, type GuestOptions, type GuestState, type GuestStatus } from './machine';
export { ensureKernel } from './kernel';
export { ensureUserland } from './userland';
export { QemuTarget, type QemuConnectOptions } from './target';

/** The parts of the registry's connect options this transport reads. */
export interface QemuTransportOptions {
  qemu?: QemuConnectOptions;
  /** The helper override (--helper, ringbufStudio.helperPath), as for every target. */
  helperPath?: string;
  local?: { helperPath?: string };
  signal?: AbortSignal;
}

export const qemuTransport: TransportFactory<QemuTransportOptions> = {
  id: 'qemu',
  handles: isQemuSpec,
  connect: (spec, opts) => {
    const helperPath = opts.helperPath ?? opts.local?.helperPath;
    return QemuTarget.connect(spec, { ...opts.qemu, ...(opts.signal ? { signal: opts.signal } : {}), ...(helperPath ? { helperPath } : {}) });
  },
};
