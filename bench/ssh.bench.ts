// SSH benchmarks over a throwaway sshd on 127.0.0.1 (test/support/sshd.ts):
//  ssh_e2e              records/s of 48-byte records kernel → helper → ssh2 → core frame
//                       decode + record split, against the raw bandwidth of the same
//                       connection (exec `head -c N /dev/zero`) ÷ framed record size,
//                       measured under the same load: the generator floods and the workload
//                       program is attached, its ring drained by a second helper whose frames
//                       a C sink discards on the target (bench/c/sink.c) — everything the
//                       target does in the e2e window except carrying the records over SSH
//                       and decoding them, which is what the ratio judges. The raw figure
//                       with nothing running is reported too (note and log).
//  first_event_ssh_warm ms from Run (startRun on the workload source) to the first batch, helper already uploaded.
//  first_event_ssh_cold the same with a fresh remote cache dir (SFTP upload + verify included).
// Baseline for the first-event figures: bare ssh2 connect + `exec true` in the same run.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'ssh2';
import { FrameDecoder, encodeCommand, encodeLoad, splitRecords } from '../core/protocol/helper';
import type { HelperMessage } from '../core/protocol/helper';
import type { HelperProcess } from '../core/transport/types';
import { startRun } from '../core/run/run';
import { findHelperBinary } from '../core/transport/helperBinaries';
import { connectSshTarget } from '../core/transport/ssh/index';
import { shellCommand } from '../core/transport/ssh/quote';
import type { SshConnectOptions } from '../core/transport/ssh/index';
import { checkPrerequisite, ensureBpfMounts } from '../test/support/prereq';
import { startSshd } from '../test/support/sshd';
import type { SshdInstance } from '../test/support/sshd';
import type { Benchmark, Metric } from './metric';
import { metric } from './metric';
import { WORKLOAD_DIR, buildWorkload } from './peers/peers';

const RECORD_BYTES = 48;
/** Each record in an EVENTS span: 8-byte header + 48 bytes (already 8-aligned). */
const FRAMED_RECORD_BYTES = 8 + RECORD_BYTES;
/** EVENTS frame header: u32 length + u8 kind + u32 ring + u32 count + u64 time. */
const EVENTS_HEADER_BYTES = 4 + 1 + 4 + 4 + 8;
const RAW_BYTES = 512 * 1024 * 1024;
const E2E_WINDOW_MS = 3000;

/** Bytes/s of `head -c N /dev/zero` through an exec channel of the given connection. */
function rawBandwidth(client: Client): Promise<number> {
  return new Promise((resolve, reject) => {
    client.exec(`head -c ${RAW_BYTES} /dev/zero`, (err, ch) => {
      if (err) return reject(err);
      let bytes = 0;
      let start = 0;
      ch.on('data', (d: Buffer) => {
        if (start === 0) start = performance.now();
        bytes += d.length;
      });
      ch.on('close', () => resolve(bytes / ((performance.now() - start) / 1000)));
    });
  });
}

/** bench/c/sink.c, built once: reads helper frames, prints `F <kind> <json>` for JSON frames, discards EVENTS. */
function buildSink(work: string): string {
  const sink = path.join(work, 'sink');
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', sink, path.join(WORKLOAD_DIR, '..', 'c', 'sink.c')]);
  return sink;
}

/**
 * The e2e window's load on the target without the transport: a second helper (its own exec on
 * the connection) loads and starts the workload and drains its ring into the C sink on the
 * target, so only the sink's few text lines cross SSH. Resolves once it attached; end() detaches.
 */
function startLoadedDrain(client: Client, helper: string, sink: string, object: Uint8Array): Promise<{ end(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    client.exec(shellCommand(['sh', '-c', '"$1" serve | "$2"', 'sh', helper, sink]), (err, ch) => {
      if (err) return reject(err);
      let out = '';
      const closed = new Promise<void>((r) => ch.on('close', () => r()));
      const timer = setTimeout(() => reject(new Error(`the loaded drain did not attach: ${out.slice(-500)}`)), 20_000);
      ch.stderr.resume();
      ch.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^F 6 /m.test(out)) reject(new Error(`the loaded drain's helper failed: ${out.slice(-500)}`));
        if (!/^F 3 /m.test(out)) return;
        clearTimeout(timer);
        out = '';
        resolve({ end: () => (ch.end(), closed) }); // stdin EOF: the helper detaches and exits
      });
      ch.write(encodeLoad({ object, attachAll: true, attach: [], overrides: {} }));
      ch.write(encodeCommand('start'));
    });
  });
}

async function bareConnectMs(sshd: SshdInstance): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const c = new Client();
    c.on('error', reject);
    c.on('ready', () => c.exec('true', (err, ch) => (err ? reject(err) : ch.on('close', () => (c.end(), resolve())).resume())));
    c.connect({ host: '127.0.0.1', port: sshd.port, username: 'root', privateKey: fs.readFileSync(sshd.clientKey), hostVerifier: () => true });
  });
  return performance.now() - t0;
}

