// Security checks against the real loopback sshd (test/support/sshd.ts):
// - the remote helper cache is owned by the user and never world-writable: modes are
//   re-tightened on every connect, and a cache dir owned by someone else is refused;
// - hostile names (cache path, remote user) travel as data through every remote command;
// - secrets (key passphrase, sudo password) never reach a log line, an error message or
//   any file written by the run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretRef } from '../../../core/transport/secrets';
import { connectSshTarget, type SshConnectOptions } from '../../../core/transport/ssh/index';
import { describeError, StudioError } from '../../../core/util/errors';
import { available } from '../../support/prereq';
import { addTestUser, makeKey, startSshd, type SshdInstance, type TestUser } from '../../support/sshd';

/** A stand-in helper (the transport is under test, not BPF): records args and stdin. */
const STANDIN = `#!/bin/sh
case "$1" in
  --version) echo "ringbuf-helper 0.1.0 protocol 1"; exit 0 ;;
  serve) out="$2"; shift 2; for a in "$@"; do printf '%s\\n' "$a"; done > "$out.args"; echo ready; cat > "$out.stdin"; exit 0 ;;
esac
exit 3
`;

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          if (fs.readFileSync(p).includes(needle)) hits.push(p);
        } catch {
          /* unreadable: not ours */
        }
      }
    }
  };
  walk(dir);
  return hits;
}

