// Runs TS fuzz targets in a watched worker thread. Two time guards per input:
// the worker reports any input slower than `slowMs` (a "hang": super-linear work),
// and the parent kills the worker when its input counter stops moving for `hangMs`
// (a real infinite loop), saves that input and continues in a fresh worker.
// Findings are written to `findingsDir/<target>/` (input + .txt with the reason).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { repoRoot } from '../support/compile';
import type { WorkerJob, WorkerReport } from './worker';

export const defaultFindingsDir = path.join(repoRoot, 'test-results/fuzz');
const SHARED_BYTES = 8 + (1 << 20) + 64;

export interface FuzzOptions {
  iterations: number;
  seed: number;
  /** Per-input guard reported by the worker (ms). */
  slowMs?: number;
  /** No progress for this long → the worker is killed and the input saved (ms). */
  hangMs?: number;
  findingsDir?: string;
  log?: (line: string) => void;
}

export interface TargetResult {
  target: string;
  inputs: number;
  seconds: number;
  inputsPerSecond: number;
  crashes: number;
  hangs: number;
  slowestInputMs: number;
  /** Saved finding files (inputs). */
  findings: string[];
  /** First lines of the finding messages. */
  messages: string[];
}

let workerBundle: Promise<string> | undefined;
/** The worker runs TS sources: bundle it once per process into .cache/fuzz/. */
export function bundleWorker(): Promise<string> {
  workerBundle ??= (async () => {
    const out = path.join(repoRoot, '.cache/fuzz', `worker-${process.pid}.mjs`);
    await build({
      entryPoints: [path.join(repoRoot, 'test/fuzz/worker.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: out,
      logLevel: 'error',
      sourcemap: 'inline',
    });
    process.once('exit', () => fs.rmSync(out, { force: true }));
    return out;
  })();
  return workerBundle;
}

export function saveFinding(dir: string, target: string, kind: string, input: Uint8Array, message: string): string {
  const d = path.join(dir, target);
  fs.mkdirSync(d, { recursive: true });
  const file = path.join(d, `${kind}-${crypto.createHash('sha1').update(input).digest('hex').slice(0, 12)}.bin`);
  fs.writeFileSync(file, input);
  fs.writeFileSync(`${file}.txt`, `${message}\n`);
  return file;
}

/** Runs `opts.iterations` mutated inputs of one TS target; never throws for findings. */
export async function fuzzTarget(target: string, seeds: Uint8Array[], opts: FuzzOptions): Promise<TargetResult> {
  const slowMs = opts.slowMs ?? 2000;
  const hangMs = opts.hangMs ?? 10_000;
  const dir = opts.findingsDir ?? defaultFindingsDir;
  const res: TargetResult = { target, inputs: 0, seconds: 0, inputsPerSecond: 0, crashes: 0, hangs: 0, slowestInputMs: 0, findings: [], messages: [] };
  const note = (kind: 'crash' | 'hang', input: Uint8Array, message: string): void => {
    if (kind === 'crash') res.crashes++;
    else res.hangs++;
    const first = message.split('\n')[0] ?? '';
    if (res.messages.length < 20) res.messages.push(first);
    res.findings.push(saveFinding(dir, target, kind, input, message));
    opts.log?.(`  ${target}: ${kind}: ${first}`);
  };
  const bundle = await bundleWorker();
  const t0 = performance.now();
  let remaining = opts.iterations;
  let round = 0;
  while (remaining > 0) {
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    const counters = new Int32Array(shared, 0, 2);
    const job: WorkerJob = { mode: 'fuzz', target, seeds, iterations: remaining, seed: opts.seed + round++ * 7919, slowMs, shared };
    const outcome = await new Promise<{ count: number; maxMs: number }>((resolve, reject) => {
      const w = new Worker(bundle, { workerData: job });
      let last = -1;
      let lastChange = performance.now();
      let settled = false;
      const finish = (v: { count: number; maxMs: number }): void => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        void w.terminate();
        resolve(v);
      };
      const timer = setInterval(() => {
        const now = Atomics.load(counters, 0);
        if (now !== last) {
          last = now;
          lastChange = performance.now();
        } else if (performance.now() - lastChange > hangMs) {
          const len = Atomics.load(counters, 1);
          note('hang', new Uint8Array(shared, 8, len).slice(), `no progress for ${hangMs} ms (input killed)`);
          // The stuck input was started but not finished: count it, go on with the rest.
          finish({ count: Math.max(1, now), maxMs: hangMs });
        }
      }, 200);
      w.on('message', (m: WorkerReport) => {
        if (m.kind === 'finding') note(m.slowMs === undefined ? 'crash' : 'hang', m.input, m.message);
        else if (m.kind === 'done') finish({ count: m.count, maxMs: m.maxInputMs });
      });
      w.on('error', (e) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        reject(e);
      });
    });
    res.inputs += outcome.count;
    res.slowestInputMs = Math.max(res.slowestInputMs, outcome.maxMs);
    remaining -= outcome.count;
  }
  res.seconds = (performance.now() - t0) / 1000;
  res.inputsPerSecond = Math.round(res.inputs / Math.max(res.seconds, 1e-3));
  res.slowestInputMs = Math.round(res.slowestInputMs * 10) / 10;
  return res;
}

