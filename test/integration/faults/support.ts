// Shared pieces of the fault and load tests: the flood object and generator (built from
// bench/peers/gen.c), /proc readers, and waiting for our programs to leave the kernel.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const root = path.resolve(__dirname, '../../..');
export const faultFixtures = path.join(root, 'test/fixtures/faults');

export interface FloodArtifacts {
  dir: string;
  object: string;
  generator: string;
}

/** Compiles the flood object (real clang) and the bench generator (gcc) into a temp dir. */
export function buildFlood(): FloodArtifacts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-flood-'));
  const object = path.join(dir, 'flood.bpf.o');
  const generator = path.join(dir, 'rbs_gen');
  const multiarch = execFileSync('gcc', ['-print-multiarch']).toString().trim();
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I', path.join(root, 'dist/include'), '-I', `/usr/include/${multiarch}`,
    '-c', path.join(faultFixtures, 'flood.bpf.c'), '-o', object]);
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', generator, path.join(root, 'bench/peers/gen.c')]);
  return { dir, object, generator };
}

export interface Generators {
  children: ChildProcess[];
  /** Resolves when every generator exited. */
  done: Promise<void>;
  kill(): Promise<void>;
}

/** `count` generator processes calling getpid() in a tight loop for `seconds`. */
export function startGenerators(generator: string, count: number, seconds: number): Generators {
  const children = Array.from({ length: count }, () => spawn(generator, [String(seconds)], { stdio: 'ignore' }));
  const done = Promise.all(children.map((c) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r()))))).then(() => undefined);
  return {
    children,
    done,
    kill: async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await done;
    },
  };
}

/** Resident set size of a process in KiB (VmRSS in /proc/<pid>/status), or undefined once it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** pids whose /proc/<pid>/exe is this file (the helper binary on a "remote" target). */
export function pidsRunning(exe: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const target = fs.readlinkSync(`/proc/${entry}/exe`);
      if (target === exe || target === `${exe} (deleted)`) out.push(Number(entry));
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return out;
}

/** Prints a figure for the report, one JSON line per test (grep 'FAULT-FIGURES'). */
export function reportFigures(name: string, figures: Record<string, unknown>): void {
  console.log(`FAULT-FIGURES ${name} ${JSON.stringify(figures)}`);
}
