// SshTarget against a real sshd: helper upload (verified, reused, repaired),
// root / sudo -n / sudo with a password, spawn and the stdin-EOF detach signal.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHelperBinary } from '../../../core/transport/helperBinaries';
import { connectSshTarget } from '../../../core/transport/ssh/index';
import type { SshConnectOptions } from '../../../core/transport/ssh/index';
import type { HelperProcess } from '../../../core/transport/types';
import { StudioError } from '../../../core/util/errors';
import { available } from '../../support/prereq';
import { waitFor } from '../../support/wait';
import { addTestUser, descendantPids, startSshd } from '../../support/sshd';
import type { SshdInstance, TestUser } from '../../support/sshd';

function realHelper(): string | undefined {
  try {
    return findHelperBinary('x86_64');
  } catch {
    return undefined;
  }
}

/**
 * Stand-in for ringbuf-helper, used where the test is about transport (upload,
 * sudo, argv, stdin EOF) and not about BPF: `serve` records its uid and args,
 * copies stdin to a file and writes "eof" when stdin closes.
 */
const STANDIN = `#!/bin/sh
case "$1" in
  --version) echo "ringbuf-helper 0.1.0 protocol 1"; exit 0 ;;
  serve)
    out="$2"; shift 2
    id -u > "$out.uid"
    for a in "$@"; do printf '%s\\n' "$a"; done > "$out.args"
    echo ready
    cat > "$out.stdin"
    echo eof > "$out.eof"
    exit 0 ;;
esac
exit 3
`;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const chunk of stream) s += String(chunk);
  return s;
}

async function firstLine(p: HelperProcess): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        p.stdout.removeListener('data', onData);
        resolve(buf.slice(0, i));
      }
    };
    p.stdout.on('data', onData);
  });
}

