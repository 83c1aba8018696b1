// The tools a user would pick instead of Ringbuf Studio, run on one workload
// (bench/peers/workload.*): a generator calling getpid() in a tight loop and a
// tracepoint program writing 8 records of 48 bytes per call into a 4 MiB ring.
// Each peer prints every record it receives to a file on tmpfs; we count the
// lines over the same window.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** This folder: run from source (tests) it is __dirname; bundled into dist/bench.js, dist/../bench/peers. */
export const WORKLOAD_DIR = fs.existsSync(path.join(__dirname, 'workload.bpf.c')) ? __dirname : path.resolve(__dirname, '..', 'bench', 'peers');
const workDir = path.join(os.tmpdir(), 'ringbuf-studio-bench');
const outDir = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

export interface PeerResult {
  name: string;
  records: number;
  dropped: number | null;
  windowS: number;
  recordsPerS: number;
  firstEventMs: number | null;
  /** CPU the reader used (its process and its children, e.g. our helper) from the generator's start to the window's end. */
  cpuMs?: number;
}

const CLK_TCK = 100;

/** utime + stime of a process and its direct children, in ms (Linux /proc); 0 when gone. */
export function treeCpuMs(pid: number): number {
  const ticks = (p: string): number => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      return Number(f[11]) + Number(f[12]);
    } catch {
      return 0; // exited in between: nothing more to count
    }
  };
  let total = ticks(String(pid));
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) total += ticks(p);
    } catch {
      // exited while we listed /proc: it is no child any more
    }
  }
  return (total * 1000) / CLK_TCK;
}

export interface WorkloadArtifacts {
  object: string;
  generator: string;
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv, cwd?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function mountDebugfs(): void {
  // cilium/ebpf 0.9.1 looks for tracepoints under /sys/kernel/debug/tracing.
  try {
    run('mountpoint', ['-q', '/sys/kernel/debug']);
  } catch {
    run('mount', ['-t', 'debugfs', 'none', '/sys/kernel/debug']);
  }
}

export function buildWorkload(includeDir: string): WorkloadArtifacts {
  fs.mkdirSync(workDir, { recursive: true });
  const object = path.join(workDir, 'workload.bpf.o');
  const generator = path.join(workDir, 'rbs_gen');
  const multiarch = run('gcc', ['-print-multiarch']).trim();
  run('clang', ['-O2', '-g', '-target', 'bpf', '-I', includeDir, '-I', `/usr/include/${multiarch}`, '-c',
    path.join(WORKLOAD_DIR, 'workload.bpf.c'), '-o', object]);
  run('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', generator, path.join(WORKLOAD_DIR, 'gen.c')]);
  return { object, generator };
}

/** Builds the Go peer offline in GOPATH mode against Debian's cilium/ebpf (see env-recipes). */
export function buildGoPeer(): string {
  const gopath = path.join(workDir, 'gopath');
  const src = path.join(gopath, 'src', 'peergo');
  fs.mkdirSync(src, { recursive: true });
  fs.copyFileSync(path.join(WORKLOAD_DIR, 'go', 'main.go'), path.join(src, 'main.go'));
  const bin = path.join(workDir, 'peer-go');
  run('go', ['build', '-o', bin, '.'], {
    GOPATH: `${gopath}:/usr/share/gocode`,
    GO111MODULE: 'off',
    GOCACHE: path.join(workDir, 'gocache'),
    GOFLAGS: '',
  }, src);
  return bin;
}

/** Starts the generator for `seconds`; resolves when it exits. */
export function runGenerator(generator: string, seconds: number): { done: Promise<void>; child: ChildProcess } {
  const child = spawn(generator, [String(seconds)], { stdio: 'ignore' });
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { done, child };
}

