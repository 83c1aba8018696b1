// first_event_local_warm: ms from startRun() to the first decoded event on the local
// kernel, with a trigger (/bin/true every 20 ms) running and everything warm (helper
// built, vmlinux.h cached, clang's files in the page cache; one untimed run first).
// The run includes the clang build of the program, so the baseline is that build
// alone (compileBpf of the same file, same flags) measured in the same run: the
// ratio says what connect + lint + load + attach + first drain add on top.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { compileBpf } from '../core/compile/build';
import { compileDecoder } from '../core/decode/decode';
import type { EventLayout } from '../core/btf/layoutTypes';
import { startRun } from '../core/run/run';
import { median, metric, type Benchmark } from './metric';

const root = path.resolve(__dirname, '..');
const program = path.join(root, 'test/fixtures/run/seed_exec.bpf.c');
const ROUNDS = 5;

async function firstEventMs(): Promise<number> {
  const trigger = setInterval(() => {
    spawn('/bin/true').on('error', () => undefined);
  }, 20);
  try {
    const t0 = performance.now();
    let resolveFirst!: (ms: number) => void;
    const first = new Promise<number>((r) => (resolveFirst = r));
    // Batches flow only after START, by which time `layouts` is set (startRun returns right after START).
    const seen: { layouts?: Map<string, EventLayout | null> } = {};
    const handle = await startRun({
      file: program,
      listeners: {
        batch: (b) => {
          // "Decoded": the first record goes through the decoder before the clock stops.
          const layout = seen.layouts?.get(b.map);
          if (layout) compileDecoder(layout).decode(b.data, b.offsets[0], b.lengths[0]);
          resolveFirst(performance.now() - t0);
        },
      },
    });
    seen.layouts = handle.layouts;
    if (!handle.layouts.get('rb')) throw new Error('seed_exec event layout did not resolve');
    const ms = await Promise.race([first, new Promise<number>((_, rej) => setTimeout(() => rej(new Error('no event within 10 s')), 10_000))]);
    await handle.stop();
    return ms;
  } finally {
    clearInterval(trigger);
  }
}

export const benchmark: Benchmark = {
  name: 'first-event',
  async run(log) {
    if (process.getuid?.() !== 0) throw new Error('first_event_local_warm needs root (it loads BPF programs)');
    if (!fs.existsSync(program)) throw new Error(`missing ${program}`);
    log('warm-up run (builds the helper cache, vmlinux.h, clang page cache)');
    await firstEventMs();
    const runs: number[] = [];
    const builds: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      runs.push(await firstEventMs());
      process.env.RINGBUF_STUDIO_NO_BUILD_CACHE = '1'; // the baseline is clang's build itself
      const t0 = performance.now();
      const b = await compileBpf({ file: program });
      builds.push(performance.now() - t0);
      delete process.env.RINGBUF_STUDIO_NO_BUILD_CACHE;
      if (!b.ok) throw new Error('baseline build failed');
    }
    const value = median(runs);
    const baseline = median(builds);
    log(`first event: ${runs.map((r) => r.toFixed(0)).join(', ')} ms; clang build alone: ${builds.map((r) => r.toFixed(0)).join(', ')} ms`);
    return [
      metric('first_event_local_warm', Math.round(value), 'ms', Math.round(baseline), `median of ${ROUNDS}: startRun → first decoded event (build, reused when unchanged + connect + lint + load + attach); baseline: the clang build alone (build cache off)`),
    ];
  },
};