interface Streamed {
  proc: HelperProcess;
  next(pred: (m: HelperMessage) => boolean, timeoutMs: number): Promise<HelperMessage>;
  onEvents: (count: number, frameBytes: number) => void;
}

function stream(proc: HelperProcess): Streamed {
  const decoder = new FrameDecoder();
  const waiters: Array<{ pred: (m: HelperMessage) => boolean; resolve: (m: HelperMessage) => void }> = [];
  const s: Streamed = {
    proc,
    onEvents: () => undefined,
    next: (pred, timeoutMs) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timed out waiting for the helper')), timeoutMs);
        waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
      }),
  };
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout.on('data', (chunk: Buffer) => {
    for (const m of decoder.push(chunk)) {
      if (m.kind === 'events') s.onEvents(splitRecords(m.records, m.count).count, m.records.length + EVENTS_HEADER_BYTES);
      if (m.kind === 'error') process.stderr.write(`bench: helper error ${m.error.message}\n${stderr}`);
      for (let i = 0; i < waiters.length; i++) {
        const w = waiters[i];
        if (w?.pred(m)) {
          waiters.splice(i, 1);
          w.resolve(m);
          break;
        }
      }
    }
  });
  return s;
}

async function loadAndStart(s: Streamed, object: Uint8Array): Promise<void> {
  await s.next((m) => m.kind === 'hello', 10_000);
  s.proc.stdin.write(encodeLoad({ object, attachAll: true, attach: [], overrides: {} }));
  const loaded = await s.next((m) => m.kind === 'loaded' || m.kind === 'error', 20_000);
  if (loaded.kind === 'error') throw new Error(`helper could not load the workload: ${loaded.error.message}`);
  s.proc.stdin.write(encodeCommand('start'));
}

function startGenerator(generator: string, seconds: number): ChildProcess {
  // Lowest priority: on loopback the producer shares our CPUs; on a real target it would not.
  return spawn('nice', ['-n', '19', generator, String(seconds)], { stdio: 'ignore' });
}

/** Run → first event through the run orchestrator (build, vmlinux.h of the target, connect, upload if needed, load). */
async function firstEventMs(connect: SshConnectOptions, spec: string, file: string, log: (line: string) => void): Promise<number> {
  const t0 = performance.now();
  let first = 0;
  const states: string[] = [];
  const run = await startRun({
    file,
    targets: [spec],
    connect,
    listeners: {
      batch: () => {
        if (!first) first = performance.now() - t0;
      },
      state: (st) => states.push(`${st}@${(performance.now() - t0).toFixed(0)}`),
    },
  });
  const deadline = Date.now() + 15_000;
  while (!first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  await run.stop();
  if (!first) throw new Error('no event within 15 s of Run');
  log(`first event after ${first.toFixed(0)} ms (${states.join(' ')})`);
  return first;
}

interface E2eSetup {
  spec: string;
  connect: SshConnectOptions;
  object: Uint8Array;
  generator: string;
  /** Helper and sink paths on the target (loopback: local paths). */
  helperPath: string;
  sink: string;
}

/** Records/s decoded over a fixed window while the generator floods. */
async function streamWindow(s: Streamed, log: (line: string) => void): Promise<{ rate: number; perRecord: number }> {
  let counted = 0;
  let framedBytes = 0;
  let counting = false;
  s.onEvents = (n, bytes) => {
    if (!counting) return;
    counted += n;
    framedBytes += bytes;
  };
  await new Promise((r) => setTimeout(r, 700)); // warm up: ring and window full
  counting = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, E2E_WINDOW_MS));
  counting = false;
  const rate = counted / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  log(`core process CPU during the window: ${(((cpu.user + cpu.system) / 1000 / E2E_WINDOW_MS) * 100).toFixed(0)}%`);
  // Bytes per record on the wire as framed in this run: 56 + the EVENTS header share.
  return { rate, perRecord: counted > 0 ? framedBytes / counted : FRAMED_RECORD_BYTES };
}

/** Raw bandwidth of the connection while the workload runs on the target without the transport (see the header). */
async function rawUnderLoad(client: Client, e: E2eSetup): Promise<number> {
  const drain = await startLoadedDrain(client, e.helperPath, e.sink, e.object);
  const gen = startGenerator(e.generator, 60);
  try {
    await new Promise((r) => setTimeout(r, 700)); // as in the e2e window: ring and drain busy
    return await rawBandwidth(client);
  } finally {
    gen.kill('SIGKILL');
    await drain.end();
  }
}

