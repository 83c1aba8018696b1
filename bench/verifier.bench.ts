// What the verifier's data costs, on the local kernel (root), objects built once beforehand:
//   verifier_stats_load   a Run's LOAD asking for every program's statistics (verifierLevel 0,
//                         what the extension asks for) vs the same LOAD without them (ms, medians of 7)
//   verify_every_category verifyProgram of one object with 7 programs, 6 rejected (statistics
//                         pass, then the level 2 pass: every path, the heat map) vs the
//                         statistics pass alone (ms, medians of 3)
//   verify_heat_map_near_limit  the heat map of a program that processes 840 015 instructions
//                         (a level 2 log cut at 48 MiB) vs its statistics alone (ms, one run each)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileBpf } from '../core/compile/build';
import { loadRun } from '../core/run/run';
import { verifyProgram, type VerifyOptions } from '../core/run/verify';
import { median, metric, type Benchmark, type Metric } from './metric';

const root = path.resolve(__dirname, '..');
const fixture = (name: string): string => path.join(root, 'test/fixtures/verifier', `${name}.bpf.c`);

async function ms(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Load (attach none, as a Run does before attaching) with or without the statistics. */
async function loadOnce(object: string, stats: boolean): Promise<void> {
  const run = await loadRun({ file: object, lint: false, attach: 'none', ...(stats ? { verifierLevel: 0 as const } : {}) });
  await run.close();
}

async function verifyOnce(object: string, opts: VerifyOptions): Promise<void> {
  const [v] = await verifyProgram(object, opts);
  if (!v || v.failure) throw new Error(`verify failed: ${v?.failure?.message ?? 'no verdict'}`);
}

export const benchmark: Benchmark = {
  name: 'verifier',
  async run(log): Promise<Metric[]> {
    if (process.getuid?.() !== 0) throw new Error('needs root (loads BPF programs)');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-bench-verifier-'));
    try {
      const built: Record<string, string> = {};
      for (const name of ['every_category', 'near_limit']) {
        const b = await compileBpf({ file: fixture(name), outFile: path.join(out, `${name}.bpf.o`) });
        if (!b.ok || !b.objectPath) throw new Error(`${name} does not build: ${b.stderr}`);
        built[name] = b.objectPath;
      }
      const near = built.near_limit ?? '';
      const every = built.every_category ?? '';
      const withStats: number[] = [];
      const without: number[] = [];
      for (let i = 0; i < 7; i++) {
        without.push(await ms(() => loadOnce(near, false)));
        withStats.push(await ms(() => loadOnce(near, true)));
      }
      const cheap: number[] = [];
      const full: number[] = [];
      for (let i = 0; i < 3; i++) {
        cheap.push(await ms(() => verifyOnce(every, { logLevel: 1, heatMap: 'never' })));
        full.push(await ms(() => verifyOnce(every, {})));
      }
      const nearStats = await ms(() => verifyOnce(near, { heatMap: 'never' }));
      const nearHeat = await ms(() => verifyOnce(near, { heatMap: 'always' }));
      log(`verifier: load ${median(without).toFixed(0)} → ${median(withStats).toFixed(0)} ms with statistics; every_category ${median(cheap).toFixed(0)} → ${median(full).toFixed(0)} ms; near_limit heat map ${nearHeat.toFixed(0)} ms vs ${nearStats.toFixed(0)} ms`);
      return [
        metric('verifier_stats_load', median(withStats), 'ms', median(without), "a Run's LOAD of near_limit (840 015 instructions) with every program's verifier statistics vs without, medians of 7"),
        metric('verify_every_category', median(full), 'ms', median(cheap), 'verifyProgram, 7 programs (6 rejected): statistics + level 2 pass vs the statistics pass alone, medians of 3'),
        metric('verify_heat_map_near_limit', nearHeat, 'ms', nearStats, 'verifyProgram of near_limit with its heat map (level 2 log, cut at 48 MiB) vs statistics only'),
      ];
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  },
};
