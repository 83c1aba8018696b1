// RemoteShell over one authenticated ssh2 connection: exec (collect), spawn (piped,
// with the remote pid), putFile (SFTP, or `cat` on hosts without an sftp subsystem)
// and a lost-link notice. Every command line is built by shellCommand(argv).
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Client, ClientChannel } from 'ssh2';
import { StudioError } from '../../util/errors';
import { StderrMarkers } from '../streamMarkers';
import type { ExecResult, HelperExit, LogFn, RemoteExecOptions, RemoteProcess, RemoteShell, RemoteSpawnOptions } from '../types';
import type { SshLink } from './connect';
import { shellCommand } from './quote';

const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT = 1 << 20;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Runs one command line and collects its output (short control commands only), bounded in time and size. */
export function execCollect(client: Client, command: string, opts: RemoteExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const maxBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) {
        reject(new StudioError(`cannot run a command on the target: ${err.message}`, { code: 'ETARGETEXEC', cause: err }));
        return;
      }
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      const size = { out: 0, err: 0 };
      let code: number | null = null;
      let signal: string | null = null;
      let failure: StudioError | undefined;
      const stop = (why: StudioError): void => {
        failure ??= why;
        channel.close();
      };
      const timer = setTimeout(() => stop(new StudioError(`a command on the target did not finish in ${timeoutMs / 1000} s`, { code: 'ETARGETEXEC' })), timeoutMs);
      const onAbort = (): void => stop(new StudioError('cancelled', { code: 'EABORTED' }));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const collect = (into: Buffer[], key: 'out' | 'err') => (d: Buffer): void => {
        size[key] += d.length;
        if (size[key] > maxBytes) stop(new StudioError(`a command on the target printed more than ${maxBytes} bytes; refusing to read more`, { code: 'ETARGETOUTPUT', hint: 'the target\'s tools print unexpected output: check its shell startup files and PATH' }));
        else into.push(d);
      };
      channel.on('data', collect(out, 'out'));
      channel.stderr.on('data', collect(errOut, 'err'));
      channel.on('exit', (c: number | null, s?: string) => {
        code = c;
        signal = s ?? null;
      });
      channel.on('close', () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (failure) reject(failure);
        else resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(errOut) });
      });
      if (opts.stdin !== undefined) channel.write(opts.stdin);
      channel.end();
    });
  });
}

/**
 * The remote side of spawn: `sh -c` prints its pid (a marker line on stderr, with a token
 * nobody can guess), changes directory, then execs argv — through `env` when variables
 * are set — so the pid is the command's own.
 */
function spawnCommandLine(argv: readonly string[], opts: RemoteSpawnOptions, token: string): string {
  const env = Object.entries(opts.env ?? {});
  for (const [name] of env) {
    if (!ENV_NAME.test(name)) throw new StudioError(`invalid environment variable name '${name}'`, { code: 'EUSAGE' });
  }
  const script = `${opts.cwd !== undefined ? 'cd -- "$1" || exit 127; shift; ' : ''}printf 'rbs-pid-${token} %s\\n' "$$" >&2; exec "$@"`;
  const command = env.length ? ['env', ...env.map(([k, v]) => `${k}=${v}`), ...argv] : [...argv];
  return shellCommand(['sh', '-c', script, 'sh', ...(opts.cwd !== undefined ? [opts.cwd] : []), ...command]);
}

export class SshShell implements RemoteShell {
  private readonly lostListeners = new Set<(reason: string) => void>();
  private readonly running = new Set<(reason: string) => void>();
  private lostReason: string | undefined;
  private closed = false;

  constructor(
    readonly name: string,
    readonly link: SshLink,
    private readonly log?: LogFn,
  ) {
    const onGone = (why: string): void => {
      if (this.lostReason !== undefined) return;
      this.lostReason = this.closed ? 'connection closed' : why;
      for (const end of this.running) end(this.lostReason);
      this.running.clear();
      if (!this.closed) for (const notify of this.lostListeners) notify(this.lostReason);
      this.lostListeners.clear();
    };
    link.client.on('error', (err: Error) => onGone(`connection to ${name} lost: ${err.message}`));
    link.client.on('close', () => onGone(`connection to ${name} lost`));
  }

  get client(): Client {
    return this.link.client;
  }

