// Live tests through the CLI as CI runs them (`node dist/cli.js test …`, a child process,
// wall time from spawn to exit), on the execve template's file (3 tests):
//  livetest_local       warm: the build cache and the page cache are warm (median of ROUNDS);
//                       goal ≤ 3000 ms. Baseline: `run execve.bpf.c -q -- /bin/true` (start,
//                       load, attach, one trigger, drain, stop: the fixed cost of any run).
//  livetest_local_cold  the first run with an empty per-user cache (RINGBUF_STUDIO_CACHE in a
//                       fresh folder: clang builds the program again); baseline: the warm figure.
//  livetest_vm          `test … --target qemu:debian-6.1 --filter "exec of true"` with the guest
//                       stopped: boot + build + load + the first test; baseline: the same with
//                       the guest running. Guests this bench boots are stopped again.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { catalogueKernel, guestStatus, stopGuest } from '../core/transport/qemu/index';
import { checkPrerequisite } from '../test/support/prereq';
import { median, metric, type Benchmark, type Metric } from './metric';

const ROUNDS = Number(process.env.BENCH_LIVETEST_ROUNDS ?? 5);
const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
const testFile = path.join(root, 'bpf-templates/execve/execve.rbtest.yaml');
const program = path.join(root, 'bpf-templates/execve/execve.bpf.c');
const VM = 'qemu:debian-6.1';

/** Wall ms of one CLI run; throws with its output when it does not exit 0. */
function cliMs(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`ringbuf-studio ${args.join(' ')} exited ${code}:\n${out}`));
    });
  });
}

async function local(log: (l: string) => void): Promise<Metric[]> {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-bench-livetest-cache-'));
  let cold: number;
  try {
    cold = await cliMs(['test', testFile], { ...process.env, RINGBUF_STUDIO_CACHE: cache });
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
  await cliMs(['test', testFile]); // warm-up: the per-user build cache
  const warm: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    warm.push(await cliMs(['test', testFile]));
    base.push(await cliMs(['run', program, '-q', '--', '/bin/true']));
  }
  log(`livetest_local: cold ${cold.toFixed(0)} ms; warm ${warm.map((x) => x.toFixed(0)).join(', ')} ms; run -- /bin/true ${base.map((x) => x.toFixed(0)).join(', ')} ms`);
  const w = Math.round(median(warm));
  return [
    metric('livetest_local', w, 'ms', Math.round(median(base)), `warm \`test\` on execve.rbtest.yaml (3 tests), median of ${ROUNDS}, goal ≤ 3000; baseline: run execve.bpf.c -- /bin/true`),
    metric('livetest_local_cold', Math.round(cold), 'ms', w, 'the same with an empty per-user cache (clang builds again); baseline: warm'),
  ];
}

async function vm(log: (l: string) => void): Promise<Metric[]> {
  const kernel = catalogueKernel(VM);
  const wasRunning = (await guestStatus(kernel)).state === 'running';
  const args = ['test', testFile, '--target', VM, '--filter', 'exec of true'];
  try {
    await stopGuest(kernel);
    const cold = await cliMs(args);
    const warm = await cliMs(args);
    log(`livetest_vm: guest stopped ${cold.toFixed(0)} ms; running ${warm.toFixed(0)} ms`);
    return [metric('livetest_vm', Math.round(cold), 'ms', Math.round(warm), `${VM} stopped → boot, build, load, the first test; baseline: the same with the guest running`)];
  } finally {
    if (!wasRunning) await stopGuest(kernel);
  }
}

export const benchmark: Benchmark = {
  name: 'livetest',
  async run(log) {
    const bpf = checkPrerequisite('bpf');
    if (bpf) throw new Error(`livetest needs BPF: ${bpf}`);
    if (!fs.existsSync(cli)) throw new Error('dist/cli.js is missing: node scripts/build.mjs');
    const metrics = await local(log);
    const qemu = checkPrerequisite('qemu');
    if (qemu) log(`livetest_vm not measured: ${qemu}`);
    else metrics.push(...(await vm(log)));
    return metrics;
  },
};
