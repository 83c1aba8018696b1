// The helper on a remote target, over any RemoteShell (SSH today, a VM next): probe the
// target in one round trip, make sure our helper is there (uploaded into a directory the
// login user owns, verified by sha256, reused when current), decide how it gets root
// (already root, `sudo -n`, or sudo with a password sent only to sudo's own prompt) and
// start it. Everything the target says is checked against closed sets or used as data.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { StudioError } from '../util/errors';
import { kernelProblem } from '../util/kernel';
import { printable, printableLine } from '../util/remoteText';
import { findHelperBinary, helperArchOf, helperFileName } from './helperBinaries';
import type { SecretRef, SudoPrompt } from './secrets';
import { spawnWithSudoPassword, type SudoProcess } from './sudo';
import type { HelperArch, HelperProcess, LogFn, RemoteShell, SpawnHelperOptions, TargetInfo } from './types';

export interface RemoteHelperOptions {
  /** The local helper binary for an arch. Default: findHelperBinary(arch, { helperPath }). */
  helperBinaryFor?: ((arch: HelperArch) => string | Promise<string>) | undefined;
  /** The explicit helper override (setting / --helper), for the arch it is built for. */
  helperPath?: string | undefined;
  /** Our version: it names the remote cache directory. */
  helperVersion: string;
  /** Remote helper directory; default `$HOME/.cache/ringbuf-studio/<version>`. */
  remoteCacheDir?: string | undefined;
  /** The login user (for messages) and the target's identity (what a sudo password is keyed by). */
  account: { target: string; user: string; identity: string };
  /** Asked only when sudo needs a password. */
  getSudoPassword?: ((who: SudoPrompt) => Promise<string | undefined>) | undefined;
  /** Told when a password was refused, so it is forgotten at once. */
  secretRejected?: ((ref: SecretRef) => void | Promise<void>) | undefined;
  log?: LogFn | undefined;
  signal?: AbortSignal | undefined;
}

/** What the connect probe learned (validated). */
export interface RemoteFacts extends TargetInfo {
  uid: number;
  home: string;
  btf: boolean;
}

type Privilege = { mode: 'root' } | { mode: 'sudo-n' } | { mode: 'sudo-password'; password: string };

/**
 * One round trip for everything we need first. Positional parameters: $1 a marker token
 * (output before it — a chatty shell startup file — is ignored), $2 the cache dir ('' =
 * under $HOME), $3 our version. A cached helper is hashed only for an arch we ship, and
 * only in a directory the user owns, re-tightened on every connect: in a writable one,
 * another user could swap the binary after this check.
 */
const PROBE_SCRIPT = [
  `printf 'rbs-probe-%s\\n' "$1"`,
  'a=$(uname -m)',
  `printf '%s\\n' "$a" "$(id -u)" "$HOME" "$(uname -r)"`,
  'if [ -r /sys/kernel/btf/vmlinux ]; then echo btf; sha256sum < /sys/kernel/btf/vmlinux; else echo nobtf; echo -; fi',
  'd=${2:-"$HOME/.cache/ringbuf-studio/$3"}',
  'case "$a" in arm64) a=aarch64 ;; amd64) a=x86_64 ;; esac',
  'case "$a" in x86_64|aarch64) { [ -O "$d" ] && chmod 700 -- "$d" && chmod go-w -- "$d/ringbuf-helper-$a" && sha256sum -- "$d/ringbuf-helper-$a"; } 2>/dev/null || echo none ;; *) echo none ;; esac',
  // One line: a login shell such as csh does not accept newlines inside quotes.
].join('; ');