async function measureE2e(e: E2eSetup, log: (line: string) => void): Promise<Metric> {
  const target = await connectSshTarget(e.spec, e.connect);
  let gen: ChildProcess | undefined;
  try {
    const idle = await rawBandwidth(target.client); // the same connection, nothing running
    log(`raw ssh bandwidth, idle: ${(idle / 1e6).toFixed(0)} MB/s`);
    const proc = await target.spawnHelper(['serve']);
    const s = stream(proc);
    await loadAndStart(s, e.object);
    gen = startGenerator(e.generator, 30);
    let lastStats: HelperMessage | undefined;
    const statsWatch = (): void => {
      void s.next((m) => m.kind === 'stats', 60_000).then((m) => {
        lastStats = m;
        statsWatch();
      }, () => undefined);
    };
    statsWatch();
    const { rate, perRecord } = await streamWindow(s, log);
    gen.kill('SIGKILL');
    await proc.terminate();
    if (lastStats?.kind === 'stats') log(`helper stats at the end: ${JSON.stringify(lastStats.stats)}`);
    const loaded = await rawUnderLoad(target.client, e);
    log(`raw ssh bandwidth under the workload's load: ${(loaded / 1e6).toFixed(0)} MB/s`);
    const bound = loaded / perRecord;
    log(`ssh e2e ${(rate / 1e6).toFixed(2)} M records/s (bound under load ${(bound / 1e6).toFixed(2)} M/s, idle ${(idle / perRecord / 1e6).toFixed(2)} M/s)`);
    return metric('ssh_e2e', rate, 'records/s', bound,
      `48-byte records over loopback SSH vs raw SSH bandwidth of the same connection under the same load (generator flooding, the workload attached and drained on the target into a C sink: ${(loaded / 1e6).toFixed(0)} MB/s; idle ${(idle / 1e6).toFixed(0)} MB/s) / ${perRecord.toFixed(1)} B per framed record; goal ratio >= 0.8`);
  } finally {
    gen?.kill('SIGKILL');
    await target.close();
  }
}

export const benchmark: Benchmark = {
  name: 'ssh',
  async run(log) {
    for (const p of ['bpf', 'sshd'] as const) {
      const why = checkPrerequisite(p);
      if (why) throw new Error(`needs ${p}: ${why}`);
    }
    ensureBpfMounts();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-sshbench-'));
    const { generator } = buildWorkload('/usr/include');
    const object = path.join(work, 'ssh-workload.bpf.o');
    const multiarch = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I', `/usr/include/${multiarch}`, '-c', path.join(WORKLOAD_DIR, '..', 'ssh-workload.bpf.c'), '-o', object]);
    const objectBytes = new Uint8Array(fs.readFileSync(object));
    const sshd = await startSshd();
    const known = sshd.knownHosts;
    const cfg = path.join(work, 'ssh_config');
    fs.writeFileSync(cfg, `Host *\n  IdentityFile ${sshd.clientKey}\n`);
    const spec = `root@127.0.0.1:${sshd.port}`;
    const base: SshConnectOptions = { sshConfigPath: cfg, knownHostsPath: known, agentSocket: '/nonexistent' };
    const metrics: Metric[] = [];
    let gen: ChildProcess | undefined;
    try {
      const helperPath = findHelperBinary('x86_64'); // loopback: the target is this machine
      metrics.push(await measureE2e({ spec, connect: { ...base, remoteCacheDir: path.join(work, 'warm') }, object: objectBytes, generator, helperPath, sink: buildSink(work) }, log));

      // First event: a generator keeps firing so the first record comes as soon as we attach.
      gen = startGenerator(generator, 60);
      const floor = await bareConnectMs(sshd);
      const source = path.join(WORKLOAD_DIR, 'workload.bpf.c');
      await firstEventMs({ ...base, remoteCacheDir: path.join(work, 'warm') }, spec, source, log); // uploaded, build cache warm
      const warm: number[] = [];
      const cold: number[] = [];
      for (let i = 0; i < 3; i++) {
        warm.push(await firstEventMs({ ...base, remoteCacheDir: path.join(work, 'warm') }, spec, source, log));
        cold.push(await firstEventMs({ ...base, remoteCacheDir: path.join(work, `cold-${i}`) }, spec, source, log));
      }
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
      metrics.push(metric('first_event_ssh_warm', median(warm), 'ms', floor, 'startRun(workload.bpf.c, ssh target) → first batch, helper cached; baseline: bare ssh2 connect + exec true; goal <= 1500 ms'));
      metrics.push(metric('first_event_ssh_cold', median(cold), 'ms', floor, 'as warm, with a fresh remote cache dir (upload + sha256 verify); goal <= 3000 ms'));
    } finally {
      gen?.kill('SIGKILL');
      await sshd.stop();
      fs.rmSync(work, { recursive: true, force: true });
    }
    return metrics;
  },
};
