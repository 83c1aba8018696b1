// `ringbuf-studio vm …` and `run --target qemu:…` as a user runs them (the bundled CLI in a
// child process): two processes starting the same guest boot it once, status and list say
// what runs, a run streams the guest's kprobe events, and the guest powers itself off
// when idle. Uses qemu:debian-6.12 (stopped first if it runs, so the boot is this test's).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogueKernel, guestConsole, guestStatus, stopGuest } from '../../../core/transport/qemu/index';
import { vmPaths } from '../../../core/transport/qemu/paths';
import { startChild, type ChildRun } from '../../support/child';
import { available } from '../../support/prereq';
import { connectTestGuest, triggerUntil, type TestGuest } from '../../support/vm';
import { waitFor } from '../../support/wait';
import { prepare, root } from '../run/support';

const SPEC = 'qemu:debian-6.12';
const kernel = catalogueKernel(SPEC);
const IDLE = 25;

function cli(args: string[]): ChildRun {
  return startChild(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { cwd: root, stdio: 'pipe', env: { ...process.env, RINGBUF_STUDIO_ROOT: root } });
}

async function done(run: ChildRun): Promise<{ code: number | null; out: string; err: string }> {
  const code = await run.exited;
  return { code, out: run.stdout(), err: run.stderr() };
}

/** QEMU processes of this guest (its state dir is on their command line). */
function qemuProcesses(): number[] {
  const dir = vmPaths.guest(kernel.name);
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      return cmd.startsWith('qemu-system') && cmd.includes(`${dir}/`);
    } catch {
      return false; // exited while we looked
    }
  }).map(Number);
}

