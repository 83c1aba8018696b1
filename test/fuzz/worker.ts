// Runs fuzz inputs inside a worker thread, so the parent can stop it when one input
// hangs. Before each input the bytes go into shared memory and a counter is bumped;
// when the counter stops moving the parent reads the stuck input from there.
//   mode 'fuzz':   generate and run `iterations` mutated inputs, report findings.
//   mode 'replay': run each input posted by the parent, answer with its outcome
//                  (used by the minimiser and by corpus replay).
import { parentPort, workerData } from 'node:worker_threads';
import { mutate, rng } from './mutate';
import { runOne, targets } from './targets';

export interface WorkerJob {
  mode: 'fuzz' | 'replay';
  target: string;
  seeds: Uint8Array[];
  iterations: number;
  seed: number;
  /** Inputs slower than this are reported as hangs (the per-input time guard). */
  slowMs: number;
  /** Int32 [0] = inputs started, [1] = length of the current input; its bytes follow at offset 8. */
  shared: SharedArrayBuffer;
}

export type WorkerReport =
  | { kind: 'finding'; input: Uint8Array; message: string; slowMs?: number }
  | { kind: 'replayed'; failure: string | null; ms: number }
  | { kind: 'done'; count: number; ms: number; maxInputMs: number };

function main(job: WorkerJob): void {
  const t = targets[job.target];
  if (!t) throw new Error(`unknown fuzz target ${job.target}`);
  const counters = new Int32Array(job.shared, 0, 2);
  const bytes = new Uint8Array(job.shared, 8);
  const post = (m: WorkerReport): void => parentPort?.postMessage(m);
  const track = (input: Uint8Array): void => {
    const n = Math.min(input.length, bytes.length);
    bytes.set(input.subarray(0, n));
    Atomics.store(counters, 1, n);
    Atomics.add(counters, 0, 1);
  };
  if (job.mode === 'replay') {
    parentPort?.on('message', (input: Uint8Array) => {
      track(input);
      const t0 = performance.now();
      const failure = runOne(job.target, input);
      post({ kind: 'replayed', failure, ms: performance.now() - t0 });
    });
    return;
  }
  const r = rng(job.seed);
  const start = performance.now();
  let maxInputMs = 0;
  for (let i = 0; i < job.iterations; i++) {
    const input = mutate(job.seeds, t.dictionary, r);
    track(input);
    const t0 = performance.now();
    const failure = runOne(job.target, input);
    const ms = performance.now() - t0;
    if (ms > maxInputMs) maxInputMs = ms;
    if (failure) post({ kind: 'finding', input: input.slice(), message: failure });
    else if (ms > job.slowMs) post({ kind: 'finding', input: input.slice(), message: `slow input: ${ms.toFixed(0)} ms (limit ${job.slowMs} ms)`, slowMs: ms });
  }
  post({ kind: 'done', count: job.iterations, ms: performance.now() - start, maxInputMs });
}

if (parentPort && workerData) main(workerData as WorkerJob);
