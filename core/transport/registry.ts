// Target specs → connections: `local` is this machine (the embedded default);
// anything else is an SSH alias or user@host[:port], handled by core/transport/ssh.
import { LocalTarget, type LocalTargetOptions } from './local';
import type { TargetConnection } from './types';
import { connectSshTarget, type SshConnectOptions } from './ssh/index';
import { qemuTransport, type QemuConnectOptions } from './qemu/index';

export const LOCAL_TARGET = 'local';

export interface ConnectTargetOptions extends SshConnectOptions {
  /** Options for the local target (helper path, privilege). */
  local?: LocalTargetOptions;
  /** Options for qemu:<name> VM targets (memory, idle power-off). */
  qemu?: QemuConnectOptions;
}

export function isLocalTarget(spec: string): boolean {
  return spec === LOCAL_TARGET;
}

/** Connects to a target by the name the user typed or picked. */
export async function connectTarget(spec: string, opts: ConnectTargetOptions = {}): Promise<TargetConnection> {
  if (isLocalTarget(spec)) {
    const local = new LocalTarget({ ...opts.local, ...(opts.log && !opts.local?.log ? { log: opts.log } : {}) });
    await local.prepare();
    return local;
  }
  if (qemuTransport.handles(spec)) return qemuTransport.connect(spec, opts);
  const { local: _local, qemu: _qemu, ...ssh } = opts;
  return connectSshTarget(spec, ssh);
}
