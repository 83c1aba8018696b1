// Remote targets over SSH: the public face of core/transport/ssh.
import fs from 'node:fs';
import path from 'node:path';
import type { TargetConnection } from '../types';
import { StudioError, wrapError } from '../../util/errors';
import { resolveTarget } from './config';
import type { ExtraTarget } from './config';
import { openSshLink } from './connect';
import { SshTarget } from './target';
import pkg from '../../../package.json';

export { listSshHosts, resolveTarget } from './config';
export type { ExtraTarget, ResolvedHost } from './config';
export { parseTargetSpec } from './spec';
export { shellQuote, shellCommand } from './quote';
export { SshTarget, targetKernelProblem, helperArch } from './target';

export interface SshConnectOptions {
  sshConfigPath?: string;
  knownHostsPath?: string;
  extraTargets?: ExtraTarget[];
  /** Unknown host key: ask the user (CLI: only with --accept-new-host-key). Absent → refuse. */
  confirmHostKey?: (info: { host: string; port: number; keyType: string; fingerprint: string }) => Promise<boolean>;
  getPassphrase?: (keyPath: string) => Promise<string | undefined>;
  /** Asked only when `sudo -n` needs a password. */
  getSudoPassword?: (target: string) => Promise<string | undefined>;
  /** Local path of the helper for the remote arch (`uname -m`). Default: dist/helper or helper/build. */
  helperBinaryFor?: (arch: string) => string | Promise<string>;
  /** Never receives secrets. */
  log?: (level: 'info' | 'warn' | 'debug', msg: string) => void;
  signal?: AbortSignal;
  readyTimeoutMs?: number;
  /** Remote helper directory; default `~/.cache/ringbuf-studio/<version>` (tests and benchmarks override it). */
  remoteCacheDir?: string;
  /** ssh-agent socket; default $SSH_AUTH_SOCK. */
  agentSocket?: string;
}

export const HELPER_VERSION: string = pkg.version;

function packageRoots(): string[] {
  const starts = [process.env.RINGBUF_STUDIO_ROOT, typeof __dirname === 'string' ? __dirname : undefined, process.cwd()].filter((d): d is string => !!d);
  const roots: string[] = [];
  for (const start of starts) {
    let dir = start;
    for (let i = 0; i < 8; i++) {
      if (fs.existsSync(path.join(dir, 'package.json')) && !roots.includes(dir)) roots.push(dir);
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return roots;
}

/** Finds the helper binary for an arch next to the bundle or in the source tree. */
export function defaultHelperBinaryFor(arch: string): string {
  const name = `ringbuf-helper-${arch}`;
  const envDir = process.env.RINGBUF_STUDIO_HELPER_DIR;
  const candidates = [
    ...(envDir ? [path.join(envDir, name)] : []),
    ...packageRoots().flatMap((r) => [path.join(r, 'dist', 'helper', name), path.join(r, 'helper', 'build', name)]),
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) {
    throw new StudioError(`no ringbuf-helper for ${arch} (looked in ${candidates.join(', ')})`, {
      code: 'EHELPERARCH',
      hint: `build it: make -C helper${arch === 'x86_64' ? '' : ` ARCH=${arch}`} && npm run build`,
    });
  }
  return found;
}

/**
 * Connects to an SSH target (alias, user@host[:port]), verifies its host key,
 * authenticates, probes it, makes sure the helper is uploaded and that it can
 * run as root. The returned connection's name is the spec.
 */
export async function connectSshTarget(spec: string, opts: SshConnectOptions = {}): Promise<SshTarget & TargetConnection> {
  const host = resolveTarget(spec, {
    ...(opts.sshConfigPath !== undefined ? { sshConfigPath: opts.sshConfigPath } : {}),
    ...(opts.extraTargets !== undefined ? { extraTargets: opts.extraTargets } : {}),
  });
  opts.log?.('debug', `target ${spec} → ${host.user}@${host.hostName}:${host.port}${host.jumps.length ? ` via ${host.jumps.map((j) => `${j.user}@${j.hostName}:${j.port}`).join(' → ')}` : ''}`);
  const link = await openSshLink(host, {
    ...(opts.knownHostsPath !== undefined ? { knownHostsPath: opts.knownHostsPath } : {}),
    ...(opts.confirmHostKey ? { confirmHostKey: opts.confirmHostKey } : {}),
    ...(opts.getPassphrase ? { getPassphrase: opts.getPassphrase } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
    ...(opts.agentSocket !== undefined ? { agentSocket: opts.agentSocket } : {}),
  });
  const target = new SshTarget(spec, link, {
    helperBinaryFor: opts.helperBinaryFor ?? defaultHelperBinaryFor,
    helperVersion: HELPER_VERSION,
    ...(opts.getSudoPassword ? { getSudoPassword: opts.getSudoPassword } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.remoteCacheDir !== undefined ? { remoteCacheDir: opts.remoteCacheDir } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    await target.prepare();
  } catch (err) {
    await target.close();
    throw err instanceof StudioError ? err : wrapError(err, `prepare ${spec}`);
  }
  return target;
}
