// build_template: compileBpf on the execve template (ms, median of 5, warm caches),
// against the plain clang command a user would type for the same file (same flags,
// no precompiled vmlinux.h, no anchors), timed in the same run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileBpf } from '../core/compile/build';
import { findClang } from '../core/compile/clang';
import { hostBpfArch } from '../core/compile/paths';
import { packageRoot } from '../core/util/packageRoot';
import { ensureVmlinuxHeader, libbpfIncludeDir } from '../core/compile/vmlinux';
import type { Benchmark, Metric } from './metric';
import { median, metric } from './metric';

const RUNS = 5;

export const benchmark: Benchmark = {
  name: 'build',
  async run(log): Promise<Metric[]> {
    const src = path.join(packageRoot(), 'bpf-templates', 'execve', 'execve.bpf.c');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-bench-build-'));
    try {
      const clang = await findClang();
      const header = await ensureVmlinuxHeader();
      await compileBpf({ file: src, outFile: path.join(out, 'warm.o') }); // builds the PCH once
      const ours: number[] = [];
      const plain: number[] = [];
      const cached: number[] = [];
      const plainArgs = ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${hostBpfArch()}`, '-I', header.dir, '-I', libbpfIncludeDir(), '-Wall', '-c', src, '-o', path.join(out, 'plain.o')];
      for (let i = 0; i < RUNS; i++) {
        // alternate, so load from other jobs hits both the same way
        // build_template is clang's work: the build cache is off for it, on for build_template_cached.
        process.env.RINGBUF_STUDIO_NO_BUILD_CACHE = '1';
        let t = performance.now();
        const r = await compileBpf({ file: src, outFile: path.join(out, 'ours.o') });
        ours.push(performance.now() - t);
        delete process.env.RINGBUF_STUDIO_NO_BUILD_CACHE;
        if (!r.ok) throw new Error(`build failed: ${r.stderr}`);
        await compileBpf({ file: src, outFile: path.join(out, 'cached.o') });
        t = performance.now();
        const c = await compileBpf({ file: src, outFile: path.join(out, 'cached.o') });
        cached.push(performance.now() - t);
        if (!c.cached) throw new Error('the second identical build was not reused');
        t = performance.now();
        const p = spawnSync(clang.path, plainArgs);
        plain.push(performance.now() - t);
        if (p.status !== 0) throw new Error(`plain clang failed: ${p.stderr.toString()}`);
      }
      log(`build: compileBpf ${ours.map((x) => x.toFixed(0)).join('/')} ms, reused ${cached.map((x) => x.toFixed(1)).join('/')} ms, plain clang ${plain.map((x) => x.toFixed(0)).join('/')} ms`);
      return [
        metric('build_template', median(ours), 'ms', median(plain), 'compileBpf(execve template, PCH + anchors, build cache off) vs plain clang on the same file, medians of 5'),
        metric('build_template_cached', median(cached), 'ms', median(plain), 'compileBpf when nothing it read changed (the build cache: hashes of the source and every file clang read) vs plain clang, medians of 5'),
      ];
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  },
};
