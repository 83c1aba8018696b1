// `ringbuf-studio run`'s output path on the local kernel (Trust issue items 6 and 7,
// Performance issue "bounded buffering"): a stdout that cannot be written stops the run
// with one line and exit 1; an event too large to decode prints with markers and exit 0;
// a printer or listener that throws ends the run with its message, never silently; a
// reader that stops reading holds memory flat while the rings absorb (and count) the loss.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/command';
import { runCommand as runCli } from '../../../cli/commands/run';
import { startRun } from '../../../core/run/run';
import { libbpfIncludeDir } from '../../../core/compile/vmlinux';
import { buildWorkload, runGenerator, WORKLOAD_DIR } from '../../../bench/peers/peers';
import { startChild } from '../../support/child';
import { available } from '../../support/prereq';
import { fixtures, loadedPrograms, prepare, root, runCommand, waitProgramsGone } from './support';

const cli = path.join(root, 'dist/cli.js');

/** Runs /bin/true every 50 ms until stopped. */
function triggerLoop(): () => void {
  const iv = setInterval(() => void runCommand('/bin/true'), 50);
  return () => clearInterval(iv);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

describe.skipIf(!available('bpf'))('run: what reaches stdout', () => {
  beforeAll(() => prepare({ cli: true }));

  it('> /dev/full: one line naming ENOSPC, exit 1, nothing left attached', async () => {
    const stop = triggerLoop();
    const full = fs.openSync('/dev/full', 'w');
    const r = startChild(process.execPath, [cli, 'run', 'seed_exec.bpf.c', '--format', 'jsonl', '--duration', '20'], { cwd: fixtures, stdio: ['ignore', full, 'pipe'] });
    const code = await r.exited;
    fs.closeSync(full);
    stop();
    expect(r.stderr()).toMatch(/\nringbuf-studio run: cannot write to stdout: no space left on device \(ENOSPC\); detached after \d+ events\n$/);
    expect(r.stderr()).not.toMatch(/events in 20 s/); // it stopped at the failure, not at --duration
    expect(code).toBe(1);
    expect(loadedPrograms('rbs_run_seed')).toEqual([]);
  });

  it('vmlinux -o /dev/full: the errno named, exit 1, and /dev/full is still the device', async () => {
    const r = startChild(process.execPath, [cli, 'vmlinux', '-o', '/dev/full'], { cwd: fixtures });
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toContain('ringbuf-studio vmlinux: cannot write /dev/full: no space left on device (ENOSPC)');
    expect(fs.statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('a 1 MiB event of arrays of 500-member unions prints at once with its fields and the arrays marked, exit 0', async () => {
    const stop = triggerLoop();
    const r = startCli(['run', 'wide_unions.bpf.c', '--count', '1', '--format', 'jsonl']);
    const code = await r.exited;
    stop();
    expect(code, r.stderr()).toBe(0);
    const lines = r.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    const e = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(e).toMatchObject({ before: 0x11111111, first: { $truncated: { bytes: 524256 } }, second: { $truncated: { bytes: 524256 } }, after: 0x22222222 });
    expect(r.stderr()).toMatch(/1 event delivered \(count reached\), .*; detached/);
  });

  it('a printer that throws (a stdout that throws: a fake fault) ends the run with its message, exit 1', async () => {
    const stop = triggerLoop();
    let err = '';
    const io: CliIo = {
      stdout: () => {
        throw new Error('injected: the terminal went away');
      },
      stderr: (t) => void (err += t),
      isTty: false,
      cwd: fixtures,
      signal: new AbortController().signal,
    };
    const code = await runCli.run(['seed_exec.bpf.c', '--format', 'jsonl', '--duration', '20'], io);
    stop();
    expect(code).toBe(1);
    expect(err).toMatch(/ringbuf-studio run: cannot (print|write) the events[^:]*: injected: the terminal went away; detached after \d+ events\n$/);
    await waitProgramsGone('rbs_run_seed', 2000);
  });

  it('a run listener that throws ends the run with a clear error instead of streaming past it', async () => {
    const stop = triggerLoop();
    const handle = await startRun({
      file: path.join(fixtures, 'seed_exec.bpf.c'),
      listeners: {
        batch: () => {
          throw new Error('injected listener failure');
        },
      },
    });
    const end = await Promise.race([handle.done, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('the run went on for 20 s')), 20_000))]);
    stop();
    expect(end.reason).toBe('helper-exited');
    expect(end.message).toContain('an event listener failed: injected listener failure');
    await waitProgramsGone('rbs_run_seed', 2000);
  });

  function startCli(args: string[]) {
    return startChild(process.execPath, [cli, ...args], { cwd: fixtures });
  }
});

describe.skipIf(!available('bpf'))('run to a reader that stops reading (the peer workload)', () => {
  let generator = '';
  beforeAll(() => {
    prepare({ cli: true });
    generator = buildWorkload(libbpfIncludeDir()).generator;
  });

  it('memory stays flat while the reader sleeps; the rings count the drops; the run ends normally once it reads again', async () => {
    const child = spawn(process.execPath, [cli, 'run', path.join(WORKLOAD_DIR, 'workload.bpf.c'), '--format', 'jsonl', '--no-lint', '--duration', '14'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    for (let i = 0; i < 600 && !/attached/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
    expect(err).toMatch(/attached/);
    const gen = runGenerator(generator, 8);
    const samples: number[] = [];
    // stdout is not read for 8 s (the pipe and then the CLI's queue fill up).
    for (let i = 0; i < 16; i++) {
      await new Promise((r) => setTimeout(r, 500));
      samples.push(rssMb(child.pid!));
    }
    await gen.done;
    let bytes = 0;
    child.stdout.on('data', (d: Buffer) => (bytes += d.length));
    const code = await exited;
    expect(code, err).toBe(0);
    // Flat: after the first seconds (pipe and queue full, reading paused) it grows no more.
    const shown = `RSS samples (MB): ${samples.map((s) => s.toFixed(0)).join(' ')}`;
    expect(Math.max(...samples.slice(4)) - (samples[3] ?? 0), shown).toBeLessThan(32);
    expect(Math.max(...samples), shown).toBeLessThan(200);
    expect(bytes).toBeGreaterThan(0);
    const drops = [...err.matchAll(/drops (\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(0, ...drops), err).toBeGreaterThan(0);
    expect(err).toMatch(/events? delivered in 14 s, .*; detached/);
  }, 120_000);
});

