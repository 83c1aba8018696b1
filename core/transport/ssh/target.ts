// SshTarget: the helper on a remote host, started through an ssh2 exec channel.
// The helper is uploaded once per version (verified by sha256), started as root
// directly or through sudo, and detaches when its stdin reaches EOF.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Client, ClientChannel } from 'ssh2';
import type { HelperExit, HelperProcess, SpawnHelperOptions, TargetConnection } from '../types';
import { StudioError } from '../../util/errors';
import type { LogFn, SshLink } from './connect';
import { shellCommand, shellQuote } from './quote';

export interface RemoteInfo {
  arch: string;
  uid: number;
  home: string;
  kernel: string;
  btf: boolean;
  /** sha256 of /sys/kernel/btf/vmlinux on the target (cache key for its vmlinux.h). */
  btfSha256?: string;
}

export interface SshTargetOptions {
  helperBinaryFor: (arch: string) => string | Promise<string>;
  getSudoPassword?: (target: string) => Promise<string | undefined>;
  log?: LogFn;
  helperVersion: string;
  /** Remote directory for the helper; default `$HOME/.cache/ringbuf-studio/<version>`. */
  remoteCacheDir?: string;
  signal?: AbortSignal;
}

interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

type Privilege = { mode: 'root' } | { mode: 'sudo-n' } | { mode: 'sudo-password'; password: string };

/**
 * One round trip for everything we need first: arch, uid, home, kernel, BTF, and the
 * sha256 of a cached helper. The only variable part is the cache dir, passed quoted
 * (or built from $HOME inside the script); arch names are normalised as helperArch() does.
 */
export function remoteProbeCommand(cacheDir: string | undefined, version: string): string {
  const dir = cacheDir === undefined ? `"$HOME"/.cache/ringbuf-studio/${shellQuote(version)}` : shellQuote(cacheDir);
  return [
    'a=$(uname -m)',
    'case "$a" in arm64) a=aarch64 ;; amd64) a=x86_64 ;; esac',
    `printf '%s\\n' "$a" "$(id -u)" "$HOME" "$(uname -r)"`,
    // The BTF hash keys the local vmlinux.h cache without fetching the header.
    'if [ -r /sys/kernel/btf/vmlinux ]; then echo btf; sha256sum < /sys/kernel/btf/vmlinux; else echo nobtf; echo -; fi',
    `d=${dir}`,
    // Reuse only a helper in a directory we own and nobody else can write to (re-tightened on
    // every connect): in a writable one, another user could swap the binary after this check.
    `{ [ -O "$d" ] && chmod 700 -- "$d" && chmod go-w -- "$d/ringbuf-helper-$a" && sha256sum -- "$d/ringbuf-helper-$a"; } 2>/dev/null || echo none`,
  ].join('; ');
}

/** Runs one command and collects its output (for short control commands only). */
export function execCollect(client: Client, command: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) {
        reject(err);
        return;
      }
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code: number | null = null;
      let signal: string | null = null;
      const timer = setTimeout(() => {
        channel.close();
        reject(new StudioError(`remote command did not finish in ${(opts.timeoutMs ?? 30_000) / 1000} s`, { code: 'ESSHEXEC' }));
      }, opts.timeoutMs ?? 30_000);
      channel.on('data', (d: Buffer) => out.push(d));
      channel.stderr.on('data', (d: Buffer) => errOut.push(d));
      channel.on('exit', (c: number | null, s?: string) => {
        code = c;
        signal = s ?? null;
      });
      channel.on('close', () => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
      });
      if (opts.stdin !== undefined) channel.write(opts.stdin);
      channel.end();
    });
  });
}

/** The hash from a `sha256sum` line (GNU prefixes a backslash when the name has odd characters). */
function shaOf(line: string): string {
  return line.replace(/^\\/, '').split(/\s+/)[0] ?? '';
}

const sha256Cache = new Map<string, { mtimeMs: number; size: number; hash: string }>();

function localSha256(file: string): string {
  const st = fs.statSync(file);
  const cached = sha256Cache.get(file);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.hash;
  const hash = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  sha256Cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, hash });
  return hash;
}

/** Normalises `uname -m` to the helper's arch names. */
export function helperArch(unameM: string): string {
  if (unameM === 'arm64') return 'aarch64';
  if (unameM === 'amd64') return 'x86_64';
  return unameM;
}

