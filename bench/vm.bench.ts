// The built-in VM targets (kernels already downloaded; QEMU with KVM when usable, else TCG):
//  first_event_vm_cold  ms from startRun on qemu:debian-6.1 with the guest stopped to the first
//                       decoded event (boot + connect + build + load + attach + a trigger in the
//                       guest); baseline: the boot alone (QEMU start → agent HELLO), same run.
//  first_event_vm_warm  the same with the guest running; baseline: the clang build alone.
//  *_aarch64            the same on qemu:debian-6.12-arm64-16k (aarch64 under emulation).
//  vm_boot_<kernel>, first_event_vm_cold_<kernel>, vm_rss_<kernel>: every kernel once, with
//                       QEMU's resident memory after the first event (guest memory is 512 MiB).
import path from 'node:path';
import { compileBpf } from '../core/compile/build';
import { compileDecoder } from '../core/decode/decode';
import type { EventLayout } from '../core/btf/layoutTypes';
import { startRun, type RunHandle } from '../core/run/run';
import { CATALOGUE, catalogueKernel, ensureGuest, guestStatus, stopGuest } from '../core/transport/qemu/index';
import { QemuTarget } from '../core/transport/qemu/target';
import { median, metric, type Benchmark, type Metric } from './metric';

const root = path.resolve(__dirname, '..');
const program = path.join(root, 'test/fixtures/run/seed_exec.bpf.c');
const IDLE_SEC = 300;

/** Runs /bin/true in the guest every 50 ms until stopped (the event source). */
function triggerLoop(run: RunHandle): () => void {
  const conn = run.targets[0]?.connection;
  if (!(conn instanceof QemuTarget)) throw new Error('not a VM target');
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const p = await conn.spawnCommand(['/bin/true']).catch(() => undefined);
      p?.stdin.end();
      await p?.exited;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return () => (stopped = true);
}

/** startRun on the target → first decoded event, in ms. */
async function firstEventMs(spec: string): Promise<number> {
  const t0 = performance.now();
  let resolveFirst!: (ms: number) => void;
  const first = new Promise<number>((r) => (resolveFirst = r));
  const seen: { layouts?: Map<string, EventLayout | null> } = {};
  const run = await startRun({
    file: program,
    targets: [spec],
    connect: { qemu: { idleSec: IDLE_SEC } },
    listeners: {
      batch: (b) => {
        const layout = seen.layouts?.get(b.map);
        if (layout) compileDecoder(layout).decode(b.data, b.offsets[0] ?? 0, b.lengths[0] ?? 0);
        resolveFirst(performance.now() - t0);
      },
    },
  });
  seen.layouts = run.layouts;
  const stopTrigger = triggerLoop(run);
  try {
    return await Promise.race([first, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`no event from ${spec} within 60 s`)), 60_000))]);
  } finally {
    stopTrigger();
    await run.stop();
  }
}

async function bootMs(spec: string): Promise<number> {
  const k = catalogueKernel(spec);
  await stopGuest(k);
  const t0 = performance.now();
  await ensureGuest(k, { idleSec: IDLE_SEC });
  return performance.now() - t0;
}

async function coldFirstEventMs(spec: string): Promise<number> {
  await stopGuest(catalogueKernel(spec));
  return firstEventMs(spec);
}

async function pair(spec: string, suffix: string, rounds: { cold: number; warm: number }, log: (l: string) => void): Promise<Metric[]> {
  const boots: number[] = [];
  const colds: number[] = [];
  for (let i = 0; i < rounds.cold; i++) {
    boots.push(await bootMs(spec));
    colds.push(await coldFirstEventMs(spec));
  }
  await firstEventMs(spec); // warm-up: vmlinux.h and clang's files
  const warms: number[] = [];
  const builds: number[] = [];
  for (let i = 0; i < rounds.warm; i++) {
    warms.push(await firstEventMs(spec));
    const t0 = performance.now();
    const target = await QemuTarget.connect(spec);
    const b = await compileBpf({ file: program, arch: target.info.arch === 'aarch64' ? 'arm64' : 'x86' });
    await target.close();
    if (!b.ok) throw new Error('baseline build failed');
    builds.push(performance.now() - t0);
  }
  const status = await guestStatus(catalogueKernel(spec));
  log(`${spec}: boot ${boots.map((r) => r.toFixed(0)).join(', ')} ms; cold ${colds.map((r) => r.toFixed(0)).join(', ')} ms; warm ${warms.map((r) => r.toFixed(0)).join(', ')} ms; ${status.record?.accel ?? '?'}`);
  const accel = status.record?.accel.toUpperCase() ?? '';
  return [
    metric(`first_event_vm_cold${suffix}`, Math.round(median(colds)), 'ms', Math.round(median(boots)), `${spec} (${accel}), median of ${rounds.cold}: guest stopped → first decoded event; baseline: the boot alone`),
    metric(`first_event_vm_warm${suffix}`, Math.round(median(warms)), 'ms', Math.round(median(builds)), `${spec} (${accel}), median of ${rounds.warm}: guest running → first decoded event; baseline: connect + clang build alone`),
  ];
}

export const benchmark: Benchmark = {
  name: 'vm',
  async run(log) {
    const metrics: Metric[] = [];
    const wasRunning = new Set<string>();
    for (const k of CATALOGUE) if ((await guestStatus(k)).state === 'running') wasRunning.add(k.name);
    try {
      metrics.push(...(await pair('qemu:debian-6.1', '', { cold: 3, warm: 5 }, log)));
      metrics.push(...(await pair('qemu:debian-6.12-arm64-16k', '_aarch64', { cold: 2, warm: 5 }, log)));
      // Every kernel once: boot, cold first event, QEMU's memory (one guest at a time).
      for (const k of CATALOGUE) {
        const spec = `qemu:${k.name}`;
        const boot = await bootMs(spec);
        const cold = await coldFirstEventMs(spec);
        const s = await guestStatus(k);
        const tag = k.name.replace(/^debian-/, '').replace(/[.-]/g, '_');
        metrics.push(
          metric(`vm_boot_${tag}`, Math.round(boot), 'ms', null, `${spec}: QEMU start → agent HELLO (${s.record?.accel ?? '?'})`),
          metric(`first_event_vm_cold_${tag}`, Math.round(cold), 'ms', Math.round(boot), `${spec}: guest stopped → first decoded event; baseline: its boot`),
          metric(`vm_rss_${tag}`, s.rssMb ?? 0, 'MB', s.record?.memoryMb ?? null, `${spec}: QEMU resident memory after the first event; baseline: the guest's memory`),
        );
        await stopGuest(k);
      }
    } finally {
      for (const k of CATALOGUE) if (!wasRunning.has(k.name)) await stopGuest(k);
    }
    return metrics;
  },
};
