// Which of our BPF programs are loaded, as the kernel lists them (bpftool): the tests'
// proof that a run detached everything.
import { execFileSync } from 'node:child_process';

export interface BpftoolProg {
  id: number;
  name?: string;
}

/** Every program loaded in the kernel right now (`bpftool prog show -j`). */
export function allPrograms(): BpftoolProg[] {
  return JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { maxBuffer: 64 << 20 }).toString()) as BpftoolProg[];
}

/** Names of the loaded programs (bpftool truncates them to 15 chars). */
export function loadedProgramNames(): string[] {
  return allPrograms().map((p) => p.name ?? '');
}

/** IDs of loaded programs whose names start with `prefix`. */
export function loadedPrograms(prefix: string): number[] {
  return allPrograms().filter((p) => p.name?.startsWith(prefix)).map((p) => p.id);
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
