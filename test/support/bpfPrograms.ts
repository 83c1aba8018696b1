// Which of our BPF programs are loaded, as the kernel lists them (bpftool): the tests'
// proof that a run detached everything.
import { execFileSync } from 'node:child_process';

interface BpftoolProg {
  id: number;
  name?: string;
}

/** IDs of loaded programs whose names start with `prefix` (bpftool truncates names to 15 chars). */
export function loadedPrograms(prefix: string): number[] {
  const progs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { maxBuffer: 64 << 20 }).toString()) as BpftoolProg[];
  return progs.filter((p) => p.name?.startsWith(prefix)).map((p) => p.id);
}

/** Polls until none of our programs (by name prefix) is loaded; returns the ms it took. */
export async function waitProgramsGone(prefix: string, withinMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (loadedPrograms(prefix).length === 0) return Date.now() - start;
    if (Date.now() - start > withinMs) throw new Error(`programs '${prefix}*' still loaded after ${withinMs} ms: ${loadedPrograms(prefix).join(',')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