function countLines(file: string): number {
  if (!fs.existsSync(file)) return 0;
  const buf = fs.readFileSync(file);
  let n = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10) n++;
  return n;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`peer did not print ${String(pattern)} within ${timeoutMs} ms: ${seen.slice(-500)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!pattern.test(seen)) reject(new Error(`peer exited (${code}) before ready: ${seen.slice(-500)}`));
    });
  });
}

async function waitForFile(file: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (fs.existsSync(file) && pattern.test(fs.readFileSync(file, 'utf8').slice(0, 4096))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`peer did not write ${String(pattern)} to ${file} within ${timeoutMs} ms`);
}

function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    if (child.exitCode !== null) resolve(out);
    else child.once('exit', () => resolve(out));
  });
}

export interface PeerSpec {
  name: string;
  outFile: string;
  /** argv; the peer must print `ready` (or match readyPattern) once attached. */
  command: (outFile: string, windowS: number) => { cmd: string; args: string[]; env?: NodeJS.ProcessEnv };
  readyPattern: RegExp;
  /** bpftrace with -o writes its "Attaching N probes" line into the output file. */
  readyInOutputFile?: boolean;
  /** The peer prints to its stdout (ringbuf-studio run): stdout goes to outFile. */
  stdoutToFile?: boolean;
  /** How to end it after the window (bpftrace runs until SIGINT). */
  stopSignal?: NodeJS.Signals;
  parseDropped?: (output: string) => number | null;
}

export function peerSpecs(object: string, goBin: string): PeerSpec[] {
  return [
    {
      name: 'go',
      outFile: path.join(outDir, 'rbs-peer-go.out'),
      command: (out, w) => ({ cmd: goBin, args: [object, out, String(w + 1)] }),
      readyPattern: /ready/,
      parseDropped: (o) => Number(/dropped (\d+)/.exec(o)?.[1] ?? NaN),
    },
    {
      name: 'bcc',
      outFile: path.join(outDir, 'rbs-peer-bcc.out'),
      command: (out, w) => ({ cmd: '/usr/bin/python3', args: [path.join(WORKLOAD_DIR, 'bcc_peer.py'), out, String(w + 1)] }),
      readyPattern: /ready/,
      parseDropped: (o) => Number(/dropped (\d+)/.exec(o)?.[1] ?? NaN),
    },
    {
      name: 'bpftrace',
      outFile: path.join(outDir, 'rbs-peer-bpftrace.out'),
      command: (out) => ({ cmd: 'bpftrace', args: ['-o', out, path.join(WORKLOAD_DIR, 'bpftrace_peer.bt')] }),
      readyPattern: /Attaching/,
      readyInOutputFile: true,
      stopSignal: 'SIGINT',
      parseDropped: (o) => {
        const m = [...o.matchAll(/Lost (\d+) events/g)];
        return m.length ? m.reduce((s, x) => s + Number(x[1]), 0) : 0;
      },
    },
  ];
}

/** Throughput: peer attached and ready → generator runs for windowS → records in the output file. */
export async function measurePeer(spec: PeerSpec, generator: string, windowS: number): Promise<Omit<PeerResult, 'firstEventMs'>> {
  fs.rmSync(spec.outFile, { force: true });
  const { cmd, args, env } = spec.command(spec.outFile, windowS);
  const out = spec.stdoutToFile ? fs.openSync(spec.outFile, 'w') : 'pipe';
  const child = spawn(cmd, args, { stdio: ['ignore', out, 'pipe'], env: { ...process.env, ...env } });
  if (typeof out === 'number') fs.closeSync(out);
  const ended = exitOf(child);
  if (spec.readyInOutputFile) await waitForFile(spec.outFile, spec.readyPattern, 60_000);
  else await waitForLine(child, spec.readyPattern, 60_000);
  const cpu0 = treeCpuMs(child.pid!);
  const gen = runGenerator(generator, windowS);
  await gen.done;
  await new Promise((r) => setTimeout(r, 500));
  const cpuMs = treeCpuMs(child.pid!) - cpu0;
  if (spec.stopSignal) child.kill(spec.stopSignal);
  const output = await Promise.race([ended, new Promise<string>((r) => setTimeout(() => { child.kill('SIGKILL'); r(''); }, 30_000))]);
  const records = countLines(spec.outFile) - (spec.readyInOutputFile ? 1 : 0);
  const dropped = spec.parseDropped?.(output) ?? null;
  fs.rmSync(spec.outFile, { force: true });
  return { name: spec.name, records, dropped: Number.isNaN(dropped) ? null : dropped, windowS, recordsPerS: records / windowS, cpuMs };
}

/** Run → first event: generator already running; time from spawning the peer to its first output line. */
export async function measurePeerFirstEvent(spec: PeerSpec, generator: string): Promise<number> {
  fs.rmSync(spec.outFile, { force: true });
  const gen = runGenerator(generator, 60);
  try {
    const t0 = performance.now();
    const { cmd, args, env } = spec.command(spec.outFile, 30);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    try {
      while (performance.now() - t0 < 60_000) {
        if (countLines(spec.outFile) > (spec.readyInOutputFile ? 1 : 0)) return performance.now() - t0;
        if (child.exitCode !== null) throw new Error(`${spec.name} exited before its first event`);
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`${spec.name}: no event within 60 s`);
    } finally {
      child.kill(spec.stopSignal ?? 'SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
    }
  } finally {
    gen.child.kill('SIGKILL');
    await gen.done;
    fs.rmSync(spec.outFile, { force: true });
  }
}
