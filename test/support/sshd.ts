// Throwaway sshd instances on 127.0.0.1 for integration tests and benchmarks
// (recipe: /work/shared/env-recipes.md "Throwaway sshd on loopback"). Each one has
// its own temp dir, host key, client key, authorized_keys and known_hosts; it is
// stopped by its own pid. Also: test users with sudo rules, encrypted keys,
// ssh-agent, ssh_config files. Root only (sshd, useradd, sudoers).
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface SshdInstance {
  port: number;
  dir: string;
  pid: number;
  /** Private key (unencrypted ed25519) whose public half is authorized for every user. */
  clientKey: string;
  /** known_hosts with this server's key under `[127.0.0.1]:port`. */
  knownHosts: string;
  /** `[127.0.0.1]:port ssh-ed25519 AAAA…` */
  knownHostsLine: string;
  hostKeyPub: string;
  /** `SHA256:…` of the host key (what a connection's identity names). */
  hostKeyFingerprint: string;
  /** sshd's own log (stderr with -e). */
  log(): string;
  authorize(publicKeyFile: string): void;
  /** PIDs of per-connection sshd processes (children of the listener). */
  sessionPids(): number[];
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Extra sshd_config lines. */
  extraConfig?: string[];
  logLevel?: 'INFO' | 'VERBOSE' | 'DEBUG1';
  /** Reuse this host key (e.g. to start a second server that looks like the same host). */
  hostKey?: string;
  /** Leave out the sftp subsystem (like some minimal hosts). */
  noSftp?: boolean;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** ssh-keygen a key pair; returns the private key path. */
export function makeKey(dir: string, name: string, opts: { passphrase?: string; type?: 'ed25519' | 'ecdsa' | 'rsa' } = {}): string {
  const file = path.join(dir, name);
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.pub`, { force: true });
  execFileSync('ssh-keygen', ['-q', '-t', opts.type ?? 'ed25519', '-N', opts.passphrase ?? '', '-C', name, '-f', file]);
  return file;
}

function waitForBanner(port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const sock = net.connect(port, '127.0.0.1');
      let buf = '';
      sock.setTimeout(1000);
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        if (buf.startsWith('SSH-')) {
          sock.destroy();
          resolve();
        }
      });
      const retry = (): void => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd on port ${port} did not answer`));
        else setTimeout(attempt, 50);
      };
      sock.on('error', retry);
      sock.on('timeout', retry);
    };
    attempt();
  });
}

export async function startSshd(opts: SshdOptions = {}): Promise<SshdInstance> {
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-sshd-'));
  fs.chmodSync(dir, 0o755); // test users must be able to read authorized_keys
  const hostKey = path.join(dir, 'host_key');
  if (opts.hostKey) {
    fs.copyFileSync(opts.hostKey, hostKey);
    fs.copyFileSync(`${opts.hostKey}.pub`, `${hostKey}.pub`);
    fs.chmodSync(hostKey, 0o600);
  } else {
    makeKey(dir, 'host_key');
  }
  const clientKey = makeKey(dir, 'client_key');
  const authorizedKeys = path.join(dir, 'authorized_keys');
  fs.copyFileSync(`${clientKey}.pub`, authorizedKeys);
  fs.chmodSync(authorizedKeys, 0o644);

  const port = await freePort();
  const config = [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `LogLevel ${opts.logLevel ?? 'VERBOSE'}`,
    'AllowTcpForwarding yes',
    ...(opts.noSftp ? [] : ['Subsystem sftp internal-sftp']),
    ...(opts.extraConfig ?? []),
  ];
  fs.writeFileSync(path.join(dir, 'sshd_config'), config.join('\n') + '\n');

  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error('sshd did not start');
  // If the test process dies without stop() (a timeout, a crash), sshd must not outlive it.
  const killOnExit = (): void => {
    for (const p of [...descendantPids(pid), pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  try {
    await Promise.race([
      waitForBanner(port, Date.now() + 10_000),
      exited.then(() => {
        throw new Error(`sshd exited at start:\n${log}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  const hostKeyPub = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim();
  const knownHostsLine = `[127.0.0.1]:${port} ${hostKeyPub.split(' ').slice(0, 2).join(' ')}`;
  const hostKeyFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, knownHostsLine + '\n');

  return {
    port,
    dir,
    pid,
    clientKey,
    knownHosts,
    knownHostsLine,
    hostKeyPub,
    hostKeyFingerprint,
    log: () => log,
    authorize: (pub: string) => fs.appendFileSync(authorizedKeys, fs.readFileSync(pub, 'utf8')),
    sessionPids: () => childPids(pid),
    stop: async () => {
      process.removeListener('exit', killOnExit);
      // Per-connection sshd processes outlive the listener; remember them to end them too.
      const sessions = descendantPids(pid);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      for (const p of sessions) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function childPids(parent: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(entry));
    } catch {
      /* process gone */
    }
  }
  return out;
}

/** All descendants of a pid (children first-level, then theirs). */
export function descendantPids(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift();
    if (p === undefined) break;
    for (const c of childPids(p)) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

export interface TestUser {
  name: string;
  home: string;
  remove(): void;
}

/**
 * A throwaway local user reachable through the sshd instances (all share the
 * instance's authorized_keys). sudo: 'nopasswd' | { password } | 'none'.
 */
export function addTestUser(name: string, sudo: 'nopasswd' | 'none' | { password: string }, loginPassword?: string): TestUser {
  if (!/^rbs[a-z0-9]{1,20}$/.test(name)) throw new Error('test user names start with rbs');
  const sudoers = `/etc/sudoers.d/ringbuf-studio-test-${name}`;
  try {
    execFileSync('userdel', ['-r', name], { stdio: 'ignore' });
  } catch {
    /* did not exist */
  }
  execFileSync('useradd', ['-m', '-s', '/bin/sh', name]);
  // A locked account ('!') is refused by sshd even for key auth; '*' means "no password, not locked".
  if (typeof sudo === 'object') {
    execFileSync('chpasswd', [], { input: `${name}:${sudo.password}\n` });
    fs.writeFileSync(sudoers, `${name} ALL=(ALL) ALL\n`, { mode: 0o440 });
  } else if (loginPassword !== undefined) {
    execFileSync('chpasswd', [], { input: `${name}:${loginPassword}\n` });
  } else {
    execFileSync('usermod', ['-p', '*', name]);
  }
  if (typeof sudo !== 'object') {
    if (sudo === 'nopasswd') fs.writeFileSync(sudoers, `${name} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  }
  const home = execFileSync('sh', ['-c', 'getent passwd "$1" | cut -d: -f6', 'sh', name], { encoding: 'utf8' }).trim();
  return {
    name,
    home,
    remove: () => {
      fs.rmSync(sudoers, { force: true });
      try {
        execFileSync('pkill', ['-KILL', '-u', name], { stdio: 'ignore' });
      } catch {
        /* nothing running */
      }
      try {
        execFileSync('userdel', ['-r', name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    },
  };
}

export interface SshAgent {
  socket: string;
  pid: number;
  add(keyFile: string): void;
  stop(): Promise<void>;
}

export async function startSshAgent(): Promise<SshAgent> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-agent-'));
  const socket = path.join(dir, 'agent.sock');
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 5000;
  while (!fs.existsSync(socket)) {
    if (Date.now() > deadline) throw new Error('ssh-agent did not create its socket');
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    socket,
    pid: child.pid ?? 0,
    add: (keyFile) => {
      execFileSync('ssh-add', ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes an ssh_config file; returns its path. */
export function writeSshConfig(dir: string, text: string, name = 'ssh_config'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}
