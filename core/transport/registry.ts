// Target specs → connections, through registered transports: each TransportFactory says
// which specs it handles, checked in registration order; SSH (an ~/.ssh/config alias or
// user@host[:port]) takes everything else. Adding a transport = one factory file and
// one registerTransport line below.
import { LOCAL_TARGET, LocalTarget, type LocalTargetOptions } from './local';
import type { TargetConnection, TransportFactory } from './types';
import { sshTransport, type SshConnectOptions } from './ssh/index';
import { qemuTransport, type QemuConnectOptions } from './qemu/index';

export { LOCAL_TARGET } from './local';

/** Options for every transport; each factory reads its own part. */
export interface ConnectTargetOptions extends SshConnectOptions {
  /** Options for the local target (privilege, name); `helperPath` here is the same override as the top-level one. */
  local?: LocalTargetOptions;
  /** Options for qemu:<name> VM targets (memory, idle power-off). */
  qemu?: QemuConnectOptions;
}

/** `local`: this machine. */
export const localTransport: TransportFactory<ConnectTargetOptions> = {
  id: 'local',
  handles: (spec) => spec === LOCAL_TARGET,
  async connect(_spec, opts) {
    const local = new LocalTarget({
      ...(opts.helperPath !== undefined ? { helperPath: opts.helperPath } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...opts.local,
    });
    await local.prepare();
    return local;
  },
};

const transports: Array<TransportFactory<ConnectTargetOptions>> = [];

/** Adds a transport, checked before the ones registered later and before SSH (the fallback). */
export function registerTransport(transport: TransportFactory<ConnectTargetOptions>): void {
  if (!transports.some((t) => t.id === transport.id)) transports.push(transport);
}

registerTransport(localTransport);
registerTransport(qemuTransport);

/** The transport that handles a spec. */
export function transportFor(spec: string): TransportFactory<ConnectTargetOptions> {
  return transports.find((t) => t.handles(spec)) ?? sshTransport;
}

/** Connects to a target by the name the user typed or picked. */
export function connectTarget(spec: string, opts: ConnectTargetOptions = {}): Promise<TargetConnection> {
  return transportFor(spec).connect(spec, opts);
}