/** Kernel release → [major, minor]. */
function kernelVersion(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/**
 * The problem that keeps ringbuf programs from running on a target, if any —
 * from the helper's HELLO (or our own probe): kernel ≥ 5.8 for BPF_MAP_TYPE_RINGBUF, BTF for CO-RE.
 */
export function targetKernelProblem(info: { kernel: string; btf: boolean; ringbuf?: boolean }, target: string): StudioError | undefined {
  const v = kernelVersion(info.kernel);
  if (info.ringbuf === false || (v && (v[0] < 5 || (v[0] === 5 && v[1] < 8)))) {
    return new StudioError(`${target} runs Linux ${info.kernel}; BPF ring buffers need 5.8 or newer`, {
      code: 'EKERNELOLD',
      hint: 'upgrade the kernel on the target (any distribution kernel from 2021 on has ringbuf), or pick another target',
    });
  }
  if (!info.btf) {
    return new StudioError(`${target} (Linux ${info.kernel}) has no kernel BTF (/sys/kernel/btf/vmlinux is missing)`, {
      code: 'ENOBTF',
      hint: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (the default in current Debian, Ubuntu, Fedora and RHEL kernels)',
    });
  }
  return undefined;
}

export class SshTarget implements TargetConnection {
  readonly kind = 'ssh' as const;
  /** How many times this connection uploaded the helper (0 when the cached copy was reused). */
  uploads = 0;
  info: RemoteInfo | undefined;
  helperPath: string | undefined;
  private privilege: Privilege | undefined;
  private readonly live = new Set<(reason: string) => void>();
  private lostReason: string | undefined;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly link: SshLink,
    private readonly opts: SshTargetOptions,
  ) {
    const onGone = (why: string): void => {
      if (this.lostReason !== undefined) return;
      this.lostReason = this.closed ? 'connection closed' : why;
      for (const notify of this.live) notify(this.lostReason);
      this.live.clear();
    };
    link.client.on('error', (err: Error) => onGone(`connection to ${name} lost: ${err.message}`));
    link.client.on('close', () => onGone(`connection to ${name} lost`));
  }

  /** The authenticated ssh2 client (for measurements and extra channels; do not end it directly). */
  get client(): Client {
    return this.link.client;
  }

  private log(level: 'info' | 'warn' | 'debug', msg: string): void {
    this.opts.log?.(level, msg);
  }

  private exec(command: string, stdin?: string): Promise<ExecResult> {
    return execCollect(this.link.client, command, stdin === undefined ? {} : { stdin });
  }

  /** Probes the host, makes sure the helper is there and decides how to get root. */
  async prepare(): Promise<void> {
    const probe = await this.exec(remoteProbeCommand(this.opts.remoteCacheDir, this.opts.helperVersion));
    const [unameM = '', uid = '', home = '', kernel = '', btf = '', btfSha = '', sha = ''] = probe.stdout.split('\n');
    if (probe.code !== 0 || !/^\d+$/.test(uid)) {
      throw new StudioError(`cannot probe ${this.name}: ${probe.stderr.trim() || `exit ${probe.code}`}`, {
        code: 'ESSHPROBE',
        hint: 'the target needs a POSIX shell with uname and id',
      });
    }
    this.info = {
      arch: helperArch(unameM.trim()),
      uid: Number(uid),
      home: home.trim(),
      kernel: kernel.trim(),
      btf: btf.trim() === 'btf',
      ...(/^[0-9a-f]{64}/.test(btfSha) ? { btfSha256: btfSha.slice(0, 64) } : {}),
    };
    const problem = targetKernelProblem(this.info, this.name);
    if (problem) throw problem;
    const cacheDir = this.opts.remoteCacheDir ?? `${this.info.home}/.cache/ringbuf-studio/${this.opts.helperVersion}`;
    await this.ensureHelper(cacheDir, shaOf(sha));
    await this.decidePrivilege();
  }

  private async localHelper(arch: string): Promise<string> {
    let file: string;
    try {
      file = await this.opts.helperBinaryFor(arch);
    } catch (err) {
      throw new StudioError(`no ringbuf-helper for ${arch} (the architecture of ${this.name})`, {
        code: 'EHELPERARCH',
        hint: `build it (make -C helper ARCH=${arch}); helpers ship for x86_64 and aarch64`,
        cause: err,
      });
    }
    if (!fs.existsSync(file)) {
      throw new StudioError(`no ringbuf-helper for ${arch} (the architecture of ${this.name}): ${file} does not exist`, {
        code: 'EHELPERARCH',
        hint: `build it (make -C helper ARCH=${arch}, then npm run build); helpers ship for x86_64 and aarch64`,
      });
    }
    return file;
  }

  private async ensureHelper(dir: string, remoteSha: string): Promise<void> {
    const info = this.info;
    if (!info) throw new StudioError('internal: prepare() first');
    const local = await this.localHelper(info.arch);
    const want = localSha256(local);
    const remote = `${dir}/ringbuf-helper-${info.arch}`;
    this.helperPath = remote;
    if (remoteSha === want) {
      this.log('debug', `helper on ${this.name} is current (${remote})`);
      return;
    }
    if (/^[0-9a-f]{64}$/.test(remoteSha)) this.log('warn', `helper on ${this.name} differs from ours (sha256 mismatch); uploading again`);
    else this.log('info', `uploading helper to ${this.name}:${remote}`);

    // Also drops partial uploads a lost connection left behind (older than 10 min, so never one in progress).
    const mk = await this.exec(
      `umask 077 && mkdir -p -- ${shellQuote(dir)} && chmod 700 -- ${shellQuote(dir)} && ` +
        `{ find ${shellQuote(dir)} -maxdepth 1 -name 'ringbuf-helper-*.upload-*' -mmin +10 -exec rm -f {} + 2>/dev/null || true; }`,
    );
    if (mk.code !== 0) {
      throw new StudioError(`cannot create ${dir} on ${this.name}: ${mk.stderr.trim()}`, {
        code: 'EHELPERUPLOAD',
        hint: 'check that the remote home directory is writable and not full',
      });
    }
    const tmp = `${remote}.upload-${crypto.randomBytes(6).toString('hex')}`;
    const upload = async (): Promise<void> => {
      try {
        await this.sftpPut(local, tmp);
      } catch (err) {
        if (!(err instanceof StudioError && err.code === 'ESFTPUNAVAILABLE')) throw err;
        // Hosts without an sftp subsystem: stream the file through `cat` instead.
        this.log('info', `${this.name} has no SFTP subsystem; uploading through an exec channel`);
        await this.catPut(local, tmp);
      }
    };
    await this.unlessLost(upload(), `uploading the helper to ${this.name}:${remote}`);
    // Rename into place atomically so a concurrent connect never runs a half-written file.
    const fin = await this.exec(`chmod 755 -- ${shellQuote(tmp)} && mv -f -- ${shellQuote(tmp)} ${shellQuote(remote)} && sha256sum -- ${shellQuote(remote)}`);
    if (fin.code !== 0 || shaOf(fin.stdout) !== want) {
      await this.exec(`rm -f -- ${shellQuote(tmp)}`);
      throw new StudioError(`uploading the helper to ${this.name} failed verification`, {
        code: 'EHELPERUPLOAD',
        hint: 'check free space on the target; the sha256 of the uploaded file did not match',
        detail: fin.stderr || fin.stdout,
      });
    }
    this.uploads++;
  }

  /**
   * `work`, or a clear error as soon as the connection goes: ssh2 leaves an SFTP transfer
   * pending forever when the link drops mid-upload.
   */
  private unlessLost<T>(work: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onLost = (reason: string): void =>
        reject(new StudioError(`${reason} while ${what}`, {
          code: 'ESSHLOST',
          hint: `check the network and sshd on ${this.name}, then try again; the partial upload is never run (the helper is checked by sha256 and uploaded again)`,
        }));
      if (this.lostReason !== undefined) {
        onLost(this.lostReason);
        return;
      }
      this.live.add(onLost);
      work.then(
        (v) => {
          this.live.delete(onLost);
          resolve(v);
        },
        (err: unknown) => {
          this.live.delete(onLost);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private sftpPut(local: string, remote: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.link.client.sftp((err, sftp) => {
        if (err) {
          reject(new StudioError(`cannot open SFTP on ${this.name}: ${err.message}`, { code: 'ESFTPUNAVAILABLE', cause: err }));
          return;
        }
        sftp.fastPut(local, remote, { mode: 0o700 }, (putErr) => {
          sftp.end();
          if (putErr) reject(new StudioError(`upload to ${this.name}:${remote} failed: ${putErr.message}`, { code: 'EHELPERUPLOAD', cause: putErr }));
          else resolve();
        });
      });
    });
  }

  private catPut(local: string, remote: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.link.client.exec(`umask 077 && cat > ${shellQuote(remote)}`, (err, channel) => {
        if (err) {
          reject(new StudioError(`upload to ${this.name}:${remote} failed: ${err.message}`, { code: 'EHELPERUPLOAD', cause: err }));
          return;
        }
        let code: number | null = null;
        let stderr = '';
        channel.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
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

  private async decidePrivilege(): Promise<void> {
    const info = this.info;
    const helper = this.helperPath;
    if (!info || !helper) throw new StudioError('internal: prepare() first');
    if (info.uid === 0) {
      this.privilege = { mode: 'root' };
      return;
    }
    // The check runs the helper itself, so a NOPASSWD rule limited to the helper works too.
    const check = await this.exec(shellCommand(['sudo', '-n', '--', helper, '--version']));
    if (check.code === 0) {
      this.privilege = { mode: 'sudo-n' };
      return;
    }
    const user = this.link.host.user;
    if (check.code === 127 || /command not found|not found/i.test(check.stderr)) {
      throw new StudioError(`${user} on ${this.name} is not root and sudo is not installed there`, {
        code: 'ENOSUDO',
        hint: 'connect as root (User root in ~/.ssh/config) or install sudo on the target',
      });
    }
    if (!/password is required/i.test(check.stderr)) {
      throw this.noSudoRights(check.stderr);
    }
    const password = await this.opts.getSudoPassword?.(this.name);
    if (password === undefined) {
      throw new StudioError(`sudo on ${this.name} needs a password for ${user}, and none was given`, {
        code: 'ESUDOPASSWORD',
        hint: `enter the sudo password when asked (VS Code), or allow the helper without a password: '${user} ALL=(root) NOPASSWD: ${helper}' in /etc/sudoers.d/ on the target`,
      });
    }
    const verify = await this.exec(shellCommand(['sudo', '-k', '-S', '-p', '', '--', helper, '--version']), `${password}\n`);
    if (verify.code === 0) {
      this.privilege = { mode: 'sudo-password', password };
      return;
    }
    if (/incorrect password|Sorry, try again/i.test(verify.stderr)) {
      throw new StudioError(`sudo on ${this.name} rejected the password for ${user}`, {
        code: 'ESUDOPASSWORD',
        hint: 'check the password (it is the remote user\'s login password)',
      });
    }
    throw this.noSudoRights(verify.stderr);
  }

  private noSudoRights(stderr: string): StudioError {
    const user = this.link.host.user;
    const sanitized = stderr.trim().split('\n').slice(-2).join(' ');
    return new StudioError(`${user} may not run the helper as root on ${this.name} (sudo: ${sanitized || 'refused'})`, {
      code: 'ENOSUDORIGHTS',
      hint: `add ${user} to sudoers on the target (e.g. '${user} ALL=(root) NOPASSWD: ${this.helperPath ?? 'ringbuf-helper'}' in /etc/sudoers.d/ringbuf-studio) or connect as root`,
    });
  }

  async spawnHelper(args: readonly string[], options: SpawnHelperOptions = {}): Promise<HelperProcess> {
    if (this.lostReason !== undefined) {
      throw new StudioError(this.lostReason, { code: 'ESSHLOST', hint: 'reconnect to the target' });
    }
    if (!this.privilege || !this.helperPath) await this.prepare();
    const helper = this.helperPath;
    const privilege = this.privilege;
    if (!helper || !privilege) throw new StudioError('internal: helper not prepared');
    const argv = [helper, ...args];
    let command: string;
    switch (privilege.mode) {
      case 'root':
        command = shellCommand(argv);
        break;
      case 'sudo-n':
        command = shellCommand(['sudo', '-n', '--', ...argv]);
        break;
      case 'sudo-password':
        // -k: always read the password, so it can never end up in the helper's stdin.
        command = shellCommand(['sudo', '-k', '-S', '-p', '', '--', ...argv]);
        break;
    }
    this.log('debug', `exec on ${this.name}: ${command}`);
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      this.link.client.exec(command, (err, ch) => {
        if (err) reject(new StudioError(`cannot start the helper on ${this.name}: ${err.message}`, { code: 'ESSHEXEC', cause: err }));
        else resolve(ch);
      });
    });
    if (privilege.mode === 'sudo-password') channel.write(`${privilege.password}\n`);
    return this.wrapChannel(channel, options);
  }

  private wrapChannel(channel: ClientChannel, options: SpawnHelperOptions): HelperProcess {
    let resolveExit: (e: HelperExit) => void = () => undefined;
    const exited = new Promise<HelperExit>((resolve) => {
      resolveExit = resolve;
    });
    let exitInfo: HelperExit | undefined;
    let done = false;
    const finish = (e: HelperExit): void => {
      if (done) return;
      done = true;
      this.live.delete(onLost);
      options.signal?.removeEventListener('abort', onAbort);
      resolveExit(e);
    };
    const onLost = (reason: string): void => {
      // The helper sees EOF on stdin when sshd drops the session and detaches itself.
      finish({ code: null, signal: null, connectionLost: reason });
      channel.destroy();
    };
    this.live.add(onLost);
    channel.on('exit', (code: number | null, signal?: string) => {
      exitInfo = { code, signal: signal ?? null };
    });
    channel.on('close', () => {
      finish(exitInfo ?? (this.lostReason ? { code: null, signal: null, connectionLost: this.lostReason } : { code: null, signal: null }));
    });
    const terminate = async (graceMs = 2000): Promise<void> => {
      if (done) return;
      try {
        channel.end(); // EOF on the helper's stdin: it detaches everything and exits
      } catch {
        /* already closed */
      }
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref())]);
      if (timedOut) {
        try {
          channel.signal('KILL');
        } catch {
          /* not supported */
        }
        channel.close();
        await Promise.race([exited, new Promise((r) => setTimeout(r, 1000).unref())]);
      }
    };
    const onAbort = (): void => void terminate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    return { stdout: channel, stdin: channel, stderr: channel.stderr, exited, terminate };
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
