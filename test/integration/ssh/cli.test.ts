// `ringbuf-studio run --target …` over SSH as a user runs it: a child process with
// its own HOME (~/.ssh/config, ~/.ssh/known_hosts), decoded JSON lines, new host
// keys only with --accept-new-host-key, and SIGKILL of the CLI leaving nothing attached.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadedProgramNames } from '../../support/bpfPrograms';
import { bundleCli } from '../../support/cliBundle';
import { startChild, type ChildRun } from '../../support/child';
import { available, ensureBpfMounts } from '../../support/prereq';
import { waitFor } from '../../support/wait';
import { startSshd } from '../../support/sshd';
import type { SshdInstance } from '../../support/sshd';
import { execProgramSource } from './sshStream';

const hasAll = available('sshd') && available('bpf');
const repoRoot = path.resolve(__dirname, '../../..');

describe.skipIf(!hasAll)('ringbuf-studio run --target over SSH', () => {
  let a: SshdInstance;
  let b: SshdInstance;
  let work: string;
  let home: string;
  let cli: string;

  function cliRun(args: string[]): ChildRun {
    return startChild(process.execPath, [cli, ...args], {
      cwd: repoRoot,
      stdio: 'pipe',
      // RINGBUF_STUDIO_ROOT: the bundle lives in a temp dir; headers and helpers come from the repo.
      env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '', RINGBUF_STUDIO_ROOT: repoRoot },
    });
  }

  function program(): { name: string; file: string } {
    const name = `rbsc_${crypto.randomBytes(3).toString('hex')}`;
    const file = path.join(work, `${name}.bpf.c`);
    fs.writeFileSync(file, execProgramSource(name));
    return { name, file };
  }

  beforeAll(async () => {
    ensureBpfMounts();
    [a, b] = await Promise.all([startSshd(), startSshd()]);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-cli-'));
    home = path.join(work, 'home');
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(
      path.join(home, '.ssh', 'config'),
      `Host vm-a\n  HostName 127.0.0.1\n  Port ${a.port}\n  User root\n  IdentityFile ${a.clientKey}\n` +
        `Host vm-b\n  HostName 127.0.0.1\n  Port ${b.port}\n  User root\n  IdentityFile ${b.clientKey}\n`,
    );
    fs.writeFileSync(path.join(home, '.ssh', 'known_hosts'), `${a.knownHostsLine}\n`);
    cli = await bundleCli(path.join(work, 'cli.cjs'));
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('prints decoded execve events of `true` as JSON lines', async () => {
    const p = program();
    const run = cliRun(['run', p.file, '--target', 'vm-a', '--format', 'jsonl', '--duration', '30']);
    const seen = await waitFor(() => run.stdout().includes('"comm":"true"') || run.child.exitCode !== null, 40_000, () => execFileSync('/bin/true'));
    expect(seen, run.stderr()).toBe(true);
    const line = run.stdout().split('\n').find((l) => l.includes('"comm":"true"')) ?? '{}';
    const ev = JSON.parse(line) as { pid?: number; comm?: string };
    expect(ev.comm).toBe('true');
    expect(ev.pid).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    await run.exited;
    expect(await waitFor(() => !loadedProgramNames().includes(p.name), 2000)).toBe(true);
  });

  it('SIGKILL of the CLI holding the connection: our program is gone from the kernel within 2 s', async () => {
    const p = program();
    const run = cliRun(['run', p.file, '--target', 'vm-a', '--format', 'jsonl']);
    const attached = await waitFor(() => loadedProgramNames().includes(p.name) || run.child.exitCode !== null, 40_000);
    expect(attached && run.child.exitCode === null, run.stderr()).toBe(true);
    run.child.kill('SIGKILL');
    await run.exited;
    expect(await waitFor(() => !loadedProgramNames().includes(p.name), 2000)).toBe(true);
  });

  it('an unknown host key is refused with its fingerprint; --accept-new-host-key saves it', async () => {
    const p = program();
    const refused = cliRun(['run', p.file, '--target', 'vm-b', '--count', '1']);
    expect(await refused.exited).not.toBe(0);
    expect(refused.stderr()).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(refused.stderr()).toContain('--accept-new-host-key');
    expect(loadedProgramNames()).not.toContain(p.name);
    const known = path.join(home, '.ssh', 'known_hosts');
    expect(fs.readFileSync(known, 'utf8')).not.toContain(`[127.0.0.1]:${b.port}`);

    const accepted = cliRun(['run', p.file, '--target', 'vm-b', '--accept-new-host-key', '--count', '1', '--format', 'jsonl']);
    await waitFor(() => accepted.child.exitCode !== null, 40_000, () => execFileSync('/bin/true'));
    expect(await accepted.exited, accepted.stderr()).toBe(0);
    expect(fs.readFileSync(known, 'utf8')).toContain(b.knownHostsLine);
  });

  it('two --target flags: one merged stream with the right host on each event', async () => {
    const p = program();
    const run = cliRun(['run', p.file, '--target', 'vm-a', '--target', 'vm-b', '--format', 'jsonl', '--duration', '30']);
    const hosts = (): Set<string> =>
      new Set(
        run
          .stdout()
          .split('\n')
          .filter((l) => l.includes('"comm":"true"'))
          .map((l) => (JSON.parse(l) as { host?: string }).host ?? ''),
      );
    const both = await waitFor(() => hosts().size === 2 || run.child.exitCode !== null, 40_000, () => execFileSync('/bin/true'));
    expect(both, run.stderr()).toBe(true);
    expect(hosts()).toEqual(new Set(['vm-a', 'vm-b']));
    run.child.kill('SIGINT');
    await run.exited;
  });
});
