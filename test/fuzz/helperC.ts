// Fuzzing the C side of the helper protocol: mutated frames go to the real
// `ringbuf-helper serve` on stdin. Whatever arrives, the helper must answer in valid
// frames (ERROR for what it refuses) and exit by itself — status 0 or 1, never a
// signal (SIGSEGV, SIGABRT …), never a hang — and its stdout must decode with the
// TS decoder and end with BYE.
//   processes: one fresh helper per mutated input stream (frames of any kind).
//   stream:    one helper gets thousands of frames the protocol lets it survive
//              (START/PAUSE/RESUME before LOAD → non-fatal ERROR "state", with junk
//              payloads, written in odd chunk sizes), then a mutated tail.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { encodeCommand, encodeFlush, encodeLoad, FrameDecoder, FrameKind, ProtocolError, type HelperMessage } from '../../core/protocol/helper';
import { repoRoot } from '../support/compile';
import { defaultFindingsDir, saveFinding, type TargetResult } from './engine';
import { mutate, rng, type Rng } from './mutate';

export const helperBinary = process.env.RINGBUF_HELPER ?? path.join(repoRoot, 'helper/build', `ringbuf-helper-${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}`);

const dictionary: Uint8Array[] = [
  ...[0, 1, 5, 6, 0x04000000, 0x04000001, 0xffffffff, 0x7fffffff].map((x) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, x >>> 0, true);
    return b;
  }),
  ...[0x81, 0x82, 0x83, 0x84, 0x85, 0x01, 0x86, 0xff].map((k) => Uint8Array.of(k)),
  Uint8Array.of(0xff, 0xff), // u16 counts
  Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1),
];

/** Core → helper seed streams (a LOAD of a real object, commands, and both combined). */
export function helperSeeds(object: Uint8Array): Uint8Array[] {
  const load = encodeLoad({ object, attachAll: false, attach: [], overrides: { events: 4096 }, logLevel: 1 });
  const cmds = Buffer.concat([encodeCommand('start'), encodeCommand('pause'), encodeFlush({ id: 7, timeoutMs: 50 }), encodeCommand('resume')]);
  return [
    load,
    cmds,
    Buffer.concat([cmds, load, encodeCommand('start'), encodeCommand('stop')]),
    encodeLoad({ object: object.subarray(0, 200), attachAll: true, attach: ['a', 'b'], overrides: { x: 1 } }),
    encodeLoad({ object: new TextEncoder().encode('not an object'), attachAll: false, attach: [], overrides: {} }),
  ];
}

export interface HelperRun {
  stdout: Uint8Array;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/** Writes `chunks` to a fresh `serve`, closes stdin, collects everything. */
export function runHelper(chunks: Uint8Array[], timeoutMs: number): Promise<HelperRun> {
  return new Promise((resolve) => {
    const p = spawn(helperBinary, ['serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += b.toString();
    });
    p.stdin.on('error', () => undefined); // the helper may exit (fatal protocol error) before reading everything
    void (async () => {
      for (const c of chunks) {
        if (p.stdin.destroyed || p.exitCode !== null) break;
        if (!p.stdin.write(c)) await new Promise((r) => p.stdin.once('drain', r).once('close', r));
      }
      p.stdin.end();
    })();
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), stderr, code, signal, timedOut });
    });
  });
}

/** Null when the helper behaved; otherwise what went wrong. Also returns the decoded replies. */
export function judge(r: HelperRun): { failure: string | null; messages: HelperMessage[] } {
  if (r.timedOut) return { failure: 'hang: no exit after stdin closed', messages: [] };
  if (r.signal) return { failure: `crash: killed by ${r.signal}\n${r.stderr}`, messages: [] };
  if (r.code !== 0 && r.code !== 1) return { failure: `crash: exit status ${r.code ?? '?'}\n${r.stderr}`, messages: [] };
  let messages: HelperMessage[];
  try {
    const d = new FrameDecoder();
    messages = d.push(r.stdout);
    if (!d.idle) return { failure: 'bad output: stdout ends inside a frame', messages };
  } catch (e) {
    return { failure: `bad output: ${e instanceof ProtocolError ? e.message : String(e)}`, messages: [] };
  }
  if (messages[0]?.kind !== 'hello') return { failure: 'bad output: first frame is not HELLO', messages };
  if (messages.at(-1)?.kind !== 'bye') return { failure: `bad output: last frame is ${messages.at(-1)?.kind ?? 'missing'}, not BYE`, messages };
  return { failure: null, messages };
}

