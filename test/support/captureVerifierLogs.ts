// Captures the verifier logs in test/fixtures/verifier/logs/<kernel>/ from the running
// kernel (root): each rejected fixture and a small loop that loads (level 2, every path),
// through `verifyProgram` (the helper's verifier data, as users get them).
//   RBS_CAPTURE_VERIFIER_LOGS=1 npx vite-node test/support/captureVerifierLogs.ts
// With RBS_CAPTURE_QEMU=1 also on Debian's 6.1 (the qemu:debian-6.1 VM target).
// Unit tests parse these files without root; integration tests load the fixtures afresh.
import fs from 'node:fs';
import path from 'node:path';
import { verifyProgram } from '../../core/run/verify';
import { compileFixture, repoRoot } from './compile';

export const verifierFixtures = path.join(repoRoot, 'test/fixtures/verifier');

/** One fixture per category; the file name is the category's with `_` for `-`. */
export const REJECTED_FIXTURES = ['null_check', 'out_of_bounds', 'unreleased_reference', 'invalid_access', 'unbounded_loop', 'too_complex', 'other'] as const;
/** More rejections, for the parser: a failure inside a called function (frames, caller/callee states). */
const MORE_REJECTIONS = ['subprogram'] as const;

/** `6.18.44-fc` → `6.18`. */
export function kernelSeries(release: string): string {
  return /^(\d+\.\d+)/.exec(release)?.[1] ?? release;
}

/** Captures every rejected fixture's log on one target; returns the kernel series it ran. */
async function captureRejections(target: string): Promise<string> {
  let series = '';
  for (const name of [...REJECTED_FIXTURES, ...MORE_REJECTIONS]) {
    const [verdict] = await verifyProgram(path.join(verifierFixtures, `${name}.bpf.c`), { logLevel: 2, targets: [target] });
    if (!verdict || verdict.failure) throw new Error(`${name}: ${verdict?.failure?.message ?? 'no verdict'}`);
    series = kernelSeries(verdict.kernel ?? '');
    const program = verdict.programs.find((p) => p.log);
    if (!program?.log) {
      // Kernels differ: too_complex loads on 6.1 (no state forks on `r &= K` there).
      console.log(`${series} ${name}: loads here`);
      continue;
    }
    const dir = path.join(verifierFixtures, 'logs', series);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.log`), program.log);
    console.log(`${series} ${name}: ${program.error?.category ?? '?'} at line ${program.error?.at.line ?? '?'} (${program.log.length} bytes)`);
  }
  return series;
}

async function main(): Promise<void> {
  const series = await captureRejections('local');
  // Debian's 6.1 (docs/vm-targets.md): annotations without `@ file:line`, `_w` marks, alloc_mem.
  if (process.env.RBS_CAPTURE_QEMU === '1') await captureRejections('qemu:debian-6.1');
  const loop = await compileFixture(path.join(verifierFixtures, 'near_limit.bpf.c'), { name: 'near_limit_12', defines: { ITERATIONS: '12' } });
  const [verdict] = await verifyProgram(loop.objectPath, { heatMap: 'always' });
  const near = verdict?.programs[0];
  if (!near?.loaded || near.logLevel !== 2 || !near.log) throw new Error(`near_limit (12 iterations) did not load with a level 2 log: ${verdict?.failure?.message ?? near?.error?.message ?? 'no log'}`);
  fs.writeFileSync(path.join(verifierFixtures, 'logs', series, 'loop_12_iterations.log'), near.log);
  console.log(`loop_12_iterations: loaded, ${near.insnsProcessed ?? '?'} insns`);
}

// vite-node hides argv from the script: the variable marks the run as the capture itself.
if (process.env.RBS_CAPTURE_VERIFIER_LOGS === '1') {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
