// A child process on this machine as the transport seam's process (core/transport/types.ts):
// the helper (spawnHelper) and commands such as live-test triggers (spawnCommand).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { StudioError } from '../util/errors';
import type { HelperExit, RemoteProcess, RemoteSpawnOptions } from './types';

export interface LocalChildOptions {
  /**
   * The child leads its own process group (and session), and terminate() signals the
   * whole group: what a command leaves running behind it is ended with it.
   */
  group?: boolean;
  /** Error code when the program cannot start (ENOHELPER for the helper, ENOENT/EACCES for commands). */
  startErrorCode?: string;
  /** Hint when the program cannot start. */
  startErrorHint?: string;
}

/** A child process with piped stdio. */
export class LocalChildProcess implements RemoteProcess {
  readonly stdout: NodeJS.ReadableStream;
  readonly stdin: NodeJS.WritableStream;
  readonly stderr: NodeJS.ReadableStream;
  readonly exited: Promise<HelperExit>;
  readonly pid: Promise<number | undefined>;
  /** Resolves once spawned; rejects with a clear error when the program cannot start. */
  readonly started: Promise<void>;
  private done = false;

  constructor(
    private readonly child: ChildProcess,
    command: string,
    private readonly opts: LocalChildOptions = {},
  ) {
    if (!child.stdout || !child.stdin || !child.stderr) throw new StudioError('internal: process spawned without pipes');
    this.stdout = child.stdout;
    this.stdin = child.stdin;
    this.stderr = child.stderr;
    // EPIPE when the process is gone: its exit is reported through `exited`.
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
      child.once('error', () => {
        if (child.pid === undefined) {
          this.done = true;
          resolve({ code: null, signal: null });
        }
      });
    });
    this.started = new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (child.pid !== undefined) return;
        const reason = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied (not executable?)' : err.message;
        reject(
          new StudioError(`cannot start ${command}: ${reason}`, {
            code: opts.startErrorCode ?? err.code ?? 'ESPAWN',
            hint: opts.startErrorHint ?? 'check the path and that the file is executable',
            cause: err,
          }),
        );
      });
    });
    this.pid = this.started.then(
      () => child.pid,
      () => undefined,
    );
  }

  /** EOF on stdin, then SIGTERM, then SIGKILL (to the whole group for a group leader). Never throws. */
  async terminate(graceMs = 2000): Promise<void> {
    if (!this.done) await this.endLeader(graceMs);
    // What the leader left behind in its group is ended with it.
    if (this.opts.group) this.signal('SIGKILL');
  }

  private async endLeader(graceMs: number): Promise<void> {
    try {
      this.child.stdin?.end();
    } catch {
      // already closed: the exit below is what matters
    }
    if (await this.waitExit(graceMs)) return;
    this.signal('SIGTERM');
    if (await this.waitExit(1000)) return;
    this.signal('SIGKILL');
    await this.waitExit(1000);
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      if (this.opts.group) process.kill(-pid, sig);
      else this.child.kill(sig);
    } catch {
      // ESRCH: nothing left to signal
    }
  }

  private async waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), ms);
      }),
    ]);
    clearTimeout(timer);
    return !timedOut;
  }
}

/**
 * Runs argv on this machine as the current user, without a shell, in its own process
 * group; `env` is added to this process's environment.
 */
export async function spawnLocalCommand(argv: readonly string[], opts: RemoteSpawnOptions = {}): Promise<LocalChildProcess> {
  const [command, ...args] = argv;
  if (command === undefined || command === '') throw new StudioError('no command to run (empty argv)', { code: 'EUSAGE' });
  opts.signal?.throwIfAborted();
  // spawn reports a missing cwd as ENOENT of the command: say which it is.
  if (opts.cwd !== undefined && !fs.statSync(opts.cwd, { throwIfNoEntry: false })?.isDirectory()) {
    throw new StudioError(`cannot run ${command}: the working directory ${opts.cwd} does not exist`, { code: 'ENOCWD' });
  }
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    env: { ...process.env, ...opts.env },
  });
  const proc = new LocalChildProcess(child, command, { group: true, startErrorHint: 'check the path (absolute, or found on PATH) and that the file is executable' });
  await proc.started;
  if (opts.signal) {
    const onAbort = (): void => void proc.terminate(0);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    void proc.exited.then(() => opts.signal?.removeEventListener('abort', onAbort));
  }
  return proc;
}
