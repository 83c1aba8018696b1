// The SSH path against a kernel other than the host's: Debian's 6.1 booted in QEMU (TCG)
// with sshd in its initramfs, reached as an SSH target through a forwarded port — probe,
// helper upload with hash verification, build against the guest's vmlinux.h (fetched
// through the helper over SSH), load, stream, and the CLI with ~/.ssh/config. The kernel
// matrix itself (every template, kprobe, fentry, verifier lines on 5.10/6.1/6.12/arm64)
// runs on the product's VM targets: kernels.test.ts. One boot serves every test here.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileDecoder } from '../../../core/decode/decode';
import type { DecodedEvent } from '../../../core/decode/decode';
import { startRun } from '../../../core/run/run';
import type { RunHandle } from '../../../core/run/run';
import { probeTarget } from '../../../core/session/oneShot';
import type { RecordBatch } from '../../../core/session/types';
import { findHelperBinary } from '../../../core/transport/helperBinaries';
import type { SshConnectOptions, SshTarget } from '../../../core/transport/ssh/index';
import { execCollect } from '../../../core/transport/ssh/target';
import { connectTarget } from '../../../core/transport/registry';
import { listTemplates } from '../../../core/templates';
import { startChild } from '../../support/child';
import { available } from '../../support/prereq';
import { bootGuest } from '../../support/qemu';
import type { QemuGuest } from '../../support/qemu';
import { prepare, root } from '../run/support';

const fixture = (name: string): string => path.join(root, 'test/fixtures/qemu', name);

