// Runs a program with an argv array (never a shell string) and collects its output.
import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface ExecOptions {
  cwd?: string;
  signal?: AbortSignal;
  /** Bytes of stdout kept at most (default 512 MiB: vmlinux.h is ~3 MB, kept generous). */
  maxStdout?: number;
}

/** Resolves with the exit status; rejects only when the program cannot be started (ENOENT, EACCES) or on abort. */
export function execCapture(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      signal: opts.signal,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    const max = opts.maxStdout ?? 512 * 1024 * 1024;
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes <= max) out.push(b);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (err.length < 16 * 1024 * 1024) err += s;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
}
