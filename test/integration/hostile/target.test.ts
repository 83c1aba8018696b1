// A hostile target attacking the workstation (trust issue, "the class behind them").
// The target's login sessions meet lying `uname`, `id`, `sha256sum` and `cat` first on
// PATH; the real CLI, installed in a package directory of its own, connects to it under
// strace. Every time: a clear message naming the target and what it said, a failing exit
// status, no file opened outside the package, the cache, ~/.ssh and the system's runtime
// files, nothing written outside the cache — and nothing of the workstation on the target.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { available } from '../../support/prereq';
import { addTestUser, type TestUser } from '../../support/sshd';
import { hasStrace, installPackage, makeHome, runTracedCli, startHostileTarget, violations, type Allowed, type HostileTarget, type TracedRun } from './support';

const ESC = '\x1b';

describe.skipIf(!available('sshd'))('hostile target: lying tools on the login PATH (real sshd, real CLI under strace)', () => {
  let target: HostileTarget;
  let bare: HostileTarget; // no SFTP subsystem: uploads go through `cat`
  let work: string;
  let pkg: string;
  let cli: string;
  let home: string;
  let secret: string;
  let allowed: Allowed;
  let env: NodeJS.ProcessEnv;
  // A login user of its own (sudo NOPASSWD): its remote cache is private to this test.
  let user: TestUser;

  beforeAll(async () => {
    if (!hasStrace()) throw new Error('the hostile tier needs strace (apt-get install strace; scripts/setup.sh test installs it)');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-hostile-'));
    fs.chmodSync(work, 0o755);
    user = addTestUser('rbshostile', 'nopasswd');
    [target, bare] = await Promise.all([startHostileTarget(), startHostileTarget({ noSftp: true })]);
    pkg = path.join(work, 'pkg');
    cli = await installPackage(pkg);
    home = makeHome(
      path.join(work, 'home'),
      target.sshConfig('vm1', user.name) + bare.sshConfig('bare', user.name),
      `${target.sshd.knownHostsLine}\n${bare.sshd.knownHostsLine}\n`,
    );
    // A file of the workstation's that an attacker wants (issue item 1 reached ~/.ssh/id_ed25519 this way).
    secret = path.join(work, 'workstation-secret');
    fs.writeFileSync(secret, `SECRET-${process.pid}-do-not-upload\n`);
    // Reads: the package, ~/.ssh and the identity files its config names; writes: the cache.
    allowed = { read: [pkg, path.join(home, '.ssh'), target.sshd.clientKey, bare.sshd.clientKey], write: [path.join(home, '.cache', 'ringbuf-studio')] };
    env = { PATH: process.env.PATH, HOME: home, SSH_AUTH_SOCK: '', LANG: 'C.UTF-8' };
  }, 120_000);

  afterAll(async () => {
    await Promise.all([target?.stop(), bare?.stop()]);
    user?.remove();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** Runs `fn` while the target tells `lies`, then takes them back. */
  async function lying(t: HostileTarget, lies: Record<string, string | Buffer>, fn: () => Promise<void>): Promise<void> {
    for (const [name, text] of Object.entries(lies)) t.say(name, text);
    try {
      await fn();
    } finally {
      for (const name of Object.keys(lies)) t.say(name, undefined);
    }
  }

  const probe = (spec: string): Promise<TracedRun> => runTracedCli(cli, ['probe', '--target', spec], { cwd: work, env });

  function expectContained(run: TracedRun): void {
    expect(violations(run, allowed, work), run.stderr).toEqual([]);
    expect(run.stderr).not.toContain(ESC); // remote text never drives the terminal
    expect(run.events.some((e) => e.path === secret)).toBe(false);
  }

  /** Nothing of the workstation's secret anywhere the target could read it. */
  function secretNotOnTarget(): void {
    const cache = path.join(user.home, '.cache', 'ringbuf-studio');
    const hits: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && fs.readFileSync(p).includes(`SECRET-${process.pid}`)) hits.push(p);
      }
    };
    walk(cache);
    expect(hits).toEqual([]);
  }

  it('an arch that climbs out of the helper directory is refused, naming the target and the value; the file it points at is never read', async () => {
    const climb = `x86_64/${'../'.repeat(12)}${secret.slice(1)}`;
    await lying(target, { 'uname-m': `${climb}\n` }, async () => {
      const run = await probe('vm1');
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`vm1 reports architecture '${climb}' which Ringbuf Studio has no helper for (x86_64, aarch64)`);
      expectContained(run);
      secretNotOnTarget();
    });
  }, 120_000);

  it('escape sequences, control characters and bytes that are not UTF-8 are shown escaped, never sent to the terminal', async () => {
    await lying(target, { 'uname-m': Buffer.concat([Buffer.from('\x1b]0;pwned\x07\x1b[2J'), Buffer.from([0xff, 0xfe]), Buffer.from('x86_64\n')]) }, async () => {
      const run = await probe('vm1');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/vm1 reports architecture '\\x1b\]0;pwned\\x07\\x1b\[2J.*x86_64' which Ringbuf Studio has no helper for/);
      expectContained(run);
    });
    await lying(target, { 'uname-r': '4.19.0\x1b[31m-evil\x1b[0m\n' }, async () => {
      const run = await probe('vm1');
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('vm1 runs Linux 4.19.0\\x1b[31m-evil\\x1b[0m, which has no BPF ring buffer');
      expectContained(run);
    });
  }, 120_000);

  it('endless output is cut off with a clear message instead of being buffered', async () => {
    await lying(target, { 'id-u': `${'9'.repeat(3 << 20)}\n` }, async () => {
      const run = await probe('vm1');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/a command on the target printed more than 1048576 bytes; refusing to read more/);
      expectContained(run);
    });
  }, 120_000);

  it('a release that is a path is only data: no local path is built from it, and the helper reports the real kernel', async () => {
    await lying(target, { 'uname-r': '../../../../etc\n' }, async () => {
      const run = await probe('vm1');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`kernel\\s+${os.release().replace(/[.+]/g, '\\$&')}`));
      expectContained(run);
    });
  }, 120_000);

  it('an upload through a lying `cat` (no SFTP) fails sha256 verification with a clear message', async () => {
    // `cat` writes something else, and the cached copy never looks current.
    await lying(bare, { cat: 'not the helper\n', 'sha256sum-file': '0'.repeat(64) }, async () => {
      const run = await probe('bare');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/uploading the helper to bare failed verification/);
      expect(run.stderr).toMatch(/hint: .*sha256/);
      expectContained(run);
    });
  }, 120_000);

  it('helpers planted in the working directory are never used or uploaded (trust item 10)', async () => {
    // An untrusted checkout the user runs the CLI in: it "ships" helpers for an arch the
    // package does not, in both places the package itself would hold them.
    const checkout = path.join(work, 'untrusted-checkout');
    const sub = path.join(checkout, 'src', 'deep');
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(checkout, 'package.json'), JSON.stringify({ name: 'ringbuf-studio', version: '0.1.0' }));
    for (const dir of ['dist/helper', 'helper/build']) {
      const f = path.join(checkout, dir, 'ringbuf-helper-aarch64');
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, `#!/bin/sh\necho PLANTED > ${path.join(work, 'planted-ran')}\n`, { mode: 0o755 });
    }
    await lying(target, { 'uname-m': 'aarch64\n' }, async () => {
      const run = await runTracedCli(cli, ['probe', '--target', 'vm1'], { cwd: sub, env });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/no ringbuf-helper-aarch64 found \(looked in .*pkg\/dist\/helper and .*pkg\/helper\/build\)/);
      expect(run.events.filter((e) => e.path.includes('untrusted-checkout'))).toEqual([]);
      expect(violations(run, allowed, sub)).toEqual([]);
      const cache = path.join(user.home, '.cache', 'ringbuf-studio');
      const uploaded = fs.existsSync(cache) ? fs.readdirSync(cache, { recursive: true }).map(String) : [];
      expect(uploaded.filter((f) => f.endsWith('ringbuf-helper-aarch64'))).toEqual([]);
      expect(fs.existsSync(path.join(work, 'planted-ran'))).toBe(false);
    });
  }, 120_000);
});
