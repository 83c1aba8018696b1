// Captures the verifier logs in test/fixtures/verifier/logs/<kernel>/ from the running
// kernel (root): each rejected fixture through `verifyProgram` (the helper, as users get
// them), and a small loop that loads through the test loader (level 2, every path).
//   RBS_CAPTURE_VERIFIER_LOGS=1 npx vite-node test/support/captureVerifierLogs.ts
// With RBS_CAPTURE_QEMU=1 also on Debian's 6.1 booted in QEMU (as the qemu tests do).
// Unit tests parse these files without root; integration tests load the fixtures afresh.
import fs from 'node:fs';
import path from 'node:path';
import { verifyProgram } from '../../core/run/verify';
import type { ConnectTargetOptions } from '../../core/transport/registry';
import { compileFixture, repoRoot } from './compile';
import { bootGuest } from './qemu';
import { loadWithVerifierLog } from './verifierLogs';

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
async function captureRejections(target: string, connect: ConnectTargetOptions): Promise<string> {
  let series = '';
  for (const name of [...REJECTED_FIXTURES, ...MORE_REJECTIONS]) {
    const [verdict] = await verifyProgram(path.join(verifierFixtures, `${name}.bpf.c`), { logLevel: 2, targets: [target], connect });
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
  const series = await captureRejections('local', {});
  if (process.env.RBS_CAPTURE_QEMU === '1') {
    // Debian's 6.1 in QEMU (test/support/qemu.ts): annotations without `@ file:line`, `_w` marks, alloc_mem.
    const guest = await bootGuest({ log: (m) => console.log(`qemu: ${m}`) });
    try {
      await captureRejections(guest.alias, { sshConfigPath: guest.sshConfig, knownHostsPath: guest.knownHosts, agentSocket: '/nonexistent', readyTimeoutMs: 60_000 });
    } finally {
      await guest.stop();
    }
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
