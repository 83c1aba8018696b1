// Remote targets over SSH: the public face of core/transport/ssh.
import { StudioError, wrapError } from '../../util/errors';
import { connectRemoteTarget } from '../remoteTarget';
import type { SecretRef, SudoPrompt } from '../secrets';
import type { HelperArch, LogFn, TransportFactory } from '../types';
import { resolveTarget, type ExtraTarget } from './config';
import { openSshLink } from './connect';
import { SshTarget } from './target';
import pkg from '../../../package.json';

export { listSshHosts, resolveTarget, validateExtraTarget } from './config';
export type { ExtraTarget, ResolvedHost } from './config';
export { parseTargetSpec } from './spec';
export { shellQuote, shellCommand } from './quote';
export { SshTarget } from './target';

export interface SshConnectOptions {
  sshConfigPath?: string;
  knownHostsPath?: string;
  /** Targets from the ringbufStudio.targets setting (validated like a target spec before use). */
  extraTargets?: ExtraTarget[];
  /** Unknown host key: ask the user (CLI: only with --accept-new-host-key). Absent → refuse. */
  confirmHostKey?: (info: { host: string; port: number; keyType: string; fingerprint: string }) => Promise<boolean>;
  getPassphrase?: (keyPath: string) => Promise<string | undefined>;
  /** Asked only when `sudo -n` needs a password; `identity` is what to key it by. */
  getSudoPassword?: (who: SudoPrompt) => Promise<string | undefined>;
  /** A passphrase or sudo password was refused: forget it now. */
  secretRejected?: (ref: SecretRef) => void | Promise<void>;
  /** The explicit helper override (ringbufStudio.helperPath / --helper), used for the arch it is built for. */
  helperPath?: string;
  /** Local helper for the remote arch (tests). Default: core/transport/helperBinaries.ts. */
  helperBinaryFor?: (arch: HelperArch) => string | Promise<string>;
  /** Never receives secrets. */
  log?: LogFn;
  signal?: AbortSignal;
  readyTimeoutMs?: number;
  /** Remote helper directory; default `~/.cache/ringbuf-studio/<version>` (tests and benchmarks override it). */
  remoteCacheDir?: string;
  /** ssh-agent socket; default $SSH_AUTH_SOCK. */
  agentSocket?: string;
}

export const HELPER_VERSION: string = pkg.version;

/**
 * Connects to an SSH target (alias, user@host[:port]), verifies its host key,
 * authenticates, probes it, makes sure the helper is uploaded and that it can
 * run as root. The returned connection's name is the spec.
 */
export async function connectSshTarget(spec: string, opts: SshConnectOptions = {}): Promise<SshTarget> {
  const host = resolveTarget(spec, {
    ...(opts.sshConfigPath !== undefined ? { sshConfigPath: opts.sshConfigPath } : {}),
    ...(opts.extraTargets !== undefined ? { extraTargets: opts.extraTargets } : {}),
  });
  opts.log?.('debug', `target ${spec} → ${host.user}@${host.hostName}:${host.port}${host.jumps.length ? ` via ${host.jumps.map((j) => `${j.user}@${j.hostName}:${j.port}`).join(' → ')}` : ''}`);
  const link = await openSshLink(host, {
    ...(opts.knownHostsPath !== undefined ? { knownHostsPath: opts.knownHostsPath } : {}),
    ...(opts.confirmHostKey ? { confirmHostKey: opts.confirmHostKey } : {}),
    ...(opts.getPassphrase ? { getPassphrase: opts.getPassphrase } : {}),
    ...(opts.secretRejected ? { secretRejected: opts.secretRejected } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
    ...(opts.agentSocket !== undefined ? { agentSocket: opts.agentSocket } : {}),
  });
  const target = new SshTarget(spec, link, {
    helperBinaryFor: opts.helperBinaryFor,
    helperPath: opts.helperPath,
    helperVersion: HELPER_VERSION,
    getSudoPassword: opts.getSudoPassword,
    secretRejected: opts.secretRejected,
    log: opts.log,
    remoteCacheDir: opts.remoteCacheDir,
    signal: opts.signal,
  });
  try {
    return await connectRemoteTarget(target);
  } catch (err) {
    throw err instanceof StudioError ? err : wrapError(err, `prepare ${spec}`);
  }
}

/** SSH: the fallback transport (an ~/.ssh/config alias or user@host[:port]). */
export const sshTransport: TransportFactory<SshConnectOptions> = {
  id: 'ssh',
  handles: () => true,
  connect: connectSshTarget,
};
