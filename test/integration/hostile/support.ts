// The hostile-target tier: a real sshd whose sessions find lying tools first on PATH
// (sshd `SetEnv PATH=…`), and the real CLI — bundled into a package directory of its own,
// as an install would be — run under `strace -f`, so every file it opens, creates or
// renames can be checked against the places it may touch.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleCli } from '../../support/cliBundle';
import { startSshd, type SshdInstance } from '../../support/sshd';

export const repoRoot = path.resolve(__dirname, '../../..');

/** Tools a hostile target lies with; each reads its lie from `<dir>/say/<name>` when that file exists. */
const LIARS: Record<string, string> = {
  uname: `case "$1" in
  -m) [ -f "$SAY/uname-m" ] && exec /bin/cat "$SAY/uname-m" ;;
  -r) [ -f "$SAY/uname-r" ] && exec /bin/cat "$SAY/uname-r" ;;
esac
exec /usr/bin/uname "$@"`,
  id: `[ "$1" = -u ] && [ -f "$SAY/id-u" ] && exec /bin/cat "$SAY/id-u"
exec /usr/bin/id "$@"`,
  // With a file argument (the cached helper): the lie, then the name, like the real tool.
  sha256sum: `if [ $# -gt 0 ] && [ -f "$SAY/sha256sum-file" ]; then
  for a in "$@"; do [ "$a" = -- ] || printf '%s  %s\\n' "$(/bin/cat "$SAY/sha256sum-file")" "$a"; done; exit 0
fi
exec /usr/bin/sha256sum "$@"`,
  // Used by the upload fallback (`cat > file`) on hosts without SFTP: writes its lie instead.
  cat: `if [ $# -eq 0 ] && [ -f "$SAY/cat" ]; then /bin/cat > /dev/null; exec /bin/cat "$SAY/cat"; fi
exec /bin/cat "$@"`,
};

export interface HostileTarget {
  sshd: SshdInstance;
  /** Write a lie: `say('uname-m', 'x86_64/../../etc')`; `say(name, undefined)` takes it back. */
  say(name: string, text: string | Buffer | undefined): void;
  /** `Host <alias>` lines for ~/.ssh/config (login as `user` with the harness key). */
  sshConfig(alias: string, user: string): string;
  stop(): Promise<void>;
}