/**
 * Runs single inputs in a worker with a timeout (for replaying the corpus and for the
 * minimiser): an input that loops forever ends as 'hang' instead of blocking the caller.
 */
export class Replayer {
  private worker: Worker | undefined;
  private shared = new SharedArrayBuffer(SHARED_BYTES);
  constructor(
    private readonly target: string,
    private readonly timeoutMs = 2000,
  ) {}

  private async start(): Promise<Worker> {
    if (this.worker) return this.worker;
    const job: WorkerJob = { mode: 'replay', target: this.target, seeds: [], iterations: 0, seed: 0, slowMs: this.timeoutMs, shared: this.shared };
    this.worker = new Worker(await bundleWorker(), { workerData: job });
    return this.worker;
  }

  /** null when the input behaves, else why not ("hang: …" or the thrown error). */
  async run(input: Uint8Array): Promise<string | null> {
    const w = await this.start();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        w.off('message', onMessage);
        void w.terminate();
        this.worker = undefined;
        resolve(`hang: no answer within ${this.timeoutMs} ms`);
      }, this.timeoutMs);
      const onMessage = (m: WorkerReport): void => {
        if (m.kind !== 'replayed') return;
        clearTimeout(timer);
        w.off('message', onMessage);
        resolve(m.failure ?? (m.ms > this.timeoutMs ? `hang: slow input ${m.ms.toFixed(0)} ms` : null));
      };
      w.on('message', onMessage);
      w.once('error', reject);
      w.postMessage(input);
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}

/**
 * Delta debugging over byte ranges: removes chunks (halving their size down to one
 * byte) while `fails` still holds, then tries zeroing single bytes. Returns the smallest
 * failing input found.
 */
export async function minimize(
  input: Uint8Array,
  fails: (candidate: Uint8Array) => Promise<boolean>,
  opts: { log?: (s: string) => void; maxTries?: number } = {},
): Promise<Uint8Array> {
  let cur = input;
  let tries = opts.maxTries ?? 20_000;
  if (!(await fails(cur))) throw new Error('the input does not fail; nothing to minimise');
  for (let chunk = Math.max(1, cur.length >> 1); chunk >= 1 && tries > 0; chunk >>= 1) {
    for (let at = 0; at < cur.length && tries-- > 0; ) {
      const cand = new Uint8Array(cur.length - Math.min(chunk, cur.length - at));
      cand.set(cur.subarray(0, at));
      cand.set(cur.subarray(at + chunk), at);
      if (cand.length < cur.length && (await fails(cand))) {
        cur = cand;
        opts.log?.(`  ${cur.length} bytes`);
      } else {
        at += chunk;
      }
    }
  }
  for (let i = 0; i < cur.length && tries-- > 0; i++) {
    if (cur[i] === 0) continue;
    const cand = cur.slice();
    cand[i] = 0;
    if (await fails(cand)) cur = cand;
  }
  return cur;
}
