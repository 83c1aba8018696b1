// `ringbuf-studio verify <file.bpf.c|.o> [--target T]… [--format json]` — asks each
// target's kernel whether it accepts the programs (loaded, nothing attached) and says why
// not on the source line. The JSON shape is fixed (issue 15): one object per target.
import path from 'node:path';
import { CliUsageError, type CliCommand, type CliIo } from '../command';
import { argReader, oneOf } from '../args';
import { RunError } from '../../core/run/run';
import { toVerifyJson, verifyProgram, type ProgramVerdict, type TargetVerdict } from '../../core/run/verify';
import { describeError, StudioError } from '../../core/util/errors';
import { cliConnectOptions, printDiagnostics, takeTargetArg, type TargetArgs } from './run';

const usage = `usage: ringbuf-studio verify <file.bpf.c|file.o> [options]

Loads every program of the file on each target without attaching it, and reports what
the kernel's verifier said: loaded or rejected, the instructions it processed and the
states it kept, and for a rejection the source line, a category, why, and the usual fix.
No ring buffer lint runs first (--no-lint is implied): the point is to ask the kernel.

options:
  --target T             local (default), an ~/.ssh/config alias, or user@host[:port]; repeat for several
  --format json|text     json: one object per target and line:
                         {"target","programs":[{"name","loaded","insns_processed","total_states","peak_states",
                          "error":{"line","column","message","category","hint"}|null}]}
  --log-level 1|2        verifier log for a rejection: 1 (default) the failing path, 2 every path (slower)
  --accept-new-host-key  trust an SSH host key seen for the first time (it is saved to known_hosts)
  --helper PATH          the local ringbuf-helper binary to use
  --verbose              connection details on stderr

categories: null-check, out-of-bounds, unreleased-reference, invalid-access, unbounded-loop,
too-complex, other. Every program is verified on its own (one rejection does not hide the
programs after it).
exit status: 0 when every program loaded on every target, 1 when one was rejected or a
target could not be asked, 2 for bad arguments.`;

interface VerifyArgs extends TargetArgs {
  file: string;
  format: 'json' | 'text';
  logLevel: 1 | 2;
}

function parseArgs(argv: string[]): VerifyArgs {
  const out: VerifyArgs = { file: '', targets: [], acceptNewHostKey: false, verbose: false, format: 'text', logLevel: 1 };
  const r = argReader(argv);
  for (let a = r.next(); a; a = r.next()) {
    if (takeTargetArg(out, a.flag, a.value)) continue;
    switch (a.flag) {
      case '--format':
        out.format = oneOf('--format', a.value(), ['json', 'text'] as const);
        break;
      case '--log-level':
        out.logLevel = oneOf('--log-level', a.value(), ['1', '2'] as const) === '2' ? 2 : 1;
        break;
      case '--no-lint':
        break; // implied: verify asks the kernel, not the linter
      default:
        if (a.flag.startsWith('-') && a.flag !== '-') throw new CliUsageError(`unknown option ${a.raw}`);
        if (out.file) throw new CliUsageError(`one program file at a time (got ${out.file} and ${a.raw})`);
        out.file = a.raw;
    }
  }
  if (!out.file) throw new CliUsageError('no program given (a .bpf.c or .o file)');
  if (out.targets.length === 0) out.targets.push('local');
  return out;
}

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

async function verify(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv);
  const verdicts = await verifyProgram(path.resolve(io.cwd, args.file), {
    targets: args.targets,
    logLevel: args.logLevel,
    heatMap: 'never', // (no heat map on a terminal)
    connect: cliConnectOptions(args, io),
    signal: io.signal,
    ...(args.helperPath ? { helperPath: args.helperPath } : {}),
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
    if (args.format === 'json') io.stdout(`${JSON.stringify(toVerifyJson(v))}\n`);
    else printText(v, io);
  }
  return failed ? 1 : 0;
}

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'ask the kernel whether it accepts a program (nothing attached), and why not',
  usage,
  run: async (argv, io) => {
    try {
      return await verify(argv, io);
    } catch (err) {
      if (err instanceof StudioError && err.code === 'EUSAGE') throw new CliUsageError(err.message);
      throw err;
    }
  },
};