/** argv of the probe (see PROBE_SCRIPT). */
export function remoteProbeArgv(token: string, cacheDir: string | undefined, version: string): string[] {
  return ['sh', '-c', PROBE_SCRIPT, 'sh', token, cacheDir ?? '', version];
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The hash from a `sha256sum` line (GNU prefixes a backslash when the name has odd characters); '' when it is not one. */
function shaOf(line: string | undefined): string {
  const word = (line ?? '').replace(/^\\/, '').split(/\s+/)[0] ?? '';
  return SHA256.test(word) ? word : '';
}

function probeProblem(target: string, what: string, detail?: string): StudioError {
  return new StudioError(`cannot probe ${target}: ${what}`, {
    code: 'ETARGETPROBE',
    hint: 'the target needs a POSIX shell with uname, id and sha256sum on the login user\'s PATH',
    ...(detail ? { detail } : {}),
  });
}

/** Parses and validates the probe's output: a target's word is data, checked field by field. */
export function parseProbe(stdout: string, token: string, target: string): RemoteFacts & { cachedHelperSha: string } {
  const lines = stdout.split('\n');
  const start = lines.indexOf(`rbs-probe-${token}`);
  if (start < 0) throw probeProblem(target, 'its shell did not run the probe', printable(stdout, { multiline: true }));
  const [unameM = '', uid = '', home = '', kernel = '', btf = '', btfSha = '', helperSha = ''] = lines.slice(start + 1);
  const arch = helperArchOf(unameM, target);
  if (!/^\d{1,10}$/.test(uid)) throw probeProblem(target, `\`id -u\` printed '${printableLine(uid, 40)}'`);
  if (btf !== 'btf' && btf !== 'nobtf') throw probeProblem(target, `unexpected BTF line '${printableLine(btf, 40)}'`);
  const btfSha256 = shaOf(btfSha);
  return {
    arch,
    uid: Number(uid),
    // Remote text: used only in remote commands (quoted) and, escaped, in messages.
    home,
    kernel: printableLine(kernel, 100),
    btf: btf === 'btf',
    ...(btfSha256 ? { btfSha256 } : {}),
    cachedHelperSha: shaOf(helperSha),
  };
}

const sha256Memo = new Map<string, { mtimeMs: number; size: number; hash: string }>();

function localSha256(file: string): string {
  const st = fs.statSync(file);
  const cached = sha256Memo.get(file);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.hash;
  const hash = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  sha256Memo.set(file, { mtimeMs: st.mtimeMs, size: st.size, hash });
  return hash;
}

export class RemoteHelper {
  info: RemoteFacts | undefined;
  /** The helper's path on the target. */
  helperPath: string | undefined;
  /** How many times this connection uploaded the helper (0 when the cached copy was reused). */
  uploads = 0;
  private privilege: Privilege | undefined;

  constructor(
    private readonly shell: RemoteShell,
    private readonly opts: RemoteHelperOptions,
  ) {}

  private get name(): string {
    return this.shell.name;
  }

  private log(level: 'info' | 'warn' | 'debug', msg: string): void {
    this.opts.log?.(level, msg);
  }

  /** Probes the target, makes sure the helper is there and decides how it gets root. */
  async prepare(): Promise<RemoteFacts> {
    const token = crypto.randomBytes(8).toString('hex');
    const probe = await this.shell.exec(remoteProbeArgv(token, this.opts.remoteCacheDir, this.opts.helperVersion), this.signalOpt());
    const stdout = probe.stdout.toString('utf8');
    if (probe.code !== 0) throw probeProblem(this.name, printableLine(probe.stderr.toString('utf8')) || `exit ${probe.code}`);
    const { cachedHelperSha, ...facts } = parseProbe(stdout, token, this.name);
    this.info = facts;
    const problem = kernelProblem(facts, this.name);
    if (problem) throw problem;
    await this.ensureHelper(this.cacheDir(facts), cachedHelperSha);
    await this.decidePrivilege();
    return facts;
  }

  private signalOpt(): { signal?: AbortSignal } {
    return this.opts.signal ? { signal: this.opts.signal } : {};
  }

  private cacheDir(facts: RemoteFacts): string {
    if (this.opts.remoteCacheDir !== undefined) return this.opts.remoteCacheDir;
    if (!facts.home.startsWith('/') || facts.home !== printable(facts.home)) {
      throw probeProblem(this.name, `its home directory '${printableLine(facts.home, 100)}' is not an absolute path`);
    }
    return `${facts.home}/.cache/ringbuf-studio/${this.opts.helperVersion}`;
  }

  private async localHelper(arch: HelperArch): Promise<string> {
    const file = this.opts.helperBinaryFor ? await this.opts.helperBinaryFor(arch) : findHelperBinary(arch, { helperPath: this.opts.helperPath });
    if (!fs.existsSync(file)) {
      throw new StudioError(`no ringbuf-helper for ${arch} (the architecture of ${this.name}): ${file} does not exist`, {
        code: 'ENOHELPER',
        hint: `build it (make -C helper${arch === 'x86_64' ? '' : ` ${arch}`}, then npm run build); helpers ship for x86_64 and aarch64`,
      });
    }
    return file;
  }

  private async ensureHelper(dir: string, remoteSha: string): Promise<void> {
    const arch = this.info?.arch;
    if (!arch) throw new StudioError('internal: prepare() first');
    const local = await this.localHelper(arch);
    const want = localSha256(local);
    const remote = `${dir}/${helperFileName(arch)}`;
    this.helperPath = remote;
    if (remoteSha === want) {
      this.log('debug', `helper on ${this.name} is current (${remote})`);
      return;
    }
    if (remoteSha) this.log('warn', `helper on ${this.name} differs from ours (sha256 mismatch); uploading again`);
    else this.log('info', `uploading helper to ${this.name}:${remote}`);

    // Also drops partial uploads a lost connection left behind (older than 10 min, so never one in progress).
    const mk = await this.shell.exec(
      ['sh', '-c', 'umask 077 && mkdir -p -- "$1" && chmod 700 -- "$1" && { find "$1" -maxdepth 1 -name "ringbuf-helper-*.upload-*" -mmin +10 -exec rm -f {} + 2>/dev/null || true; }', 'sh', dir],
      this.signalOpt(),
    );
    if (mk.code !== 0) {
      throw new StudioError(`cannot create ${dir} on ${this.name}: ${printableLine(mk.stderr.toString('utf8'))}`, {
        code: 'EHELPERUPLOAD',
        hint: 'check that the remote home directory is writable and not full',
      });
    }
    const tmp = `${remote}.upload-${crypto.randomBytes(6).toString('hex')}`;
    await this.unlessLost(this.shell.putFile(local, tmp, 0o700, this.signalOpt()), `uploading the helper to ${this.name}:${remote}`);
    // Rename into place atomically so a concurrent connect never runs a half-written file.
    const fin = await this.shell.exec(['sh', '-c', 'chmod 755 -- "$1" && mv -f -- "$1" "$2" && sha256sum -- "$2"', 'sh', tmp, remote], this.signalOpt());
    if (fin.code !== 0 || shaOf(fin.stdout.toString('utf8')) !== want) {
      await this.shell.exec(['rm', '-f', '--', tmp]).catch(() => undefined); // best effort: a leftover is swept by the next upload
      throw new StudioError(`uploading the helper to ${this.name} failed verification`, {
        code: 'EHELPERUPLOAD',
        hint: 'check free space on the target; the sha256 of the uploaded file did not match',
        detail: printable(fin.stderr.toString('utf8') || fin.stdout.toString('utf8'), { multiline: true }),
      });
    }
    this.uploads++;
  }

  /** `work`, or a clear error as soon as the link goes (ssh2 leaves an SFTP transfer pending forever then). */
  private unlessLost<T>(work: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const off = this.shell.onLost((reason) =>
        reject(
          new StudioError(`${reason} while ${what}`, {
            code: 'ETARGETLOST',
            hint: `check the network and the target ${this.name}, then try again; the partial upload is never run (the helper is checked by sha256 and uploaded again)`,
          }),
        ),
      );
      work.then(
        (v) => {
          off();
          resolve(v);
        },
        (err: unknown) => {
          off();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
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
    const check = await this.shell.exec(['sudo', '-n', '--', helper, '--version'], this.signalOpt());
    const stderr = check.stderr.toString('utf8');
    if (check.code === 0) {
      this.privilege = { mode: 'sudo-n' };
      return;
    }
    const { user } = this.opts.account;
    if (check.code === 127 || /command not found|not found/i.test(stderr)) {
      throw new StudioError(`${user} on ${this.name} is not root and sudo is not installed there`, {
        code: 'ENOSUDO',
        hint: 'connect as root (User root in ~/.ssh/config) or install sudo on the target',
      });
    }
    if (!/password is required/i.test(stderr)) throw this.noSudoRights(stderr);
    const password = await this.opts.getSudoPassword?.(this.sudoPrompt());
    if (password === undefined) {
      throw new StudioError(`sudo on ${this.name} needs a password for ${user}, and none was given`, {
        code: 'ESUDOPASSWORD',
        hint: `enter the sudo password when asked (VS Code), or allow the helper without a password: '${user} ALL=(root) NOPASSWD: ${helper}' in /etc/sudoers.d/ on the target`,
      });
    }
    await this.verifyPassword(helper, password);
  }

  private sudoPrompt(): SudoPrompt {
    const { target, user, identity } = this.opts.account;
    return { target, user, identity };
  }

  /** Runs `helper --version` through sudo with the password: accepted, no longer needed, or rejected (then forgotten). */
  private async verifyPassword(helper: string, password: string): Promise<void> {
    const proc = await spawnWithSudoPassword(this.shell, [helper, '--version'], password, this.signalOpt());
    proc.stdin.end();
    proc.stdout.resume();
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
    const timer = setTimeout(() => void proc.terminate(500), 30_000);
    const [exit, outcome] = await Promise.all([proc.exited, proc.sudo]);
    clearTimeout(timer);
    if (exit.code === 0 && (outcome === 'accepted' || outcome === 'not-asked')) {
      this.privilege = outcome === 'accepted' ? { mode: 'sudo-password', password } : { mode: 'sudo-n' };
      if (outcome === 'not-asked') this.log('info', `sudo on ${this.name} no longer asks for a password; not sending it`);
      return;
    }
    if (outcome === 'rejected' || /incorrect password|Sorry, try again/i.test(stderr)) throw await this.rejected();
    throw this.noSudoRights(stderr);
  }

  private async rejected(): Promise<StudioError> {
    await this.opts.secretRejected?.({ kind: 'sudo-password', prompt: this.sudoPrompt() });
    return new StudioError(`sudo on ${this.name} rejected the password for ${this.opts.account.user}`, {
      code: 'ESUDOPASSWORD',
      hint: "check the password (it is the remote user's login password); it was forgotten, so you are asked again next time",
    });
  }

  private noSudoRights(stderr: string): StudioError {
    const { user } = this.opts.account;
    const said = printableLine(stderr.trim().split('\n').slice(-2).join(' '));
    return new StudioError(`${user} may not run the helper as root on ${this.name} (sudo: ${said || 'refused'})`, {
      code: 'ENOSUDORIGHTS',
      hint: `add ${user} to sudoers on the target (e.g. '${user} ALL=(root) NOPASSWD: ${this.helperPath ?? 'ringbuf-helper'}' in /etc/sudoers.d/ringbuf-studio) or connect as root`,
    });
  }

  /** Starts the helper as root with `args`. */
  async spawnHelper(args: readonly string[], options: SpawnHelperOptions = {}): Promise<HelperProcess> {
    if (!this.privilege || !this.helperPath) await this.prepare();
    const helper = this.helperPath;
    const privilege = this.privilege;
    if (!helper || !privilege) throw new StudioError('internal: helper not prepared');
    const argv = [helper, ...args];
    const spawnOpts = options.signal ? { signal: options.signal } : {};
    this.log('debug', `start on ${this.name} (${privilege.mode}): ${argv.join(' ')}`);
    switch (privilege.mode) {
      case 'root':
        return this.shell.spawn(argv, spawnOpts);
      case 'sudo-n':
        return this.shell.spawn(['sudo', '-n', '--', ...argv], spawnOpts);
      case 'sudo-password': {
        const proc = await spawnWithSudoPassword(this.shell, argv, privilege.password, spawnOpts);
        this.watchRejection(proc);
        return proc;
      }
    }
  }

  /** A password refused at start (changed since connect) is forgotten, and asked for again on the next connect. */
  private watchRejection(proc: SudoProcess): void {
    void proc.sudo.then(async (outcome) => {
      if (outcome !== 'rejected') return;
      this.privilege = undefined;
      this.log('warn', (await this.rejected()).message);
    });
  }
}
