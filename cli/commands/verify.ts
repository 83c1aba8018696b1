// `ringbuf-studio verify <file.bpf.c|.o> [--target T]… [--format json]` — asks each
// target's kernel whether it accepts the programs (loaded, nothing attached) and says why
// not on the source line. The JSON shape is fixed (issue 15): one object per target.
import path from 'node:path';
import { asCliUsageError, defineCommand, type CliIo } from '../command';
import { printDiagnostics } from '../diagnostics';
import { ExitStatus } from '../exitStatus';
import { option } from '../options';
import { cliConnectOptions, helperOption, targetOptions, targetsOf } from '../targetOptions';
import { RunError } from '../../core/run/run';
import { toVerifyJson, verifyProgram, type ProgramVerdict, type TargetVerdict } from '../../core/run/verify';
import { describeError } from '../../core/util/errors';

const description = `Loads every program of the file on each target without attaching it, and reports what
the kernel's verifier said: loaded or rejected, the instructions it processed and the
states it kept, and for a rejection the source line, a category, why, and the usual fix.
No ring buffer lint runs first: the point is to ask the kernel.

categories: null-check, out-of-bounds, unreleased-reference, invalid-access, unbounded-loop,
too-complex, other. Every program is verified on its own (one rejection does not hide the
programs after it).`;

const options = {
  ...targetOptions,
  format: option.choice('--format', ['json', 'text'] as const, 'text', `json: one object per target and line:
{"target","programs":[{"name","loaded","insns_processed","total_states","peak_states",
 "error":{"line","column","message","category","hint"}|null}]}`),
  logLevel: option.choice('--log-level', ['1', '2'] as const, '1', 'verifier log for a rejection: 1 the failing path, 2 every path (slower)'),
  noLint: option.switch('--no-lint', 'accepted for symmetry with run; verify never lints'),
};

function figures(p: ProgramVerdict): string {
  if (p.insnsProcessed === null) return '';
  return `${p.insnsProcessed} instructions processed, ${p.totalStates ?? '?'} states (peak ${p.peakStates ?? '?'})`;
}

function relative(file: string, io: CliIo): string {
  const rel = path.isAbsolute(file) ? path.relative(io.cwd, file) : file;
  return rel && !rel.startsWith('..') ? rel : file;
}

function printText(v: TargetVerdict, io: CliIo): void {
  const where = v.kernel ? `${v.target} (Linux ${v.kernel}, ${v.arch ?? '?'})` : v.target;
  io.stdout(`${where}\n`);
  const width = Math.max(4, ...v.programs.map((p) => p.name.length));
  for (const p of v.programs) {
    const e = p.error;
    io.stdout(`  ${p.name.padEnd(width)}  ${p.loaded ? 'loaded' : 'REJECTED'}  ${figures(p)}\n`);
    if (!e) continue;
    io.stdout(`    ${relative(e.at.file, io)}:${e.at.line}:${e.at.column}: error: ${e.message} [${e.category}]\n`);
    if (e.culprit) io.stdout(`      ${e.culprit.name} = ${e.culprit.value}: ${e.culprit.summary}\n`);
    io.stdout(`      why: ${e.explanation}\n      fix: ${e.fix}\n`);
    if (e.acquiredAt) io.stdout(`      acquired at ${relative(e.acquiredAt.file, io)}:${e.acquiredAt.line}\n`);
    const lines = p.explanation?.path.map((l) => l.line) ?? [];
    if (lines.length > 1) io.stdout(`      path: line ${lines.slice(-12).join(' → ')}${lines.length > 12 ? ` (last 12 of ${lines.length})` : ''}\n`);
  }
}

export const verifyCommand = defineCommand({
  name: 'verify',
  summary: 'ask the kernel whether it accepts a program (nothing attached), and why not',
  description,
  positionals: { usage: '<file.bpf.c|file.o>', min: 1, max: 1, missing: 'no program given (a .bpf.c or .o file)' },
  options,
  exitStatus: '0 when every program loaded on every target, 1 when one was rejected or a target could not be asked',
  async run({ options: o, positionals: [file = ''] }, io) {
    const verdicts = await verifyProgram(path.resolve(io.cwd, file), {
      targets: targetsOf(o),
      logLevel: o.logLevel === '2' ? 2 : 1,
      heatMap: 'never', // (no heat map on a terminal)
      connect: cliConnectOptions(o, io),
      signal: io.signal,
      ...helperOption(o, io),
    }).catch((err: unknown) => {
      throw asCliUsageError(err);
    });
    let failed = false;
    for (const v of verdicts) {
      if (v.failure) {
        failed = true;
        if (v.failure instanceof RunError && v.failure.diagnostics.length) printDiagnostics(v.failure.diagnostics, io);
        io.stderr(`ringbuf-studio verify: ${verdicts.length > 1 ? `${v.target}: ` : ''}${describeError(v.failure)}\n`);
        continue;
      }
      if (v.programs.some((p) => !p.loaded)) failed = true;
      for (const w of v.warnings ?? []) io.stderr(`ringbuf-studio verify: ${v.target}: ${w}\n`);
      if (o.format === 'json') io.stdout(`${JSON.stringify(toVerifyJson(v))}\n`);
      else printText(v, io);
    }
    return failed ? ExitStatus.failure : ExitStatus.ok;
  },
});