function junkPayload(r: Rng): Uint8Array {
  const n = r() < 0.7 ? 0 : Math.floor(r() * 64);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** A frame the helper must survive: START/PAUSE/RESUME before LOAD (non-fatal ERROR), any payload. */
function survivableFrame(r: Rng): Uint8Array {
  const kind = [FrameKind.start, FrameKind.pause, FrameKind.resume][Math.floor(r() * 3)] ?? FrameKind.start;
  const payload = junkPayload(r);
  const f = new Uint8Array(5 + payload.length);
  new DataView(f.buffer).setUint32(0, 1 + payload.length, true);
  f[4] = kind;
  f.set(payload, 5);
  return f;
}

/** Cuts a byte stream into odd-sized writes. */
function rechunk(bytes: Uint8Array, r: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < bytes.length; ) {
    const n = 1 + Math.floor(r() * (r() < 0.5 ? 7 : 65536));
    out.push(bytes.subarray(off, off + n));
    off += n;
  }
  return out;
}

export interface HelperFuzzOptions {
  /** Survivable frames in total, spread over `streams` processes. */
  frames: number;
  streams: number;
  /** Fresh processes, one fully mutated input stream each. */
  processes: number;
  seed: number;
  seeds: Uint8Array[];
  findingsDir?: string;
  timeoutMs?: number;
  parallel?: number;
  log?: (line: string) => void;
}

/** Runs both modes; `inputs` counts frames sent in stream mode plus one per fresh process. */
export async function fuzzHelper(o: HelperFuzzOptions): Promise<TargetResult & { processes: number; streamFrames: number }> {
  if (!fs.existsSync(helperBinary)) throw new Error(`${helperBinary} is missing; build it with: make -C helper`);
  const dir = o.findingsDir ?? defaultFindingsDir;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const res = { target: 'helper-c', inputs: 0, seconds: 0, inputsPerSecond: 0, crashes: 0, hangs: 0, slowestInputMs: 0, findings: [] as string[], messages: [] as string[], processes: 0, streamFrames: 0 };
  const r = rng(o.seed);
  const note = (failure: string, input: Uint8Array): void => {
    if (failure.startsWith('hang')) res.hangs++;
    else res.crashes++;
    const first = failure.split('\n')[0] ?? '';
    if (res.messages.length < 20) res.messages.push(first);
    res.findings.push(saveFinding(dir, 'helper-c', failure.startsWith('hang') ? 'hang' : 'crash', input, failure));
    o.log?.(`  helper-c: ${first}`);
  };
  const t0 = performance.now();

  // Stream mode.
  const perStream = Math.ceil(o.frames / Math.max(1, o.streams));
  for (let s = 0; s < o.streams; s++) {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < perStream; i++) frames.push(survivableFrame(r));
    const tail = mutate(o.seeds, dictionary, r);
    const input = Buffer.concat([...frames, tail]);
    const st = performance.now();
    const run = await runHelper(rechunk(input, r), timeoutMs + perStream);
    res.slowestInputMs = Math.max(res.slowestInputMs, performance.now() - st);
    const { failure, messages } = judge(run);
    res.streamFrames += perStream + 1;
    res.inputs += perStream + 1;
    res.processes++;
    if (failure) {
      note(failure, input);
      continue;
    }
    // Every survivable frame before the tail was answered with a non-fatal "state" ERROR.
    const stateErrors = messages.filter((m) => m.kind === 'error' && m.error.code === 'state' && !m.error.fatal).length;
    if (stateErrors < perStream) note(`bad output: ${stateErrors} state errors for ${perStream} START/PAUSE/RESUME frames`, input);
  }

  // Fresh processes, `parallel` at a time.
  let next = 0;
  const inputs = Array.from({ length: o.processes }, () => mutate(o.seeds, dictionary, r));
  const lane = async (): Promise<void> => {
    while (next < inputs.length) {
      const input = inputs[next++] ?? new Uint8Array(0);
      const st = performance.now();
      const { failure } = judge(await runHelper([input], timeoutMs));
      res.slowestInputMs = Math.max(res.slowestInputMs, performance.now() - st);
      res.inputs++;
      res.processes++;
      if (failure) note(failure, input);
    }
  };
  await Promise.all(Array.from({ length: o.parallel ?? 2 }, lane));

  res.seconds = (performance.now() - t0) / 1000;
  res.inputsPerSecond = Math.round(res.inputs / Math.max(res.seconds, 1e-3));
  res.slowestInputMs = Math.round(res.slowestInputMs);
  return res;
}

/** For the minimiser: does this single input stream make the helper misbehave? */
export async function helperFails(input: Uint8Array): Promise<boolean> {
  return judge(await runHelper([input], 10_000)).failure !== null;
}
