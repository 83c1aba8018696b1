// 48-byte ring records from the kernel to a sink, records/s. The producer is
// bench/c/gen.c calling getpid() on CPU 0 and bench/c/workload.bpf.c writing 256
// records per call with bpf_loop; the consumer side is pinned to CPU 1 (the helper
// together with its sink process, like the baseline that counts in-process; Node is
// not pinned).
//
// helper_drain (live): the generator runs, every consumer streams what it produces;
// same producer, same window (0.5 s after the first record, then 3 s). On this
// machine that is producer-bound: every consumer keeps up and nothing is dropped.
// helper_drain_backlog: what a consumer can do. Each cycle fills a 256 MiB ring
// (~4.8 M records) while the consumer is paused, stops the producer, then times the
// drain of the backlog.
// Consumers:
//   baseline  bench/c/baseline.c: minimal libbpf ring_buffer__new + ring_buffer__poll,
//             counting records in its callback (in-process: no copy at all)
//   helper    ringbuf-helper serve | bench/c/sink (parses frame headers only);
//             backlog: RESUME sent → last EVENTS frame read (CLOCK_MONOTONIC on both)
//   node      ringbuf-helper serve → this process through core/protocol/helper.ts
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { encodeCommand, encodeLoad, FrameDecoder, type Stats } from '../core/protocol/helper';
import { metric, type Benchmark, type Metric } from './metric';

const root = path.resolve(__dirname, '..');
const helper = path.join(root, 'helper/build/ringbuf-helper-x86_64');
const work = path.join(root, '.cache/bench/helper-drain');
const RING_BYTES = 256 << 20;
const RECORD_BYTES = 48 + 8;
const WARMUP_S = 0.5;
const WINDOW_S = 3;
const CYCLES = 3;
const ROUNDS = 2;
const PRODUCER_CPU = '0';
const CONSUMER_CPU = '1';

interface Drained {
  records: number;
  seconds: number;
}

interface Built {
  object: string;
  gen: string;
  baseline: string;
  sink: string;
}

function build(log: (l: string) => void): Built {
  if (process.getuid?.() !== 0) throw new Error('helper_drain needs root (it loads BPF programs)');
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) throw new Error('helper_drain needs a kernel with BTF');
  fs.mkdirSync(work, { recursive: true });
  log('building helper and the C consumers');
  execFileSync('make', ['-s', '-C', path.join(root, 'helper')], { stdio: 'inherit' });
  if (!fs.existsSync(path.join(root, 'dist/include/bpf/bpf_helpers.h'))) {
    execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  }
  const multiarch = execFileSync('gcc', ['-dumpmachine']).toString().trim();
  const out = (n: string): string => path.join(work, n);
  const c = (n: string): string => path.join(root, 'bench/c', n);
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I', path.join(root, 'dist/include'), '-I', `/usr/include/${multiarch}`, '-c', c('workload.bpf.c'), '-o', out('workload.bpf.o')]);
  execFileSync('gcc', ['-O2', '-Wall', '-o', out('gen'), c('gen.c')]);
  execFileSync('gcc', ['-O2', '-Wall', '-static', '-o', out('baseline'), c('baseline.c'), '-lbpf', '-lelf', '-lz']);
  execFileSync('gcc', ['-O2', '-Wall', '-o', out('sink'), c('sink.c')]);
  return { object: out('workload.bpf.o'), gen: out('gen'), baseline: out('baseline'), sink: out('sink') };
}

function lines(child: ChildProcess, onLine: (l: string) => void): void {
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.on('exit', (c) => resolve(c))));
}

