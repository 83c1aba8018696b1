// A child process whose output the test reads as it arrives (CLI runs, the exported Go reader).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface ChildRun {
  child: ChildProcess;
  /** Everything written so far. */
  stdout: () => string;
  stderr: () => string;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Spawns with stdin ignored (unless `options.stdio` says otherwise) and collects stdout/stderr. */
export function startChild(command: string, args: readonly string[], options: SpawnOptions = {}): ChildRun {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}
