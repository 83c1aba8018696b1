// The CLI stream (issue 16): records/s that `ringbuf-studio run --format jsonl` (and the
// default text table) writes to a file on tmpfs, on the peer workload (bench/peers/:
// 48-byte records, 8 per getpid() of the generator, 4 MiB ring), against the readers a
// user would write instead, measured in the same run, interleaved round by round:
//   go  bench/peers/go: cilium/ebpf ringbuf.NewReader + fmt.Fprintf per record (the seed's stack)
//   c   bench/c/printf_reader.c: libbpf ring_buffer__poll + printf of the same JSON line
// Metrics: cli_jsonl (ours ÷ go), cli_jsonl_vs_c (ours ÷ c), cli_text, cli_text_vs_c;
// medians of ROUNDS rounds. On a shared machine the rates follow everyone's load, so the
// CPU each reader spent per record printed is reported too (cli_*_cpu: theirs ÷ ours). And cli_slow_reader_rss: the CLI's RSS while its reader does
// not read for BENCH_CLI_RSS_S (60) seconds at the same workload (bounded buffering:
// reading the helper pauses, the ring fills, the program counts the drops), and
// cli_peer_60s_rss: its RSS growth after the first 5 s while it writes every record to a
// file for BENCH_CLI_PEER_S (60) seconds at full speed (no leak: flat).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { libbpfIncludeDir } from '../core/compile/vmlinux';
import { checkPrerequisite } from '../test/support/prereq';
import { median, metric, type Benchmark, type Metric } from './metric';
import { buildGoPeer, buildWorkload, measurePeer, mountDebugfs, peerSpecs, runGenerator, WORKLOAD_DIR, type PeerSpec } from './peers/peers';

const WINDOW_S = Number(process.env.BENCH_CLI_WINDOW_S ?? 4);
const ROUNDS = Number(process.env.BENCH_CLI_ROUNDS ?? 3);
const RSS_S = Number(process.env.BENCH_CLI_RSS_S ?? 60);
const PEER_S = Number(process.env.BENCH_CLI_PEER_S ?? 60);
const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
const outDir = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

function buildPrintfReader(): string {
  const bin = path.join(os.tmpdir(), 'ringbuf-studio-bench', 'printf_reader');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, path.join(root, 'bench/c/printf_reader.c'), '-lbpf', '-lelf', '-lz']);
  return bin;
}

/** `ringbuf-studio run` on the workload's source (so records decode with field names), stdout to the file. */
function cliSpec(format: 'jsonl' | 'text'): PeerSpec {
  return {
    name: `ringbuf-studio-${format}`,
    outFile: path.join(outDir, `rbs-cli-${format}.out`),
    command: () => ({ cmd: process.execPath, args: [cli, 'run', path.join(WORKLOAD_DIR, 'workload.bpf.c'), '--format', format, '--no-lint'] }),
    readyPattern: /attached/,
    stdoutToFile: true,
    stopSignal: 'SIGINT',
  };
}

function cReaderSpec(object: string, bin: string): PeerSpec {
  return {
    name: 'c-printf',
    outFile: path.join(outDir, 'rbs-c-printf.out'),
    command: (out, w) => ({ cmd: bin, args: [object, out, String(w + 1)] }),
    readyPattern: /ready/,
  };
}