export async function startHostileTarget(opts: { noSftp?: boolean } = {}): Promise<HostileTarget> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-hostile-target-'));
  fs.chmodSync(dir, 0o755);
  const bin = path.join(dir, 'bin');
  const say = path.join(dir, 'say');
  fs.mkdirSync(bin);
  fs.mkdirSync(say);
  for (const [name, body] of Object.entries(LIARS)) {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nSAY=${say}\n${body}\n`, { mode: 0o755 });
  }
  // SetEnv overrides the session's environment: every command of ours meets the liars first.
  const sshd = await startSshd({ ...opts, extraConfig: [`SetEnv PATH=${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`] });
  return {
    sshd,
    say: (name, text) => {
      const f = path.join(say, name);
      if (text === undefined) fs.rmSync(f, { force: true });
      else fs.writeFileSync(f, text);
    },
    sshConfig: (alias, user) => `Host ${alias}\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${user}\n  IdentityFile ${sshd.clientKey}\n`,
    stop: async () => {
      await sshd.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Ringbuf Studio install in `dir`: package.json, dist/cli.js (bundled as scripts/build.mjs
 * does), dist/include, and the helpers asked for in dist/helper — nothing else.
 */
export async function installPackage(dir: string, arches: readonly string[] = ['x86_64']): Promise<string> {
  fs.mkdirSync(path.join(dir, 'dist', 'helper'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(repoRoot, 'dist', 'include'), path.join(dir, 'dist', 'include'), { recursive: true });
  for (const arch of arches) {
    fs.copyFileSync(path.join(repoRoot, 'helper', 'build', `ringbuf-helper-${arch}`), path.join(dir, 'dist', 'helper', `ringbuf-helper-${arch}`));
  }
  const cli = await bundleCli(path.join(dir, 'dist', 'cli.js'));
  return cli;
}

/** A user's HOME with ~/.ssh/config, known_hosts and nothing else. */
export function makeHome(dir: string, sshConfig: string, knownHosts: string): string {
  fs.mkdirSync(path.join(dir, '.ssh'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, '.ssh', 'config'), sshConfig);
  fs.writeFileSync(path.join(dir, '.ssh', 'known_hosts'), knownHosts);
  return dir;
}

export interface FileEvent {
  pid: number;
  call: string;
  path: string;
  /** Open flags (O_WRONLY|O_CREAT…) or '' */
  flags: string;
  ok: boolean;
}

export interface TracedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** File operations of the CLI process itself (child programs such as clang are left out). */
  events: FileEvent[];
}

const TRACED = 'open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,symlink,symlinkat,link,linkat,execve';

/** Decodes strace's C-style string escapes (\\n, \\x1b, \\033, \\\\, \\"). */
function unescape(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e.startsWith('x')) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

/** Parses `strace -f -o` output into the CLI's own file events. */
export function parseTrace(text: string, nodeBinary: string): FileEvent[] {
  const events: FileEvent[] = [];
  const exec = new Map<number, string>(); // pid → program it exec'd
  const pending = new Map<number, { call: string; path: string; flags: string }>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const rest = m[2] ?? '';
    const resumed = /^<\.\.\. (\w+) resumed>.*= (-?\d+)/.exec(rest);
    let call: string;
    let target: string;
    let flags: string;
    let result: number;
    if (resumed) {
      const p = pending.get(pid);
      if (!p) continue;
      pending.delete(pid);
      ({ call, path: target, flags } = p);
      result = Number(resumed[2]);
    } else {
      const c = /^(\w+)\((.*)$/.exec(rest);
      if (!c) continue;
      call = c[1] ?? '';
      const args = c[2] ?? '';
      const str = /"((?:[^"\\]|\\.)*)"/.exec(args);
      if (!str) continue;
      target = unescape(str[1] ?? '');
      flags = /\b(O_[A-Z_|]+)/.exec(args)?.[1] ?? '';
      if (/<unfinished \.\.\.>$/.test(args)) {
        pending.set(pid, { call, path: target, flags });
        continue;
      }
      result = Number(/= (-?\d+)/.exec(args)?.[1] ?? '-1');
    }
    if (call === 'execve') {
      if (result === 0) exec.set(pid, target);
      continue;
    }
    const program = exec.get(pid);
    if (program !== undefined && program !== nodeBinary) continue; // clang and other child programs
    events.push({ pid, call, path: target, flags, ok: result >= 0 });
  }
  return events;
}

/** Runs `node <cli> args` under strace; resolves when it exits. */
export function runTracedCli(cli: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<TracedRun> {
  const traceFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-strace-')), 'trace');
  const node = fs.realpathSync(process.execPath);
  const child = spawn('strace', ['-f', '-qq', '-s', '4096', '-e', `trace=${TRACED}`, '-o', traceFile, node, cli, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      const text = fs.readFileSync(traceFile, 'utf8');
      fs.rmSync(path.dirname(traceFile), { recursive: true, force: true });
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), events: parseTrace(text, node) });
    });
  });
}

/** What the CLI process may open (read) at all: its package, its cache, ~/.ssh, the program, and the system's runtime files. */
export interface Allowed {
  /** Directories whose files it may read. */
  read: string[];
  /** Directories it may create, write, rename or delete files in. */
  write: string[];
}

/** The runtime files any Node program reads (libraries, locale, TLS, /proc, /sys, /dev). */
const SYSTEM_READ = ['/etc/ld.so.cache', '/lib/', '/lib64/', '/usr/lib/', '/usr/lib64/', '/usr/share/zoneinfo/', '/usr/share/locale/', '/etc/ssl/', '/etc/localtime', '/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/etc/host.conf', '/etc/hosts', '/etc/resolv.conf', '/etc/gai.conf', '/etc/netsvc.conf', '/etc/svc.conf', '/etc/ssh/ssh_known_hosts', '/proc/', '/sys/', '/dev/'];

/** `dir/` and `prefix*` match by prefix; anything else is that path or below it. */
function under(file: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => (d.endsWith('/') ? file.startsWith(d) : d.endsWith('*') ? file.startsWith(d.slice(0, -1)) : file === d || file.startsWith(`${d}/`)));
}

const WRITE_FLAGS = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;

/** Every file event outside what is allowed (empty when the run behaved). */
export function violations(run: TracedRun, allowed: Allowed, cwd: string): string[] {
  const node = fs.realpathSync(process.execPath);
  const out: string[] = [];
  for (const e of run.events) {
    const file = path.resolve(cwd, e.path);
    const writes = e.call !== 'open' && e.call !== 'openat' && e.call !== 'openat2' ? true : WRITE_FLAGS.test(e.flags);
    // `mkdir -p` of an allowed directory creates (or finds) its parents first.
    const parentOfAllowed = e.call.startsWith('mkdir') && allowed.write.some((d) => d.startsWith(`${file}/`));
    if (writes) {
      if (!under(file, allowed.write) && !parentOfAllowed && !(e.call.startsWith('open') && file.startsWith('/dev/'))) out.push(`${e.call} ${file} ${e.flags}`.trim());
    } else if (!under(file, [...allowed.read, ...allowed.write, ...SYSTEM_READ, node])) {
      out.push(`${e.call} ${file}${e.ok ? '' : ' (failed)'}`);
    }
  }
  return [...new Set(out)];
}

export function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
