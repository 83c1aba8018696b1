// `node dist/cli.js run|probe|vmlinux` end to end on the local kernel.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startChild, type ChildRun } from '../../support/child';
import { available } from '../../support/prereq';
import { fixtures, loadedPrograms, prepare, root, runCommand, waitProgramsGone } from './support';

const cli = path.join(root, 'dist/cli.js');

function startCli(args: string[]): ChildRun {
  return startChild(process.execPath, [cli, ...args], { cwd: fixtures });
}

/** Runs /bin/true every 50 ms until stopped. */
function triggerLoop(): () => void {
  const iv = setInterval(() => void runCommand('/bin/true'), 50);
  return () => clearInterval(iv);
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!available('bpf'))('ringbuf-studio CLI on the local kernel', () => {
  beforeAll(() => prepare({ cli: true }));

  it('run --count 10 --format jsonl prints 10 JSON events with BTF field names, exits 0, leaves nothing attached', async () => {
    const stop = triggerLoop();
    const r = startCli(['run', 'seed_exec.bpf.c', '--target', 'local', '--count', '10', '--format', 'jsonl']);
    const code = await r.exited;
    stop();
    expect(code, r.stderr()).toBe(0);
    const lines = r.stdout().trim().split('\n');
    expect(lines).toHaveLength(10);
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of events) expect(Object.keys(e)).toEqual(['pid', 'uid', 'cgroup', 'comm']);
    expect(events.some((e) => e.comm === 'true')).toBe(true);
    expect(r.stderr()).toMatch(/10 events delivered \(count reached\), (\d+ more arrived after the count \(not delivered\), )?0 left in the ring, 0 dropped by the program; detached/);
    expect(loadedPrograms('rbs_run_seed')).toEqual([]);
  });

  it('run without --format prints aligned columns under one header', async () => {
    const stop = triggerLoop();
    const r = startCli(['run', 'seed_exec.bpf.c', '--count', '3']);
    const code = await r.exited;
    stop();
    expect(code, r.stderr()).toBe(0);
    const [header, ...rows] = r.stdout().trimEnd().split('\n');
    expect(header!.trim().split(/\s+/)).toEqual(['pid', 'uid', 'cgroup', 'comm']);
    expect(rows).toHaveLength(3);
    // comm starts in the same column on every line.
    const commAt = header!.indexOf('comm');
    for (const row of rows) expect(row[commAt - 1]).toBe(' ');
  });

  it('Ctrl-C (SIGINT) stops cleanly with exit 0 and detaches', async () => {
    const stop = triggerLoop();
    const r = startCli(['run', 'seed_exec.bpf.c', '--format', 'jsonl']);
    await until(() => r.stdout().includes('\n'), 30_000, 'the first event');
    r.child.kill('SIGINT');
    const code = await r.exited;
    stop();
    expect(code, r.stderr()).toBe(0);
    expect(r.stderr()).toMatch(/\d+ events? delivered \(interrupted\), 0 left in the ring, 0 dropped by the program; detached/);
    await waitProgramsGone('rbs_run_seed', 2000);
  });

  it('SIGKILL of the CLI mid-stream: the helper sees EOF / parent death, nothing of ours stays loaded after 2 s', async () => {
    const stop = triggerLoop();
    const r = startCli(['run', 'seed_exec.bpf.c', '--format', 'jsonl']);
    await until(() => r.stdout().includes('\n'), 30_000, 'the first event');
    expect(loadedPrograms('rbs_run_seed').length).toBe(1);
    r.child.kill('SIGKILL');
    await r.exited;
    stop();
    const ms = await waitProgramsGone('rbs_run_seed', 2000);
    expect(ms).toBeLessThanOrEqual(2000);
  });

  it('a verifier rejection prints like a compiler (file:line:col: error) with the log excerpt, exit 1', async () => {
    const r = startCli(['run', 'verifier_nonull.bpf.c', '--no-lint', '--count', '1']);
    const code = await r.exited;
    expect(code).toBe(1);
    const line = fs.readFileSync(path.join(fixtures, 'verifier_nonull.bpf.c'), 'utf8').split('\n').findIndex((l) => l.includes('REJECTED HERE')) + 1;
    expect(r.stderr()).toContain(`verifier_nonull.bpf.c:${line}:2: error: R`);
    expect(r.stderr()).toMatch(/invalid mem access 'ringbuf_mem_or_null'/);
    expect(r.stderr()).toMatch(/\| \d+: \(/);
    expect(r.stdout()).toBe('');
  });

  it('an invalid --max-entries is refused before load with exit 1', async () => {
    const r = startCli(['run', 'seed_exec.bpf.c', '--max-entries', 'rb=1000', '--count', '1']);
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toMatch(/rb=1000 is not a valid ring buffer size.*nearest valid: 4096/);
  });

  it('a target listed twice is bad usage for run and verify: exit 2, the cause, then the usage', async () => {
    for (const command of ['run', 'verify']) {
      const r = startCli([command, 'seed_exec.bpf.c', '--target', 'local', '--target', 'local']);
      expect(await r.exited, r.stderr()).toBe(2);
      expect(r.stderr()).toContain(`ringbuf-studio ${command}: target listed twice: local, local\n\nusage: ringbuf-studio ${command} `);
    }
  });

  it('probe --format json reports this kernel', async () => {
    const r = startCli(['probe', '--target', 'local', '--format', 'json']);
    expect(await r.exited).toBe(0);
    const p = JSON.parse(r.stdout()) as Record<string, unknown>;
    expect(p).toMatchObject({ target: 'local', kernelRelease: os.release(), pageSize: 4096, btf: true, ringbuf: true });
    expect(p.attachTypes).toMatchObject({ tracepoint: true, kprobe: false, fentry: false });
  });

  it('vmlinux -o writes the kernel header', async () => {
    const out = path.join(os.tmpdir(), `rbs-run-vmlinux-${process.pid}.h`);
    try {
      const r = startCli(['vmlinux', '-o', out]);
      expect(await r.exited, r.stderr()).toBe(0);
      const text = fs.readFileSync(out, 'utf8');
      expect(text).toMatch(/struct task_struct \{/);
      expect(text).toMatch(/BPF_MAP_TYPE_RINGBUF = 27/);
    } finally {
      fs.rmSync(out, { force: true });
    }
  });
});