function load(): string {
  return os.loadavg().map((l) => l.toFixed(1)).join(' ');
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** `run --format jsonl` on the workload with the given stdout; resolves once it attached. */
async function startCliRun(stdout: 'pipe' | number): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<void> }> {
  const child = spawn(process.execPath, [cli, 'run', path.join(WORKLOAD_DIR, 'workload.bpf.c'), '--format', 'jsonl', '--no-lint'], { stdio: ['ignore', stdout, 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  for (let i = 0; i < 600 && !/attached/.test(err) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  if (!/attached/.test(err)) throw new Error(`ringbuf-studio run did not attach: ${err.slice(-500)}`);
  return { child, stderr: () => err, exited };
}

/** RSS samples (MB) of `pid`, one per second for `seconds`; `each` runs after every sample. */
async function sampleRss(pid: number, seconds: number, each?: () => void): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    samples.push(rssMb(pid));
    each?.();
  }
  return samples;
}

function dropsIn(stderr: string): number {
  return Math.max(0, ...[...stderr.matchAll(/drops (\d+)/g)].map((m) => Number(m[1])));
}

/** The CLI writing into a pipe nobody reads for `seconds` while the generator floods: RSS samples (MB), 1/s. */
async function slowReaderRss(generator: string, seconds: number, log: (l: string) => void): Promise<number[]> {
  const run = await startCliRun('pipe');
  const gen = runGenerator(generator, seconds);
  const samples = await sampleRss(run.child.pid!, seconds);
  await gen.done;
  run.child.stdout!.resume(); // read (and drop) the rest so it can stop
  run.child.kill('SIGINT');
  await run.exited;
  log(`slow reader: RSS ${samples.map((s) => s.toFixed(0)).join(' ')} MB; drops counted by the program: ${dropsIn(run.stderr())}`);
  return samples;
}

/**
 * The CLI at full speed into a file for `seconds` while the generator floods: RSS samples (MB),
 * 1/s. The file (tmpfs, opened O_APPEND like `>>`) is emptied after every sample so a minute at
 * hundreds of MB/s fits in memory; the bytes it held are counted first.
 */
async function fileRunRss(generator: string, seconds: number, log: (l: string) => void): Promise<number[]> {
  const file = path.join(outDir, 'rbs-cli-peer-rss.out');
  const fd = fs.openSync(file, 'a');
  let bytes = 0;
  const empty = (): void => {
    bytes += fs.fstatSync(fd).size;
    fs.ftruncateSync(fd, 0);
  };
  try {
    const run = await startCliRun(fd);
    empty();
    bytes = 0;
    const gen = runGenerator(generator, seconds);
    const samples = await sampleRss(run.child.pid!, seconds, empty);
    await gen.done;
    run.child.kill('SIGINT');
    await run.exited;
    const grow = samples.slice(5).map((s) => s - (samples[4] ?? 0));
    // The peak includes the GC's sawtooth; a leak shows as a trend: the last 10 s against seconds 5–15.
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const trend = mean(samples.slice(-10)) - mean(samples.slice(5, 15));
    log(`${seconds} s to a file: RSS ${samples.map((s) => s.toFixed(0)).join(' ')} MB (growth after 5 s at most ${Math.max(0, ...grow).toFixed(1)} MB; trend ${trend.toFixed(1)} MB); ` +
      `${(bytes / 1e6 / seconds).toFixed(0)} MB/s of JSON lines written; drops counted by the program: ${dropsIn(run.stderr())}; load ${load()}`);
    return samples;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

export const benchmark: Benchmark = {
  name: 'cli',
  async run(log) {
    const missing = checkPrerequisite('bpf');
    if (missing) throw new Error(`needs the real kernel: ${missing}`);
    mountDebugfs();
    execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'ignore' });
    const { object, generator } = buildWorkload(libbpfIncludeDir());
    const go = peerSpecs(object, buildGoPeer()).find((p) => p.name === 'go')!;
    const c = cReaderSpec(object, buildPrintfReader());
    const specs = [go, c, cliSpec('jsonl'), cliSpec('text')];
    const rates = new Map<string, number[]>(specs.map((s) => [s.name, []]));
    const cpu = new Map<string, number[]>(specs.map((s) => [s.name, []]));
    const loads: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      loads.push(load());
      for (const spec of specs) {
        const r = await measurePeer(spec, generator, WINDOW_S);
        rates.get(spec.name)!.push(r.recordsPerS);
        const usPerRecord = ((r.cpuMs ?? 0) * 1000) / Math.max(1, r.records);
        cpu.get(spec.name)!.push(usPerRecord);
        log(`round ${round + 1}: ${spec.name} ${(r.recordsPerS / 1e6).toFixed(2)} M records/s, ${usPerRecord.toFixed(3)} µs CPU/record (load ${load()})`);
      }
    }
    const m = (name: string): number => median(rates.get(name) ?? []);
    const us = (name: string): number => median(cpu.get(name) ?? []);
    // CPU per record is what the machine's load changes least: lower is better, ratio = theirs ÷ ours.
    const cpuMetric = (name: string, ours: string, theirs: string, what: string): Metric => ({
      name,
      value: us(ours),
      unit: 'µs CPU/record',
      baseline: us(theirs),
      ratio: us(theirs) / us(ours),
      note: `${what}: CPU of the reader (ours: node + helper) per record printed, vs ${theirs}; ratio = theirs ÷ ours (> 1: less CPU); median of ${ROUNDS}`,
    });
    const note = (what: string, than: string): string =>
      `${what} records/s written to a file on tmpfs vs ${than}, same workload, median of ${ROUNDS} × ${WINDOW_S} s; load averages at each round: ${loads.join(' | ')}`;
    const metrics: Metric[] = [
      metric('cli_jsonl', m('ringbuf-studio-jsonl'), 'records/s', m('go'), note('run --format jsonl', 'the cilium/ebpf Go reader printing each record')),
      metric('cli_jsonl_vs_c', m('ringbuf-studio-jsonl'), 'records/s', m('c-printf'), note('run --format jsonl', 'libbpf ring_buffer__poll + printf of the same JSON line')),
      metric('cli_text', m('ringbuf-studio-text'), 'records/s', m('go'), note('run (text table)', 'the cilium/ebpf Go reader printing each record')),
      metric('cli_text_vs_c', m('ringbuf-studio-text'), 'records/s', m('c-printf'), note('run (text table)', 'libbpf ring_buffer__poll + printf of a JSON line')),
      cpuMetric('cli_jsonl_cpu', 'ringbuf-studio-jsonl', 'go', 'run --format jsonl'),
      cpuMetric('cli_jsonl_cpu_vs_c', 'ringbuf-studio-jsonl', 'c-printf', 'run --format jsonl'),
      cpuMetric('cli_text_cpu', 'ringbuf-studio-text', 'go', 'run (text table)'),
    ];
    if (RSS_S > 0) {
      const rss = await slowReaderRss(generator, RSS_S, log);
      const early = rss[Math.min(4, rss.length - 1)] ?? 0;
      metrics.push({
        name: 'cli_slow_reader_rss',
        value: Math.max(...rss),
        unit: 'MB',
        baseline: early,
        ratio: Math.max(...rss) / early,
        note: `largest RSS of run --format jsonl into a pipe nobody reads for ${RSS_S} s at the peer workload; baseline: RSS after 5 s (ratio 1.0 = flat)`,
      });
    }
    if (PEER_S > 5) {
      const rss = await fileRunRss(generator, PEER_S, log);
      const at5 = rss[4] ?? 0;
      const peak = Math.max(...rss.slice(5));
      metrics.push({
        name: 'cli_peer_60s_rss',
        value: Math.max(0, peak - at5),
        unit: 'MB',
        baseline: at5,
        ratio: peak / at5,
        note: `largest RSS growth of run --format jsonl after its first 5 s, writing every record to a file for ${PEER_S} s (BENCH_CLI_PEER_S) at the peer workload; baseline: RSS at 5 s (MB), ratio = largest ÷ that (1.0 = flat)`,
      });
    }
    return metrics;
  },
};