describe.skipIf(!available('qemu'))('second kernel: Debian 6.1 in QEMU as an SSH target', () => {
  let guest: QemuGuest;
  let connect: SshConnectOptions;
  let target: SshTarget | undefined;
  let work: string;
  const logs: string[] = [];

  beforeAll(async () => {
    prepare(); // helper binary and libbpf headers
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-qemu-test-'));
    guest = await bootGuest({ log: (m) => console.log(`qemu: ${m}`) });
    connect = {
      sshConfigPath: guest.sshConfig,
      knownHostsPath: guest.knownHosts,
      agentSocket: '/nonexistent',
      readyTimeoutMs: 60_000, // key exchange under TCG takes a second or two
      log: (level, msg) => logs.push(`${level}: ${msg}`),
    };
  }, 240_000);

  afterAll(async () => {
    await target?.close();
    await guest?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** The shared connection (the first test makes it; a filtered run, e.g. `-t kprobe`, connects here). */
  async function connected(): Promise<SshTarget> {
    target ??= (await connectTarget(guest.alias, connect)) as SshTarget;
    return target;
  }

  /** Runs a command in the guest over the target's own SSH connection. */
  async function inGuest(command: string): Promise<string> {
    const r = await execCollect((await connected()).client, command, { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`guest: ${command} → exit ${r.code}: ${r.stderr.toString()}`);
    return r.stdout.toString();
  }

  /** Decoded events of a run, collected as they arrive. */
  function events(run: RunHandle, map: string): () => Array<DecodedEvent & { host: string }> {
    const layout = run.layouts.get(map);
    if (!layout) throw new Error(`no event layout for ${map}`);
    const decoder = compileDecoder(layout);
    const out: Array<DecodedEvent & { host: string }> = [];
    run.onBatch((b: RecordBatch) => {
      if (b.map !== map) return;
      for (let i = 0; i < b.count; i++) out.push({ host: b.host, ...decoder.decode(b.data, b.offsets[i] ?? 0, b.lengths[i] ?? 0) });
    });
    return () => out;
  }

  /** Starts a command in the guest and returns its pid: the event it causes must carry that pid. */
  async function spawnInGuest(command: string): Promise<number> {
    const pid = Number((await inGuest(`${command} & echo $!; wait`)).trim());
    if (!(pid > 1)) throw new Error(`no pid for ${command} in the guest`);
    return pid;
  }

  /**
   * Runs the command in the guest again and again until an event carries the pid of one
   * of those runs (nothing else in the guest execs or sleeps; generous deadline for TCG).
   */
  async function eventFrom(got: () => Array<DecodedEvent & { host: string }>, command: string, ms = 30_000): Promise<(DecodedEvent & { host: string }) | undefined> {
    const pids = new Set<number>();
    const end = Date.now() + ms;
    const hit = (): (DecodedEvent & { host: string }) | undefined => got().find((e) => pids.has(Number(e.pid)));
    while (Date.now() < end && !hit()) {
      pids.add(await spawnInGuest(command));
      await new Promise((r) => setTimeout(r, 200));
    }
    return hit();
  }

  it('connects: probe names the 6.1 kernel, the helper is uploaded and its sha256 verified, reused, re-uploaded when corrupted', async () => {
    target = (await connectTarget(guest.alias, connect)) as SshTarget;
    expect(target.info?.kernel).toBe(guest.kernel.release);
    expect(target.info?.kernel).toMatch(/^6\.1\./);
    expect(target.info?.arch).toBe('x86_64');
    expect(target.info?.uid).toBe(0);
    expect(target.info?.btf).toBe(true);
    expect(target.uploads).toBe(1);
    // Default cache dir in the guest's (writable) HOME.
    expect(target.helperPath).toMatch(/^\/root\/\.cache\/ringbuf-studio\/[^/]+\/ringbuf-helper-x86_64$/);
    const local = crypto.createHash('sha256').update(fs.readFileSync(findHelperBinary('x86_64'))).digest('hex');
    expect((await inGuest(`sha256sum ${target.helperPath}`)).split(/\s+/)[0]).toBe(local);

    // The helper's own probe, inside the guest: the attach kinds this host lacks are there.
    const hello = await probeTarget(target);
    expect(hello.kernel).toBe(guest.kernel.release);
    expect(hello.ringbuf).toBe(true);
    expect(hello.features.attach.kprobe).toBe(true);
    expect(hello.features.attach.fentry).toBe(true);

    const again = (await connectTarget(guest.alias, connect)) as SshTarget;
    expect(again.uploads).toBe(0); // same hash: reused
    await again.close();

    await inGuest(`printf 'corrupt' >> ${target.helperPath}`);
    logs.length = 0;
    const repaired = (await connectTarget(guest.alias, connect)) as SshTarget;
    expect(repaired.uploads).toBe(1);
    expect(logs.some((l) => /sha256 mismatch/.test(l))).toBe(true);
    await repaired.close();
    expect((await inGuest(`sha256sum ${target.helperPath}`)).split(/\s+/)[0]).toBe(local);
  }, 120_000);

  it('a template over SSH: built against the guest\'s vmlinux.h, loaded, events decoded', async () => {
    const t = listTemplates().find((x) => x.name === 'execve');
    if (!t) throw new Error('execve template missing');
    const run = await startRun({ file: path.join(t.dir, t.main), targets: [await connected()] });
    try {
      expect(run.loaded.get(guest.alias)?.programs.some((p) => p.attached)).toBe(true);
      const got = events(run, [...run.layouts.keys()][0] ?? '');
      const ev = await eventFrom(got, '/bin/true');
      expect(ev?.comm).toBe('true');
      expect(ev?.host).toBe(guest.alias);
      expect(ev?.filename).toBe('/bin/true');
    } finally {
      expect((await run.stop()).reason).toBe('stopped');
    }
  }, 120_000);

  it('the CLI as a user runs it: `ringbuf-studio run --target <alias>` prints the guest\'s kprobe events as JSON lines', async () => {
    // ~/.ssh/config and known_hosts of a throwaway HOME, as a user would have them.
    const home = path.join(work, 'home');
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
    fs.copyFileSync(guest.sshConfig, path.join(home, '.ssh/config'));
    fs.writeFileSync(path.join(home, '.ssh/known_hosts'), `${guest.knownHostsLine}\n`);
    const cli = path.join(work, 'cli.cjs');
    await esbuild.build({ entryPoints: [path.join(root, 'cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: cli, external: ['cpu-features', '*.node'], logLevel: 'error' });
    const { child, stdout, stderr, exited } = startChild(process.execPath, [cli, 'run', fixture('kprobe_nanosleep.bpf.c'), '--target', guest.alias, '--format', 'jsonl', '--duration', '60', '--quiet'], {
      stdio: 'pipe',
      env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '', RINGBUF_STUDIO_ROOT: root },
    });
    try {
      const lines = (): Array<{ pid?: number; comm?: string }> =>
        stdout()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { pid?: number; comm?: string });
      const pids = new Set<number>();
      const end = Date.now() + 60_000;
      while (Date.now() < end && child.exitCode === null && !lines().some((e) => pids.has(Number(e.pid)))) {
        pids.add(await spawnInGuest('sleep 0.1'));
        await new Promise((r) => setTimeout(r, 300));
      }
      const ev = lines().find((e) => pids.has(Number(e.pid)));
      expect(ev?.comm, `stderr: ${stderr()}\nstdout: ${stdout().slice(-2000)}`).toBe('sleep');
    } finally {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      expect(await exited, stderr()).toBe(0);
      clearTimeout(timer);
    }
  }, 120_000);
});