describe.skipIf(!available('qemu'))('ringbuf-studio vm and run --target qemu:', () => {
  let trigger: TestGuest | undefined;

  beforeAll(async () => {
    prepare({ cli: true });
    await stopGuest(kernel);
  }, 300_000);
  afterAll(async () => {
    await trigger?.done();
    await stopGuest(kernel);
  });

  it('two processes starting the same guest at once boot it once', async () => {
    const [a, b] = await Promise.all([done(cli(['vm', 'start', SPEC, '--idle', `${IDLE}s`])), done(cli(['vm', 'start', 'debian-6.12', '--idle', `${IDLE}s`]))]);
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    expect(a.out).toMatch(/qemu:debian-6\.12\s+running/);
    expect(b.out).toMatch(/qemu:debian-6\.12\s+running/);
    expect(`${a.err}${b.err}`).toMatch(/another process is starting this VM; waiting for it/);
    expect(qemuProcesses()).toHaveLength(1);
  }, 600_000);

  it('list and status say what runs, with its memory; probe reads the guest kernel', async () => {
    const list = await done(cli(['vm', 'list', '--format', 'json']));
    expect(list.code).toBe(0);
    const states = JSON.parse(list.out) as Array<{ spec: string; state: string; record?: { memoryMb: number; idleSec: number }; rssMb?: number }>;
    expect(states.map((s) => s.spec)).toEqual(['qemu:debian-5.10', 'qemu:debian-6.1', 'qemu:debian-6.12', 'qemu:debian-6.12-arm64-16k']);
    const mine = states.find((s) => s.spec === SPEC);
    expect(mine?.state).toBe('running');
    expect(mine?.record).toMatchObject({ memoryMb: 512, idleSec: IDLE });
    expect(mine?.rssMb).toBeLessThanOrEqual(600); // QEMU's own memory on top of the guest's 512 MiB
    const status = await done(cli(['vm', 'status']));
    expect(status.out).toMatch(/qemu:debian-6\.12 .*running[\s\S]*(TCG|KVM), 512 MiB/);
    const probe = await done(cli(['probe', '--target', SPEC, '--format', 'json']));
    expect(probe.code, probe.err).toBe(0);
    expect(JSON.parse(probe.out)).toMatchObject({ target: SPEC, arch: 'x86_64', pageSize: 4096, btf: true, kernelRelease: expect.stringMatching(/^6\.12\./) });
  }, 120_000);

  it('`run --target qemu:debian-6.12` prints the guest\'s kprobe events as JSON lines', async () => {
    trigger = await connectTestGuest(SPEC);
    const run = cli(['run', path.join(root, 'test/fixtures/qemu/kprobe_nanosleep.bpf.c'), '--target', SPEC, '--format', 'jsonl', '--duration', '120', '--quiet']);
    try {
      const lines = (): Array<{ pid?: number; comm?: string }> => run.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { pid?: number; comm?: string });
      const ev = await triggerUntil(trigger.target, ['sleep', '0.1'], (pids) => lines().find((e) => pids.has(Number(e.pid))), 60_000);
      expect(ev?.comm, `stderr: ${run.stderr()}`).toBe('sleep');
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited, run.stderr()).toBe(0);
  }, 180_000);

  it('a CLI run killed with SIGKILL: its helper in the guest sees EOF and exits (nothing stays attached)', async () => {
    if (!trigger) throw new Error('needs the connection of the run test');
    const helpers = async (): Promise<number> => {
      const r = await trigger!.target.shell.exec(['sh', '-c', 'for p in /proc/[0-9]*; do cat $p/comm 2>/dev/null; done']);
      return r.stdout.toString().split('\n').filter((c) => c.startsWith('ringbuf-helper')).length;
    };
    const run = cli(['run', path.join(root, 'test/fixtures/qemu/kprobe_nanosleep.bpf.c'), '--target', SPEC, '--format', 'jsonl', '--duration', '120', '--quiet']);
    const lines = (): Array<{ pid?: number }> => run.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { pid?: number });
    const ev = await triggerUntil(trigger.target, ['sleep', '0.1'], (pids) => lines().find((e) => pids.has(Number(e.pid))), 60_000);
    expect(ev, run.stderr()).toBeDefined();
    expect(await helpers()).toBe(1);
    run.child.kill('SIGKILL');
    await run.exited;
    let left = 1;
    for (const end = Date.now() + 10_000; Date.now() < end && left > 0; ) {
      await new Promise((r) => setTimeout(r, 250));
      left = await helpers();
    }
    expect(left).toBe(0);
  }, 180_000);

  it('an unknown kernel name is refused with the list of known ones', async () => {
    const r = await done(cli(['probe', '--target', 'qemu:debian-4.19']));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no built-in VM kernel named 'debian-4\.19'[\s\S]*qemu:debian-6\.12-arm64-16k/);
    const usage = await done(cli(['vm', 'start']));
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/vm start needs a NAME/);
  });

  it('with nobody connected and nothing running, the guest powers itself off after --idle', async () => {
    await trigger?.target.close();
    const off = await waitFor(() => qemuProcesses().length === 0, (IDLE + 30) * 1000, undefined, 500);
    expect(off, guestConsole(kernel)).toBe(true);
    expect(guestConsole(kernel)).toMatch(/ringbuf-agent: idle: powering off/);
    const list = JSON.parse((await done(cli(['vm', 'list', '--format', 'json']))).out) as Array<{ spec: string; state: string }>;
    expect(list.find((s) => s.spec === SPEC)?.state).toBe('cached');
    const stop = await done(cli(['vm', 'stop', SPEC]));
    expect(stop.out).toMatch(/qemu:debian-6\.12 was not running/);
  }, 120_000);

  it('stopping qemu:debian-6.12 leaves qemu:debian-6.12-arm64-16k running (names sharing a prefix)', async () => {
    const arm = catalogueKernel('qemu:debian-6.12-arm64-16k');
    const wasRunning = (await guestStatus(arm)).state === 'running';
    const start = await done(cli(['vm', 'start', 'debian-6.12-arm64-16k', '--idle', '120s']));
    expect(start.code, start.err).toBe(0);
    try {
      const stop = await done(cli(['vm', 'stop', 'debian-6.12']));
      expect(stop.code, stop.err).toBe(0);
      expect((await guestStatus(arm)).state).toBe('running');
    } finally {
      if (!wasRunning) await stopGuest(arm);
    }
  }, 300_000);
});
