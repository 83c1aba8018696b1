// The embedded default target: the helper runs on this machine, directly when we
// are root, else through `sudo -n` (or `pkexec` where a graphical polkit agent can
// ask). The binary comes from core/transport/helperBinaries.ts (explicit override →
// next to the installed package) and a `--version` handshake catches a mismatched
// binary before use.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { PROTOCOL_VERSION } from '../protocol/helper';
import { StudioError } from '../util/errors';
import { findOnPath } from '../util/which';
import { findHelperBinary, HELPER_ENV, hostHelperArch, type FindHelperOptions } from './helperBinaries';
import { LocalChildProcess, spawnLocalCommand } from './localProcess';
import type { HelperProcess, RemoteProcess, RemoteSpawnOptions, SpawnHelperOptions, TargetCapabilities, TargetConnection } from './types';

/** The spec (and identity) of this machine as a target. */
export const LOCAL_TARGET = 'local';

/** This machine: its kernel, nothing to upload. */
export const LOCAL_CAPABILITIES: TargetCapabilities = { sharesHostKernel: true, canUpload: false, canRunCommands: true };

export interface HelperVersion {
  helper: string;
  protocol: number;
}

const versionMemo = new Map<string, HelperVersion>();

/** Runs `<helper> --version` (no privileges needed) and checks the protocol version. */
export async function checkHelperVersion(helperPath: string): Promise<HelperVersion> {
  const stat = fs.statSync(helperPath);
  const key = `${helperPath}\0${stat.mtimeMs}\0${stat.size}`;
  const memo = versionMemo.get(key);
  if (memo) return memo;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(helperPath, ['--version'], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err) {
        reject(
          new StudioError(`the helper ${helperPath} does not run: ${(stderr || err.message).trim()}`, {
            code: 'EHELPERVERSION',
            hint: 'rebuild it: npm run build:helper (it must be a static binary for this machine)',
            cause: err,
          }),
        );
      } else resolve(stdout);
    });
  });
  const m = /^ringbuf-helper (\S+) protocol (\d+)/m.exec(out);
  if (!m) {
    throw new StudioError(`${helperPath} is not a ringbuf-helper (its --version printed "${out.trim().slice(0, 80)}")`, {
      code: 'EHELPERVERSION',
      hint: `point ringbufStudio.helperPath / ${HELPER_ENV} at a ringbuf-helper binary, or clear it`,
    });
  }
  const version = { helper: m[1] ?? '', protocol: Number(m[2]) };
  if (version.protocol !== PROTOCOL_VERSION) {
    throw new StudioError(
      `the helper ${helperPath} speaks protocol ${version.protocol}, this Ringbuf Studio speaks ${PROTOCOL_VERSION}`,
      { code: 'EHELPERVERSION', hint: 'rebuild the helper from this source tree (npm run build:helper) or reinstall Ringbuf Studio' },
    );
  }
  versionMemo.set(key, version);
  return version;
}

/** How the helper gets root here. */
export type LocalPrivilege = 'root' | 'sudo' | 'pkexec';

export interface LocalTargetOptions extends FindHelperOptions {
  /** The target's name (the `host` of its batches). Default "local"; tests run two local targets as two hosts. */
  name?: string;
  /** Default 'auto': root → direct; else `sudo -n`; else pkexec when a graphical session can answer it. */
  privilege?: 'auto' | LocalPrivilege;
  log?: (level: 'info' | 'warn' | 'debug', msg: string) => void;
}

/** The local machine as a target. */
export class LocalTarget implements TargetConnection {
  readonly name: string;
  readonly identity = LOCAL_TARGET;
  readonly capabilities = LOCAL_CAPABILITIES;
  private resolved: Promise<{ helper: string; privilege: LocalPrivilege; version: HelperVersion }> | undefined;
  private readonly children = new Set<LocalChildProcess>();

  constructor(private readonly opts: LocalTargetOptions = {}) {
    this.name = opts.name ?? LOCAL_TARGET;
  }

