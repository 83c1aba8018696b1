// lint_source: the source layer on one program (ms, median), the cost paid on every
// (debounced) keystroke, against `clang -fsyntax-only` of the same file in the same run
// (the cheapest thing a compiler-based check could do). lint_source_large: a 6k-line file.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lintSource } from '../core/lint/index';
import type { Benchmark, Metric } from './metric';
import { median, metric, timeMs } from './metric';

const FIXTURE = path.join(__dirname, '..', 'test', 'fixtures', 'lint', 'good.bpf.c');

export const benchmark: Benchmark = {
  name: 'lint',
  run(log) {
    const metrics: Metric[] = [];
    if (!fs.existsSync(FIXTURE)) throw new Error(`${FIXTURE} not found (run from the repository)`);
    const text = fs.readFileSync(FIXTURE, 'utf8');
    for (let i = 0; i < 20; i++) lintSource(text, FIXTURE); // warm up the JIT
    const ours = Array.from({ length: 101 }, () => timeMs(() => lintSource(text, FIXTURE)));
    const multiarch = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
    const clangArgs = ['-fsyntax-only', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-I', path.join(__dirname, '..', 'dist', 'include'), '-idirafter', multiarch, FIXTURE];
    const clang = Array.from({ length: 9 }, () => timeMs(() => {
      const r = spawnSync('clang', clangArgs);
      if (r.status !== 0) throw new Error(`clang -fsyntax-only failed: ${r.stderr?.toString() ?? r.error?.message ?? ''}`);
    }));
    log(`lint_source ${median(ours).toFixed(2)} ms vs clang -fsyntax-only ${median(clang).toFixed(1)} ms`);
    metrics.push(metric('lint_source', median(ours), 'ms', median(clang), 'source-layer lint of a 60-line program vs clang -fsyntax-only of the same file'));

    const body = text.split('SEC("tracepoint/syscalls/sys_enter_execve")')[1]?.split('SEC("tracepoint/syscalls/sys_enter_exit_group")')[0] ?? '';
    let large = text.split('char LICENSE')[0] ?? '';
    for (let k = 0; k < 300; k++) large += `SEC("tp/x${k}")${body.replace('handle_exec', `handle_${k}`)}`;
    const bigRuns = Array.from({ length: 7 }, () => timeMs(() => lintSource(large, 'large.bpf.c')));
    const perLine = median(ours) / text.split('\n').length;
    metrics.push(metric('lint_source_large', median(bigRuns), 'ms', perLine * large.split('\n').length, `${large.split('\n').length} lines; baseline: the small file's time per line × lines (ratio ≈ 1 means linear)`));
    return Promise.resolve(metrics);
  },
};