describe.skipIf(!available('sshd'))('SSH hardening (real sshd)', () => {
  let sshd: SshdInstance;
  let work: string;
  let standin: string;
  const users: TestUser[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-harden-ssh-'));
    fs.chmodSync(work, 0o755);
    standin = path.join(work, 'standin-helper');
    fs.writeFileSync(standin, STANDIN, { mode: 0o755 });
  });
  afterAll(async () => {
    for (const u of users) u.remove();
    await sshd?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const opts = (user: string, extra: Partial<SshConnectOptions> = {}, identityFile = sshd.clientKey): SshConnectOptions => ({
    knownHostsPath: sshd.knownHosts,
    sshConfigPath: path.join(work, 'no-config'),
    agentSocket: '/nonexistent',
    extraTargets: [{ name: 't', host: '127.0.0.1', port: sshd.port, user, identityFile }],
    helperBinaryFor: () => standin,
    log: (level, msg) => logs.push(`${level}: ${msg}`),
    ...extra,
  });

  it('re-tightens a cache dir and helper someone made world-writable, without re-uploading', async () => {
    const u = addTestUser('rbscache', 'nopasswd');
    users.push(u);
    const a = await connectSshTarget('t', opts(u.name));
    const cache = path.dirname(a.helperPath!);
    expect(cache).toBe(`${u.home}/.cache/ringbuf-studio/0.1.0`);
    await a.close();
    expect(fs.statSync(cache).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.dirname(cache)).mode & 0o077).toBe(0); // ~/.cache/ringbuf-studio too
    expect(fs.statSync(a.helperPath!).mode & 0o022).toBe(0);
    expect(fs.statSync(cache).uid).toBe(Number(execFileSync('id', ['-u', u.name], { encoding: 'utf8' })));

    fs.chmodSync(cache, 0o777);
    fs.chmodSync(a.helperPath!, 0o777);
    const b = await connectSshTarget('t', opts(u.name));
    expect(b.uploads).toBe(0); // same hash: reused…
    await b.close();
    expect(fs.statSync(cache).mode & 0o777).toBe(0o700); // …but not before the modes were fixed
    expect(fs.statSync(a.helperPath!).mode & 0o022).toBe(0);
  });

  it('refuses a cache dir owned by another user (it could swap the helper run with sudo)', async () => {
    const u = addTestUser('rbsforeign', 'nopasswd');
    users.push(u);
    const foreign = path.join(work, 'foreign-cache');
    fs.mkdirSync(foreign, { mode: 0o777 });
    fs.chmodSync(foreign, 0o777);
    fs.copyFileSync(standin, path.join(foreign, 'ringbuf-helper-x86_64')); // right hash, wrong owner
    const err = await connectSshTarget('t', opts(u.name, { remoteCacheDir: foreign })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('EHELPERUPLOAD');
    expect((err as StudioError).message).toMatch(/cannot create .*foreign-cache on t: .*(Operation not permitted|not permitted)/);
    expect((err as StudioError).hint).toBeTruthy();
  });

  it('a hostile cache path and hostile helper args stay data through mkdir/chmod/upload/sha256sum/sudo', async () => {
    const marker = path.join(work, 'PWNED');
    const dir = path.join(work, `c a'c"he $(touch ${marker}); \`touch ${marker}\`\nline2`);
    const t = await connectSshTarget('t', opts('root', { remoteCacheDir: dir }));
    expect(t.uploads).toBe(1);
    expect(fs.readFileSync(path.join(dir, 'ringbuf-helper-x86_64'), 'utf8')).toBe(STANDIN);
    const out = path.join(work, `out ;$(id)\`id\`'"`);
    const args = [`--x=$(touch ${marker})`, "'", '"', ';', '\n', '|', '&&', '*'];
    const p = await t.spawnHelper(['serve', out, ...args]);
    p.stdout.resume(); // the channel closes only once its output was read
    p.stdin.end();
    await p.exited;
    await t.close();
    expect(fs.readFileSync(`${out}.args`, 'utf8')).toBe(args.map((a) => `${a}\n`).join(''));
    expect(fs.existsSync(marker)).toBe(false);
  }, 30_000);

  it('hostile remote user names and target specs are refused by sshd or the parser, never run', async () => {
    const marker = path.join(work, 'PWNED-USER');
    for (const user of [`$(touch ${marker})`, `a;touch ${marker}`, `\`touch ${marker}\``, "x' || touch '" + marker]) {
      const err = await connectSshTarget('t', opts(user)).catch((e: unknown) => e);
      expect(err, user).toBeInstanceOf(StudioError);
      expect(describeError(err)).not.toMatch(/\n\s+at /);
    }
    const spec = await connectSshTarget(`$(touch ${marker})@127.0.0.1:${sshd.port}`, opts('root', { extraTargets: [] })).catch((e: unknown) => e);
    expect(spec).toBeInstanceOf(StudioError);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('secrets — a key passphrase and a sudo password — appear in no log, error or written file', async () => {
    const passphrase = `kp-${process.pid}-S3cr3tPassphrase`;
    const sudoPassword = `sp-${process.pid}-S3cr3tSudo`;
    const u = addTestUser('rbssecret', { password: sudoPassword });
    users.push(u);
    const keyDir = path.join(work, 'keys');
    fs.mkdirSync(keyDir, { mode: 0o700 });
    const key = makeKey(keyDir, 'enc_key', { passphrase });
    sshd.authorize(`${key}.pub`);
    logs.length = 0;
    const errors: string[] = [];
    const note = (e: unknown): void => {
      errors.push(describeError(e), e instanceof StudioError ? (e.detail ?? '') : '', e instanceof Error ? (e.stack ?? '') : '');
    };

    // Wrong answers first: their error messages must not echo what was typed either, and each
    // rejected secret is reported (the extension then forgets it: core/transport/secrets.ts).
    const rejected: SecretRef[] = [];
    const secretRejected = (ref: SecretRef): void => void rejected.push(ref);
    await connectSshTarget('t', opts(u.name, { getPassphrase: () => Promise.resolve(`${passphrase}-wrong`), getSudoPassword: () => Promise.resolve(sudoPassword), secretRejected }, key)).then(
      (t) => t.close(),
      note,
    );
    expect(rejected).toEqual([{ kind: 'key-passphrase', keyFile: key }]);
    await connectSshTarget('t', opts(u.name, { getPassphrase: () => Promise.resolve(passphrase), getSudoPassword: () => Promise.resolve(`${sudoPassword}-wrong`), secretRejected }, key)).then(
      (t) => t.close(),
      note,
    );
    expect(rejected[1]).toEqual({
      kind: 'sudo-password',
      prompt: { target: 't', user: u.name, identity: `ssh:${u.name}@127.0.0.1:${sshd.port}/${sshd.hostKeyFingerprint}` },
    });
    expect(rejected).toHaveLength(2);
    expect(errors.join('\n')).toMatch(/passphrase|password/);

    const t = await connectSshTarget('t', opts(u.name, { getPassphrase: () => Promise.resolve(passphrase), getSudoPassword: () => Promise.resolve(sudoPassword) }, key));
    const out = path.join(work, 'secret-run');
    const p = await t.spawnHelper(['serve', out]);
    p.stdout.resume();
    p.stdin.write('protocol bytes');
    p.stdin.end();
    await p.exited;
    await t.close();
    expect(fs.readFileSync(`${out}.stdin`, 'utf8')).toBe('protocol bytes'); // sudo took its line, the helper saw none of it

    const everything = [...logs, ...errors].join('\n');
    expect(everything.length).toBeGreaterThan(0);
    for (const secret of [passphrase, sudoPassword]) {
      expect(everything).not.toContain(secret);
      expect(sshd.log()).not.toContain(secret);
      const written = [work, u.home, sshd.dir, path.join(os.homedir(), '.cache/ringbuf-studio')].flatMap((d) => filesContaining(d, secret));
      expect(written, `files containing a secret`).toEqual([]);
    }
  }, 120_000);

  it('the sudo password goes only to sudo\'s own prompt: after the rule becomes NOPASSWD, the helper\'s stdin carries only our bytes', async () => {
    const password = `flip-${process.pid}-S3cr3t`;
    const u = addTestUser('rbsflip', { password });
    users.push(u);
    const t = await connectSshTarget('t', opts(u.name, { getSudoPassword: () => Promise.resolve(password) }));
    try {
      // Connected with a password; now an administrator adds a NOPASSWD rule.
      fs.writeFileSync(`/etc/sudoers.d/ringbuf-studio-test-${u.name}`, `${u.name} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
      const out = path.join(work, 'flip-run');
      const p = await t.spawnHelper(['serve', out]);
      p.stdout.resume();
      p.stdin.write('protocol bytes');
      p.stdin.end();
      expect((await p.exited).code).toBe(0);
      expect(fs.readFileSync(`${out}.stdin`, 'utf8')).toBe('protocol bytes');
      // And while it still asks, sudo takes the password from our prompt and the helper sees only our bytes.
      fs.writeFileSync(`/etc/sudoers.d/ringbuf-studio-test-${u.name}`, `${u.name} ALL=(ALL) ALL\n`, { mode: 0o440 });
      const asked = path.join(work, 'flip-asked');
      const q = await t.spawnHelper(['serve', asked]);
      let stderr = '';
      q.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      q.stdout.resume();
      q.stdin.write('more bytes');
      q.stdin.end();
      expect((await q.exited).code).toBe(0);
      expect(fs.readFileSync(`${asked}.stdin`, 'utf8')).toBe('more bytes');
      expect(stderr).not.toMatch(/ringbuf-studio sudo/); // our prompt token is taken out of stderr
    } finally {
      await t.close();
    }
  }, 60_000);
});