  /** The helper path, its version and how it gets root (decided once, on first use). */
  prepare(): Promise<{ helper: string; privilege: LocalPrivilege; version: HelperVersion }> {
    this.resolved ??= this.decide();
    // A failed decision is retried next time (the user may have fixed sudo meanwhile).
    this.resolved.catch(() => (this.resolved = undefined));
    return this.resolved;
  }

  private async decide(): Promise<{ helper: string; privilege: LocalPrivilege; version: HelperVersion }> {
    const helper = findHelperBinary(hostHelperArch(), this.opts);
    const version = await checkHelperVersion(helper);
    const want = this.opts.privilege ?? 'auto';
    if (want === 'root' || (want === 'auto' && process.getuid?.() === 0)) return { helper, privilege: 'root', version };
    if (want === 'pkexec') return { helper, privilege: 'pkexec', version };
    const sudo = findOnPath('sudo');
    let sudoProblem: string;
    if (!sudo) {
      sudoProblem = 'sudo is not installed';
    } else {
      // Runs the helper itself, so a NOPASSWD rule limited to the helper's path is enough.
      const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(sudo, ['-n', '--', helper, '--version'], { timeout: 10_000 }, (err, _out, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stderr });
        });
      });
      if (r.code === 0) return { helper, privilege: 'sudo', version };
      sudoProblem = /password is required/i.test(r.stderr)
        ? 'sudo needs a password'
        : `sudo refused (${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`})`;
    }
    const graphical = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
    if (want === 'auto' && graphical && findOnPath('pkexec')) {
      this.opts.log?.('info', `${sudoProblem}; using pkexec (a polkit prompt will ask)`);
      return { helper, privilege: 'pkexec', version };
    }
    const user = process.env.USER ?? process.env.LOGNAME ?? 'your-user';
    throw new StudioError(`loading BPF programs needs root, and ${sudoProblem} for the helper`, {
      code: sudo ? 'ESUDOPASSWORD' : 'ENOSUDO',
      hint:
        `run as root, or allow the helper without a password: '${user} ALL=(root) NOPASSWD: ${helper}' in /etc/sudoers.d/ringbuf-studio` +
        (findOnPath('pkexec') ? ', or run from a desktop session where pkexec can ask' : ''),
    });
  }

  async spawnHelper(args: readonly string[], options: SpawnHelperOptions = {}): Promise<HelperProcess> {
    const { helper, privilege } = await this.prepare();
    options.signal?.throwIfAborted();
    const argv = privilege === 'root' ? [helper, ...args] : privilege === 'sudo' ? ['sudo', '-n', '--', helper, ...args] : ['pkexec', helper, ...args];
    this.opts.log?.('debug', `spawn ${argv.join(' ')}`);
    const child = spawn(argv[0] ?? helper, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const proc = new LocalChildProcess(child, argv[0] ?? helper, {
      startErrorCode: 'ENOHELPER',
      startErrorHint: 'check that the helper (and sudo, if used) is installed and executable',
    });
    await proc.started;
    this.children.add(proc);
    void proc.exited.then(() => this.children.delete(proc));
    if (options.signal) {
      const onAbort = (): void => void proc.terminate();
      options.signal.addEventListener('abort', onAbort, { once: true });
      void proc.exited.then(() => options.signal?.removeEventListener('abort', onAbort));
    }
    return proc;
  }

  /**
   * Runs argv here as the current user (not root), without a shell, in its own process
   * group (live-test triggers, `run -- CMD`). Rejects with ENOENT/EACCES when it cannot start.
   */
  async spawnCommand(argv: readonly string[], options: RemoteSpawnOptions = {}): Promise<RemoteProcess> {
    const proc = await spawnLocalCommand(argv, options);
    this.children.add(proc);
    void proc.exited.then(() => this.children.delete(proc));
    return proc;
  }

  /** Terminates every helper and command this target started. */
  async close(): Promise<void> {
    await Promise.all([...this.children].map((c) => c.terminate()));
  }
}