describe.skipIf(!available('sshd'))('SshTarget (real sshd)', () => {
  let sshd: SshdInstance;
  let work: string;
  let standin: string;
  let sudoUser: TestUser | undefined;
  let pwUser: TestUser | undefined;
  let plainUser: TestUser | undefined;
  let cmdUser: TestUser | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-target-'));
    fs.chmodSync(work, 0o777);
    standin = path.join(work, 'standin-helper');
    fs.writeFileSync(standin, STANDIN, { mode: 0o755 });
  });
  afterAll(async () => {
    sudoUser?.remove();
    pwUser?.remove();
    plainUser?.remove();
    cmdUser?.remove();
    await sshd?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  function opts(extra: Partial<SshConnectOptions> = {}): SshConnectOptions {
    return {
      knownHostsPath: sshd.knownHosts,
      sshConfigPath: path.join(work, 'no-config'),
      agentSocket: '/nonexistent',
      extraTargets: [],
      helperBinaryFor: () => standin,
      log: (level, msg) => logs.push(`${level}: ${msg}`),
      ...extra,
    };
  }
  // Identity for a user@host spec: the harness key through a config file written for it.
  const keyOnly = (key: string): Partial<SshConnectOptions> => {
    const cfg = path.join(work, `cfg-${path.basename(path.dirname(key))}`);
    fs.writeFileSync(cfg, `Host *\n  IdentityFile ${key}\n`);
    return { sshConfigPath: cfg };
  };
  const withKey = (user = 'root'): SshConnectOptions =>
    opts({ extraTargets: [{ name: 't', host: '127.0.0.1', port: sshd.port, user, identityFile: sshd.clientKey }] });

  it('uploads the helper once (0700 dir, 0755 file, sha256 checked) and reuses it next time', async () => {
    const cache = path.join(work, 'cache-root');
    const a = await connectSshTarget('t', { ...withKey(), remoteCacheDir: cache });
    expect(a.uploads).toBe(1);
    expect(a.info).toMatchObject({ arch: 'x86_64', uid: 0, btf: true });
    expect(a.info?.btfSha256).toBe(execFileSync('sha256sum', ['/sys/kernel/btf/vmlinux'], { encoding: 'utf8' }).slice(0, 64));
    const remote = path.join(cache, 'ringbuf-helper-x86_64');
    expect(a.helperPath).toBe(remote);
    expect(fs.statSync(cache).mode & 0o777).toBe(0o700);
    expect(fs.statSync(remote).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(remote, 'utf8')).toBe(STANDIN);
    await a.close();

    const b = await connectSshTarget('t', { ...withKey(), remoteCacheDir: cache });
    expect(b.uploads).toBe(0);
    await b.close();

    fs.writeFileSync(remote, 'corrupted');
    const c = await connectSshTarget('t', { ...withKey(), remoteCacheDir: cache });
    expect(c.uploads).toBe(1);
    expect(fs.readFileSync(remote, 'utf8')).toBe(STANDIN);
    await c.close();
  });

  it('runs the helper as root, passes hostile argv literally, and ending stdin ends the helper', async () => {
    const t = await connectSshTarget('t', { ...withKey(), remoteCacheDir: path.join(work, 'cache-root') });
    const out = path.join(work, "o'ut $(x)");
    const marker = path.join(work, 'PWNED');
    const hostile = [`a;touch ${marker}`, `$(touch ${marker})`, `\`touch ${marker}\``, "it's", 'two\nlines', '', '--x=*'];
    const p = await t.spawnHelper(['serve', out, ...hostile]);
    expect(await firstLine(p)).toBe('ready');
    p.stdin.write('hello helper');
    p.stdin.end(); // the detach signal
    const exit = await p.exited;
    expect(exit).toMatchObject({ code: 0 });
    expect(fs.readFileSync(`${out}.eof`, 'utf8')).toBe('eof\n');
    expect(fs.readFileSync(`${out}.stdin`, 'utf8')).toBe('hello helper');
    expect(fs.readFileSync(`${out}.uid`, 'utf8').trim()).toBe('0');
    expect(fs.readFileSync(`${out}.args`, 'utf8')).toBe(hostile.map((h) => `${h}\n`).join(''));
    expect(fs.existsSync(marker)).toBe(false);
    await t.close();
  });

  it.skipIf(!realHelper())('spawnHelper(["--version"]) runs the real helper', async () => {
    const t = await connectSshTarget('t', { ...withKey(), helperBinaryFor: (arch) => findHelperBinary(arch), remoteCacheDir: path.join(work, 'cache-real') });
    const p = await t.spawnHelper(['--version']);
    const text = await readAll(p.stdout);
    expect((await p.exited).code).toBe(0);
    expect(text.trim()).toMatch(/^ringbuf-helper \d+\.\d+\.\d+ protocol \d+$/);
    await t.close();
  });

  it('a non-root user with NOPASSWD sudo gets the helper as root', async () => {
    sudoUser = addTestUser('rbsnopw', 'nopasswd');
    const t = await connectSshTarget('t', { ...withKey(sudoUser.name) });
    expect(t.info?.uid).not.toBe(0);
    expect(t.helperPath).toBe(`${sudoUser.home}/.cache/ringbuf-studio/0.1.0/ringbuf-helper-x86_64`);
    const out = path.join(work, 'nopw');
    const p = await t.spawnHelper(['serve', out]);
    expect(await firstLine(p)).toBe('ready');
    await p.terminate();
    expect(fs.readFileSync(`${out}.uid`, 'utf8').trim()).toBe('0');
    expect(fs.readFileSync(`${out}.eof`, 'utf8')).toBe('eof\n');
    await t.close();
  });

  it('spawnCommand runs argv as the login user (env, cwd, hostile values as data) and reports its own pid', async () => {
    cmdUser = addTestUser('rbscmd', 'nopasswd');
    const t = await connectSshTarget('t', { ...withKey(cmdUser.name) });
    try {
      const dir = path.join(work, "cmd dir $(x)");
      fs.mkdirSync(dir, { mode: 0o777 });
      fs.chmodSync(dir, 0o777);
      const value = `it's "$(touch ${path.join(work, 'ENV-RAN')})"`;
      const p = await t.spawnCommand(['sh', '-c', 'echo "$$ $(id -u) $X $(pwd)"; echo err >&2', 'sh'], { env: { X: value }, cwd: dir });
      const [out, err] = await Promise.all([readAll(p.stdout), readAll(p.stderr)]);
      const pid = await p.pid;
      expect((await p.exited).code).toBe(0);
      const uid = execFileSync('id', ['-u', cmdUser.name], { encoding: 'utf8' }).trim();
      expect(out).toBe(`${pid} ${uid} ${value} ${dir}\n`);
      expect(pid).toBeGreaterThan(1);
      expect(err).toBe('err\n'); // the pid marker is taken out of stderr
      expect(fs.existsSync(path.join(work, 'ENV-RAN'))).toBe(false);
      await expect(t.spawnCommand(['true'], { env: { 'A B': 'x' } })).rejects.toThrow(/invalid environment variable name/);
      const missing = await t.spawnCommand(['true'], { cwd: path.join(work, 'no-such-dir') });
      missing.stdout.resume(); // `exited` waits for the output to be read to its end
      expect((await missing.exited).code).toBe(127);
      expect(await missing.pid).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('a sudo password is asked only when needed, never reaches the helper or the logs', async () => {
    const password = `pw-${Date.now()}-secret`;
    pwUser = addTestUser('rbspw', { password });
    logs.length = 0;
    const err = await connectSshTarget('t', withKey(pwUser.name)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('ESUDOPASSWORD');
    expect((err as StudioError).hint).toMatch(/NOPASSWD/);

    const wrong = await connectSshTarget('t', { ...withKey(pwUser.name), getSudoPassword: () => Promise.resolve('nope') }).catch((e: unknown) => e);
    expect((wrong as StudioError).message).toMatch(/rejected the password/);

    let asked = 0;
    const t = await connectSshTarget('t', {
      ...withKey(pwUser.name),
      getSudoPassword: (who) => {
        asked++;
        expect(who).toEqual({ target: 't', user: pwUser?.name, identity: `ssh:${pwUser?.name}@127.0.0.1:${sshd.port}/${sshd.hostKeyFingerprint}` });
        return Promise.resolve(password);
      },
      log: (level, msg) => logs.push(`${level}: ${msg}`),
    });
    expect(asked).toBe(1);
    const out = path.join(work, 'pw');
    const p = await t.spawnHelper(['serve', out]);
    expect(await firstLine(p)).toBe('ready');
    p.stdin.write('protocol bytes');
    p.stdin.end();
    await p.exited;
    expect(fs.readFileSync(`${out}.uid`, 'utf8').trim()).toBe('0');
    // sudo consumed exactly the password line: the helper saw only our bytes.
    expect(fs.readFileSync(`${out}.stdin`, 'utf8')).toBe('protocol bytes');
    await t.close();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain(password);
    expect(sshd.log()).not.toContain(password);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(password);
  });

  it('a user without sudo rights gets a clear error', async () => {
    plainUser = addTestUser('rbsplain', 'none', 'plain-pass');
    const err = await connectSshTarget('t', { ...withKey(plainUser.name), getSudoPassword: () => Promise.resolve('plain-pass') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('ENOSUDORIGHTS');
    expect((err as StudioError).message).toMatch(/rbsplain may not run the helper as root.*sudoers/);
    expect((err as StudioError).hint).toMatch(/sudoers/);
  });

  it('hostile alias, host, path and identity names never run anything', async () => {
    const marker = path.join(work, 'HOSTILE-RAN');
    const inject = `$(touch ${marker})`;
    // A target spec with shell syntax is refused before any connection.
    for (const bad of [`a;touch ${marker}`, `root@${inject}`, `\`touch ${marker}\``]) {
      await expect(connectSshTarget(bad, withKey())).rejects.toMatchObject({ code: 'ETARGETSPEC' });
    }
    // Hostile values inside ssh_config are only ever data (DNS names, file paths).
    const cfg = path.join(work, 'hostile_config');
    fs.writeFileSync(cfg, `Host evil\n  HostName 127.0.0.1;touch ${marker}\n  IdentityFile ${work}/${inject}\nHost evil2\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n  ProxyJump x;touch ${marker}\n`);
    await expect(connectSshTarget('evil', { ...opts(), sshConfigPath: cfg, readyTimeoutMs: 3000 })).rejects.toBeInstanceOf(StudioError);
    await expect(connectSshTarget('evil2', { ...opts(), sshConfigPath: cfg })).rejects.toMatchObject({ code: 'ETARGETSPEC' });
    // A remote directory full of shell syntax is quoted everywhere (mkdir, sha256sum, mv, exec).
    const dir = path.join(work, `c'${inject};\`touch ${marker}\` x`);
    const t = await connectSshTarget('t', { ...withKey(), remoteCacheDir: dir });
    expect(t.uploads).toBe(1);
    const out = path.join(work, 'hostile-serve');
    const p = await t.spawnHelper(['serve', out, inject]);
    expect(await firstLine(p)).toBe('ready');
    await p.terminate();
    expect(fs.readFileSync(`${out}.args`, 'utf8')).toBe(`${inject}\n`);
    expect(fs.existsSync(path.join(dir, 'ringbuf-helper-x86_64'))).toBe(true);
    await t.close();
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('several targets at once use independent connections', async () => {
    const second = await startSshd();
    try {
      const known = path.join(work, 'known_two');
      fs.writeFileSync(known, `${sshd.knownHostsLine}\n${second.knownHostsLine}\n`);
      const base = { ...opts(), knownHostsPath: known, remoteCacheDir: path.join(work, 'cache-root') };
      const [a, b] = await Promise.all([
        connectSshTarget(`root@127.0.0.1:${sshd.port}`, { ...base, ...keyOnly(sshd.clientKey) }),
        connectSshTarget(`root@127.0.0.1:${second.port}`, { ...base, ...keyOnly(second.clientKey) }),
      ]);
      expect(a.name).toBe(`root@127.0.0.1:${sshd.port}`);
      expect(b.name).toBe(`root@127.0.0.1:${second.port}`);
      const [pa, pb] = await Promise.all([a.spawnHelper(['serve', path.join(work, 'two-a')]), b.spawnHelper(['serve', path.join(work, 'two-b')])]);
      expect(await Promise.all([firstLine(pa), firstLine(pb)])).toEqual(['ready', 'ready']);
      await a.close(); // closing one leaves the other running
      const lostA = await pa.exited;
      expect(lostA.connectionLost).toBeDefined();
      pb.stdin.end();
      expect((await pb.exited).code).toBe(0);
      await b.close();
    } finally {
      await second.stop();
    }
  });

  it('a silent link (server frozen, like a dropped network) is noticed by keepalives', async () => {
    const t = await connectSshTarget('t', { ...withKey(), remoteCacheDir: path.join(work, 'cache-root') });
    const p = await t.spawnHelper(['serve', path.join(work, 'frozen')]);
    expect(await firstLine(p)).toBe('ready');
    const sessions = descendantPids(sshd.pid); // every process of our session, helper included
    const t0 = Date.now();
    for (const pid of sessions) process.kill(pid, 'SIGSTOP'); // no more answers, no FIN either
    try {
      const exit = await p.exited;
      expect(exit.connectionLost).toMatch(/keepalive|lost/i);
      expect(Date.now() - t0).toBeLessThan(30_000); // 5 s interval, 3 unanswered
    } finally {
      for (const pid of sessions) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await t.close();
  }, 60_000);

  it('a host without an sftp subsystem still gets the helper (through cat), verified', async () => {
    const bare = await startSshd({ noSftp: true });
    try {
      const cache = path.join(work, 'cache-nosftp');
      const t = await connectSshTarget(`root@127.0.0.1:${bare.port}`, {
        ...opts(),
        knownHostsPath: bare.knownHosts,
        extraTargets: [],
        ...keyOnly(bare.clientKey),
        remoteCacheDir: cache,
      });
      expect(t.uploads).toBe(1);
      expect(fs.readFileSync(path.join(cache, 'ringbuf-helper-x86_64'), 'utf8')).toBe(STANDIN);
      expect(logs.some((l) => l.includes('no SFTP subsystem'))).toBe(true);
      await t.close();
    } finally {
      await bare.stop();
    }
  });

  it('a missing helper for the remote arch names the arch and how to build it', async () => {
    const err = await connectSshTarget('t', { ...withKey(), helperBinaryFor: (arch) => path.join(work, `nothing-${arch}`) }).catch((e: unknown) => e);
    expect((err as StudioError).code).toBe('ENOHELPER');
    expect((err as StudioError).message).toContain('x86_64');
  });

  it('when the connection drops, the helper process ends as connection-lost and the remote helper sees EOF', async () => {
    const t = await connectSshTarget('t', { ...withKey(), remoteCacheDir: path.join(work, 'cache-root') });
    const out = path.join(work, 'lost');
    const p = await t.spawnHelper(['serve', out]);
    expect(await firstLine(p)).toBe('ready');
    const before = new Set(sshd.sessionPids());
    expect(before.size).toBeGreaterThan(0);
    for (const pid of before) process.kill(pid, 'SIGKILL'); // the server side of our session dies
    const exit = await p.exited;
    expect(exit.connectionLost).toMatch(/lost/);
    expect(await waitFor(() => fs.existsSync(`${out}.eof`), 2000, undefined, 25)).toBe(true);
    await expect(t.spawnHelper(['--version'])).rejects.toThrow(/lost/);
    await t.close();
  });
});
