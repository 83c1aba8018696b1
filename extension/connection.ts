// How the extension connects to a target: the prompts (extension/sshPrompts.ts), the
// settings that say where and with which helper, and the log. One place for run,
// probe and vmlinux.h, so they connect the same way.
import type { ConnectTargetOptions } from '../core/transport/registry';
import type { StudioConfig } from './settings';

/** What connecting may ask the user: host keys, key passphrases, sudo passwords. */
export type ConnectCallbacks = Required<Pick<ConnectTargetOptions, 'confirmHostKey' | 'getPassphrase' | 'getSudoPassword' | 'secretRejected'>>;

export function connectOptions(
  callbacks: ConnectCallbacks,
  cfg: Pick<StudioConfig, 'helperPath' | 'targets'>,
  extras: { signal?: AbortSignal; log?: ConnectTargetOptions['log'] } = {},
): ConnectTargetOptions {
  return {
    confirmHostKey: (info) => callbacks.confirmHostKey(info),
    getPassphrase: (key) => callbacks.getPassphrase(key),
    getSudoPassword: (who) => callbacks.getSudoPassword(who),
    secretRejected: (ref) => callbacks.secretRejected(ref),
    ...(cfg.targets.length ? { extraTargets: cfg.targets } : {}),
    ...(extras.signal ? { signal: extras.signal } : {}),
    ...(extras.log ? { log: extras.log } : {}),
    ...(cfg.helperPath ? { helperPath: cfg.helperPath } : {}),
  };
}