/** Rejects when a step takes far too long (a stuck consumer must not hang the bench). */
function guard<T>(p: Promise<T>, what: string, limitMs = 90_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${limitMs} ms`)), limitMs);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function runBaseline(b: Built): Promise<Drained> {
  const child = spawn('taskset', ['-c', CONSUMER_CPU, b.baseline, 'backlog', b.object, b.gen, String(RING_BYTES), String(CYCLES)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const result = new Promise<Drained>((resolve, reject) => {
    lines(child, (l) => {
      const r = JSON.parse(l) as { records: number; seconds: number };
      resolve({ records: r.records, seconds: r.seconds });
    });
    void exitOf(child).then((c) => reject(new Error(`baseline exited (${c}) without a result`)));
  });
  try {
    return await guard(result, 'baseline');
  } finally {
    child.kill('SIGTERM');
    await exitOf(child);
  }
}

const dropsOf = (s: Stats): number => s.counters.find((c) => c.name === 'dropped')?.value ?? 0;

/**
 * Drives a paused helper through fill/drain cycles. `stats` yields the helper's STATS,
 * `burst` the (records, CLOCK_MONOTONIC ns of the last frame) of each drained backlog.
 */
class CycleDriver {
  private statsWaiters: ((s: Stats) => void)[] = [];
  private burstWaiters: ((b: { records: number; lastNs: bigint }) => void)[] = [];
  constructor(
    private readonly send: (frame: Uint8Array) => void,
    private readonly gen: string,
  ) {}
  onStats(s: Stats): void {
    for (const w of this.statsWaiters.splice(0)) w(s);
  }
  onBurst(records: number, lastNs: bigint): void {
    for (const w of this.burstWaiters.splice(0)) w({ records, lastNs });
  }
  private nextStats(pred: (s: Stats) => boolean): Promise<Stats> {
    return new Promise((resolve) => {
      const wait = (s: Stats): void => (pred(s) ? resolve(s) : void this.statsWaiters.push(wait));
      this.statsWaiters.push(wait);
    });
  }
  async run(): Promise<Drained> {
    let records = 0;
    let seconds = 0;
    for (let c = 0; c < CYCLES; c++) {
      const before = dropsOf(await guard(this.nextStats((s) => s.paused), 'paused STATS'));
      const gen = spawn('taskset', ['-c', PRODUCER_CPU, this.gen, '60'], { stdio: 'ignore' });
      try {
        await guard(this.nextStats((s) => s.paused && dropsOf(s) > before), 'a full ring');
      } finally {
        gen.kill('SIGKILL');
        await exitOf(gen);
      }
      // Every record in the ring is 48 + 8 bytes, so the backlog is exact.
      const ring = (await guard(this.nextStats((s) => s.paused), 'paused STATS')).rings[0]!;
      const backlog = (ring.producerPos - ring.consumerPos) / RECORD_BYTES;
      const t0 = process.hrtime.bigint();
      this.send(encodeCommand('resume'));
      let got = 0;
      let lastNs = t0;
      while (got < backlog) {
        const b = await guard(new Promise<{ records: number; lastNs: bigint }>((resolve) => this.burstWaiters.push(resolve)), 'the drained backlog');
        got += b.records;
        lastNs = b.lastNs;
      }
      records += got;
      seconds += Number(lastNs - t0) / 1e9;
      this.send(encodeCommand('pause'));
    }
    return { records, seconds };
  }
}

function startFrames(object: string): Uint8Array[] {
  return [
    encodeLoad({ object: fs.readFileSync(object), attachAll: true, attach: [], overrides: { rb: RING_BYTES } }),
    encodeCommand('start'),
    encodeCommand('pause'),
  ];
}

/** The helper's stdout goes straight into the C sink (a pipe between the two processes). */
async function runHelperToSink(b: Built): Promise<Drained> {
  const child = spawn('taskset', ['-c', CONSUMER_CPU, 'sh', '-c', '"$0" serve | "$1"', helper, b.sink], { stdio: ['pipe', 'pipe', 'inherit'] });
  const driver = new CycleDriver((f) => child.stdin.write(f), b.gen);
  lines(child, (l) => {
    const [tag, a, ...rest] = l.split(' ');
    if (tag === 'B') driver.onBurst(Number(a), BigInt(rest[0] ?? '0'));
    else if (tag === 'F' && a === '5') driver.onStats(statsOf(rest.join(' ')));
    else if (tag === 'F' && a === '6') process.stderr.write(`bench: helper error: ${rest.join(' ')}\n`);
  });
  for (const f of startFrames(b.object)) child.stdin.write(f);
  try {
    return await driver.run();
  } finally {
    child.stdin.end();
    await exitOf(child);
  }
}

function statsOf(json: string): Stats {
  // The sink forwards raw STATS JSON; reuse the codec's decoder for its field names.
  const payload = new TextEncoder().encode(json);
  const frame = new Uint8Array(5 + payload.length);
  new DataView(frame.buffer).setUint32(0, 1 + payload.length, true);
  frame[4] = 0x05;
  frame.set(payload, 5);
  const [m] = new FrameDecoder().push(frame);
  if (m?.kind !== 'stats') throw new Error('sink forwarded something that is not STATS');
  return m.stats;
}

/** The helper's stdout read by this process and decoded with the TS FrameDecoder. */
async function runHelperToNode(b: Built): Promise<Drained> {
  const child = spawn('taskset', ['-c', CONSUMER_CPU, helper, 'serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const driver = new CycleDriver((f) => child.stdin.write(f), b.gen);
  const decoder = new FrameDecoder();
  let burst = 0;
  let lastNs = 0n;
  const idle = setInterval(() => {
    if (burst && process.hrtime.bigint() - lastNs > 100_000_000n) {
      driver.onBurst(burst, lastNs);
      burst = 0;
    }
  }, 20);
  child.stdout.on('data', (chunk: Buffer) => {
    for (const m of decoder.push(chunk)) {
      if (m.kind === 'events') {
        burst += m.count;
        lastNs = process.hrtime.bigint();
      } else if (m.kind === 'stats') driver.onStats(m.stats);
      else if (m.kind === 'error') process.stderr.write(`bench: helper error: ${m.error.message}\n`);
    }
  });
  for (const f of startFrames(b.object)) child.stdin.write(f);
  try {
    return await driver.run();
  } finally {
    clearInterval(idle);
    child.stdin.end();
    await exitOf(child);
  }
}

/** Rate over the window from "T <total> <ns>" samples: 0.5 s after the first record, then 3 s. */
class LiveWindow {
  private first: bigint | null = null;
  private start: { total: number; ns: bigint } | null = null;
  result: number | null = null;
  sample(total: number, ns: bigint): void {
    if (this.result !== null) return;
    if (this.first === null) {
      if (total > 0) this.first = ns;
      return;
    }
    const since = Number(ns - this.first) / 1e9;
    if (!this.start && since >= WARMUP_S) this.start = { total, ns };
    else if (this.start && since >= WARMUP_S + WINDOW_S) this.result = (total - this.start.total) / (Number(ns - this.start.ns) / 1e9);
  }
}

function waitFor(window: LiveWindow, what: string): Promise<number> {
  return guard(
    new Promise<number>((resolve) => {
      const t = setInterval(() => {
        if (window.result !== null) {
          clearInterval(t);
          resolve(window.result);
        }
      }, 50);
    }),
    what,
    (WARMUP_S + WINDOW_S + 30) * 1000,
  );
}

function startGenerator(gen: string): ChildProcess {
  return spawn('taskset', ['-c', PRODUCER_CPU, gen, String(WARMUP_S + WINDOW_S + 3)], { stdio: 'ignore' });
}

async function liveBaseline(b: Built): Promise<number> {
  const child = spawn('taskset', ['-c', CONSUMER_CPU, b.baseline, 'live', b.object], { stdio: ['ignore', 'pipe', 'inherit'] });
  const window = new LiveWindow();
  let gen: ChildProcess | null = null;
  lines(child, (l) => {
    const [tag, total, ns] = l.split(' ');
    if (tag === 'ready') gen = startGenerator(b.gen);
    else if (tag === 'T') window.sample(Number(total), BigInt(ns ?? '0'));
  });
  try {
    return await waitFor(window, 'live baseline');
  } finally {
    (gen as ChildProcess | null)?.kill('SIGKILL');
    child.kill('SIGTERM');
    await exitOf(child);
  }
}

async function liveHelper(b: Built): Promise<number> {
  const child = spawn('taskset', ['-c', CONSUMER_CPU, 'sh', '-c', '"$0" serve | "$1"', helper, b.sink], { stdio: ['pipe', 'pipe', 'inherit'] });
  const window = new LiveWindow();
  let gen: ChildProcess | null = null;
  lines(child, (l) => {
    const [tag, a, ns] = l.split(' ');
    if (tag === 'F' && a === '3') gen = startGenerator(b.gen);
    else if (tag === 'T') window.sample(Number(a), BigInt(ns ?? '0'));
  });
  child.stdin.write(encodeLoad({ object: fs.readFileSync(b.object), attachAll: true, attach: [], overrides: {} }));
  child.stdin.write(encodeCommand('start'));
  try {
    return await waitFor(window, 'live helper | sink');
  } finally {
    (gen as ChildProcess | null)?.kill('SIGKILL');
    child.stdin.end();
    await exitOf(child);
  }
}

export const benchmark: Benchmark = {
  name: 'helper_drain',
  async run(log): Promise<Metric[]> {
    const b = build(log);
    const live = { baseline: 0, helper: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const base = await liveBaseline(b);
      const viaSink = await liveHelper(b);
      log(`live round ${round + 1}: baseline ${(base / 1e6).toFixed(2)} M/s, helper→sink ${(viaSink / 1e6).toFixed(2)} M/s`);
      live.baseline = Math.max(live.baseline, base);
      live.helper = Math.max(live.helper, viaSink);
    }
    const best = { baseline: 0, helper: 0, node: 0 };
    const rate = (d: Drained): number => d.records / d.seconds;
    const m = (v: number): string => `${(v / 1e6).toFixed(1)} M/s`;
    for (let round = 0; round < ROUNDS; round++) {
      const base = await runBaseline(b);
      const viaSink = await runHelperToSink(b);
      const viaNode = await runHelperToNode(b);
      log(
        `backlog round ${round + 1}: drained ${(base.records / 1e6).toFixed(1)}M/${(viaSink.records / 1e6).toFixed(1)}M/${(viaNode.records / 1e6).toFixed(1)}M records: ` +
          `baseline ${m(rate(base))}, helper→sink ${m(rate(viaSink))}, helper→node ${m(rate(viaNode))}`,
      );
      best.baseline = Math.max(best.baseline, rate(base));
      best.helper = Math.max(best.helper, rate(viaSink));
      best.node = Math.max(best.node, rate(viaNode));
    }
    const how = `drain of a full 256 MiB ring of 48-byte records (${CYCLES} cycles, best of ${ROUNDS}), consumer and sink pinned to CPU 1`;
    return [
      metric(
        'helper_drain',
        live.helper,
        'records/s',
        live.baseline,
        `live: ringbuf-helper → pipe → header-counting sink vs libbpf ring_buffer__poll counting in its callback; same producer (CPU 0) and window, best of ${ROUNDS}; producer-bound here`,
      ),
      metric('helper_drain_backlog', best.helper, 'records/s', best.baseline, `ringbuf-helper → pipe → header-counting sink vs the in-process libbpf consumer; ${how}`),
      metric('helper_drain_backlog_node', best.node, 'records/s', best.baseline, `ringbuf-helper → pipe → Node FrameDecoder (frames, not records) vs the same baseline; ${how}`),
    ];
  },
};
