// Captures the verifier logs in test/fixtures/verifier/logs/<kernel>/ from the running
// kernel (root): each rejected fixture through `verifyProgram` (the helper, as users get
// them), and a small loop that loads through the test loader (level 2, every path).
//   RBS_CAPTURE_VERIFIER_LOGS=1 npx vite-node test/support/captureVerifierLogs.ts
// Unit tests parse these files without root; integration tests load the fixtures afresh.
import fs from 'node:fs';
import path from 'node:path';
import { verifyProgram } from '../../core/run/verify';
import { compileFixture, repoRoot } from './compile';
import { loadWithVerifierLog } from './verifierLogs';

export const verifierFixtures = path.join(repoRoot, 'test/fixtures/verifier');

/** One fixture per category; the file name is the category's with `_` for `-`. */
export const REJECTED_FIXTURES = ['null_check', 'out_of_bounds', 'unreleased_reference', 'invalid_access', 'unbounded_loop', 'too_complex', 'other'] as const;

/** `6.18.44-fc` → `6.18`. */
export function kernelSeries(release: string): string {
  return /^(\d+\.\d+)/.exec(release)?.[1] ?? release;
}

async function main(): Promise<void> {
  let series = '';
  for (const name of REJECTED_FIXTURES) {
    const [verdict] = await verifyProgram(path.join(verifierFixtures, `${name}.bpf.c`), { logLevel: 2 });
    if (!verdict || verdict.failure) throw new Error(`${name}: ${verdict?.failure?.message ?? 'no verdict'}`);
    series = kernelSeries(verdict.kernel ?? '');
    const program = verdict.programs.find((p) => p.log);
    if (!program?.log) throw new Error(`${name}: loaded, expected a rejection`);
    const dir = path.join(verifierFixtures, 'logs', series);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.log`), program.log);
    console.log(`${name}: ${program.error?.category ?? '?'} at line ${program.error?.at.line ?? '?'} (${program.log.length} bytes)`);
  }
  const loop = await compileFixture(path.join(verifierFixtures, 'near_limit.bpf.c'), { name: 'near_limit_12', defines: { ITERATIONS: '12' } });
  const [near] = await loadWithVerifierLog(loop.objectPath, 2, 16);
  if (!near?.text || near.result !== 0) throw new Error(`near_limit (12 iterations) did not load: ${near?.result ?? 'no output'}`);
  fs.writeFileSync(path.join(verifierFixtures, 'logs', series, 'loop_12_iterations.log'), near.text);
  console.log(`loop_12_iterations: loaded, ${near.parsed.stats?.insnsProcessed ?? '?'} insns`);
}

// vite-node hides argv from the script: the variable marks the run as the capture itself.
if (process.env.RBS_CAPTURE_VERIFIER_LOGS === '1') {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