  /** Why the link is gone, once it is. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  onLost(fn: (reason: string) => void): () => void {
    const lost = this.lostReason;
    if (lost !== undefined) {
      if (!this.closed) queueMicrotask(() => fn(lost));
      return () => undefined;
    }
    this.lostListeners.add(fn);
    return () => this.lostListeners.delete(fn);
  }

  private requireLink(): void {
    if (this.lostReason !== undefined) throw new StudioError(this.lostReason, { code: 'ETARGETLOST', hint: 'reconnect to the target' });
  }

  exec(argv: readonly string[], opts: RemoteExecOptions = {}): Promise<ExecResult> {
    this.requireLink();
    return execCollect(this.link.client, shellCommand(argv), opts);
  }

  async spawn(argv: readonly string[], opts: RemoteSpawnOptions = {}): Promise<RemoteProcess> {
    this.requireLink();
    opts.signal?.throwIfAborted();
    const token = crypto.randomBytes(8).toString('hex');
    const command = spawnCommandLine(argv, opts, token);
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      this.link.client.exec(command, (err, ch) => {
        if (err) reject(new StudioError(`cannot start ${argv[0] ?? 'a command'} on ${this.name}: ${err.message}`, { code: 'ETARGETEXEC', cause: err }));
        else resolve(ch);
      });
    });
    return this.wrapChannel(channel, token, opts);
  }

  private wrapChannel(channel: ClientChannel, token: string, options: RemoteSpawnOptions): RemoteProcess {
    let resolvePid: (pid: number | undefined) => void = () => undefined;
    const pid = new Promise<number | undefined>((resolve) => (resolvePid = resolve));
    const stderr = new StderrMarkers(channel.stderr, [
      {
        pattern: new RegExp(`rbs-pid-${token} (\\d{1,10})\\n`),
        onMatch: (m) => {
          resolvePid(Number(m[1]));
          stderr.stop();
        },
      },
    ]);
    let resolveExit: (e: HelperExit) => void = () => undefined;
    const exited = new Promise<HelperExit>((resolve) => (resolveExit = resolve));
    let exitInfo: HelperExit | undefined;
    let done = false;
    const finish = (e: HelperExit): void => {
      if (done) return;
      done = true;
      this.running.delete(onLost);
      options.signal?.removeEventListener('abort', onAbort);
      resolvePid(undefined);
      resolveExit(e);
    };
    const onLost = (reason: string): void => {
      // The remote process sees EOF on stdin when sshd drops the session (the helper detaches).
      finish({ code: null, signal: null, connectionLost: reason });
      channel.destroy();
    };
    this.running.add(onLost);
    channel.on('exit', (code: number | null, signal?: string) => {
      exitInfo = { code, signal: signal ?? null };
    });
    channel.on('close', () => {
      finish(exitInfo ?? (this.lostReason ? { code: null, signal: null, connectionLost: this.lostReason } : { code: null, signal: null }));
    });
    const terminate = async (graceMs = 2000): Promise<void> => {
      if (done) return;
      try {
        channel.end(); // EOF on stdin: the helper detaches everything and exits
      } catch {
        // already closed: nothing to end
      }
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref())]);
      if (timedOut) {
        try {
          channel.signal('KILL');
        } catch {
          // the server may not support signals: closing the channel below ends it too
        }
        channel.close();
        await Promise.race([exited, new Promise((r) => setTimeout(r, 1000).unref())]);
      }
    };
    const onAbort = (): void => void terminate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    return { stdout: channel, stdin: channel, stderr: stderr.output, pid, exited, terminate };
  }

  async putFile(localPath: string, remotePath: string, mode: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    this.requireLink();
    opts.signal?.throwIfAborted();
    try {
      await this.sftpPut(localPath, remotePath, mode);
    } catch (err) {
      if (!(err instanceof StudioError && err.code === 'ESFTPUNAVAILABLE')) throw err;
      // Hosts without an sftp subsystem: stream the file through `cat` instead.
      this.log?.('info', `${this.name} has no SFTP subsystem; uploading through an exec channel`);
      await this.catPut(localPath, remotePath, mode);
    }
  }

  private sftpPut(local: string, remote: string, mode: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.link.client.sftp((err, sftp) => {
        if (err) {
          reject(new StudioError(`cannot open SFTP on ${this.name}: ${err.message}`, { code: 'ESFTPUNAVAILABLE', cause: err }));
          return;
        }
        sftp.fastPut(local, remote, { mode }, (putErr) => {
          sftp.end();
          if (putErr) reject(new StudioError(`upload to ${this.name}:${remote} failed: ${putErr.message}`, { code: 'EHELPERUPLOAD', cause: putErr }));
          else resolve();
        });
      });
    });
  }

  private catPut(local: string, remote: string, mode: number): Promise<void> {
    const command = shellCommand(['sh', '-c', 'umask 077 && cat > "$1" && chmod "$2" -- "$1"', 'sh', remote, mode.toString(8)]);
    return new Promise((resolve, reject) => {
      this.link.client.exec(command, (err, channel) => {
        if (err) {
          reject(new StudioError(`upload to ${this.name}:${remote} failed: ${err.message}`, { code: 'EHELPERUPLOAD', cause: err }));
          return;
        }
        let code: number | null = null;
        let stderr = '';
        channel.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
        channel.on('exit', (c: number | null) => (code = c));
        channel.resume(); // 'close' only comes once stdout has been read to its end
        channel.on('close', () => {
          if (code === 0) resolve();
          else reject(new StudioError(`upload to ${this.name}:${remote} failed: ${stderr.trim() || `exit ${code}`}`, { code: 'EHELPERUPLOAD' }));
        });
        fs.createReadStream(local).pipe(channel);
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.lostReason !== undefined) {
      // Already gone: no 'close' will come to wait for (only jump hops may be left to end).
      this.link.close();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const client = this.link.client;
      const timer = setTimeout(() => {
        client.destroy();
        resolve();
      }, 2000);
      timer.unref();
      client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.link.close();
    });
  }
}
