// `ringbuf-studio lint <file.bpf.c|file.o>... [--page-size N] [--format json]` — the
// ringbuf linter on the command line. Output and exit status are fixed in design.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliUsageError, defineCommand, type CliIo } from '../command';
import { printDiagnostics } from '../diagnostics';
import { ExitStatus } from '../exitStatus';
import { option } from '../options';
import { formatOption, pageSizeOption } from '../commonOptions';
import type { Diagnostic } from '../../core/diagnostics';
import { compileBpf } from '../../core/compile/build';
import { lintFile, type LintOptions } from '../../core/lint/index';
import { readBpfObject, requireBtf } from '../../core/elf/bpfObject';
import { describeError, StudioError } from '../../core/util/errors';

const description = `Checks BPF ring buffer usage: map sizes, helper/map mismatches, reserve/submit
pairing, record sizes. A .c file is checked from its source and, compiled with
clang, from its object (authoritative values: macros, headers and -D expanded);
a .o file from the object only.`;

const options = {
  pageSize: pageSizeOption,
  kernel: option.value('--kernel', 'RELEASE', 'target kernel release, e.g. 5.15.0, to check feature availability', { parse: kernelRelease }),
  object: option.value('--object', 'FILE.o', 'use this compiled object of the (single) .c file instead of compiling it'),
  noCompile: option.switch('--no-compile', 'check the source only (fast; no clang needed)'),
  format: formatOption,
};

function kernelRelease(raw: string, flag: string): string {
  if (!/^\d+\.\d+/.test(raw)) throw new CliUsageError(`${flag} ${raw}: expected a release like 5.15.0`);
  return raw;
}

function readInput(file: string, cwd: string): Buffer {
  const full = path.resolve(cwd, file);
  try {
    return fs.readFileSync(full);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StudioError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code)}`, {
      hint: 'pass a BPF C source (prog.bpf.c) or a compiled object (prog.bpf.o)',
      code: 'ELINTINPUT',
      cause: err,
    });
  }
}

/** An ELF file starts with \x7fELF; anything else is treated as C source. */
function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/**
 * Compiles a source for the object layer into a scratch directory. A file that does not
 * compile is still linted from its source; the note says why the object checks did not run.
 */
async function compileForLint(file: string, io: CliIo): Promise<Uint8Array | undefined> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringbuf-studio-lint-'));
  try {
    const result = await compileBpf({ file, outFile: path.join(dir, 'lint.bpf.o'), signal: io.signal });
    if (result.ok && result.object) return result.object;
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    io.stderr(`note: ${path.relative(io.cwd, file) || file} does not compile (${errors} clang error${errors === 1 ? '' : 's'}; see ringbuf-studio build); only the source checks ran\n`);
  } catch (err) {
    if (io.signal.aborted) throw err;
    io.stderr(`note: ${path.relative(io.cwd, file) || file} was not compiled (${describeError(err).replace(/\n\s*/g, '; ')}); only the source checks ran\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return undefined;
}

export async function lintPaths(args: { files: string[]; object?: string; compile?: boolean; opts: LintOptions }, io: CliIo): Promise<Diagnostic[]> {
  const all: Diagnostic[] = [];
  for (const file of args.files) {
    const bytes = readInput(file, io.cwd);
    if (isElf(bytes)) {
      // Without BTF the object layer sees map names only: say so instead of reporting nothing.
      requireBtf(readBpfObject(new Uint8Array(bytes), { file }));
      all.push(...lintFile({ file, object: new Uint8Array(bytes) }, args.opts));
      continue;
    }
    if (/\.o$/i.test(file)) {
      // Named like an object but not one: compiling it as C would only confuse (clang takes .o as linker input).
      throw new StudioError(`${file} is not a compiled BPF object (no ELF header)`, {
        hint: 'pass a BPF C source (prog.bpf.c) or an object built with: ringbuf-studio build prog.bpf.c -o prog.bpf.o',
        code: 'ELINTINPUT',
      });
    }
    let object: Uint8Array | undefined = args.object ? new Uint8Array(readInput(args.object, io.cwd)) : undefined;
    if (object && !isElf(object)) {
      throw new StudioError(`${args.object} is not a compiled BPF object (no ELF header)`, {
        hint: 'build it first: ringbuf-studio build prog.bpf.c -o prog.bpf.o',
        code: 'ELINTINPUT',
      });
    }
    if (!object && args.compile !== false) object = await compileForLint(path.resolve(io.cwd, file), io);
    all.push(...lintFile(object ? { file, text: bytes.toString('utf8'), object } : { file, text: bytes.toString('utf8') }, args.opts));
  }
  return all;
}

export const lintCommand = defineCommand({
  name: 'lint',
  summary: 'check ring buffer usage in a BPF C file or object',
  description,
  positionals: { usage: '<file.bpf.c|file.o>...', min: 1, max: Infinity, missing: 'no input file' },
  options,
  exitStatus: '1 if any error was reported, 0 otherwise',
  async run({ options: o, positionals: files }, io) {
    if (o.object !== undefined && files.length !== 1) throw new CliUsageError('--object goes with exactly one source file');
    const opts: LintOptions = {};
    if (o.pageSize !== undefined) opts.pageSize = o.pageSize;
    if (o.kernel !== undefined) opts.kernelRelease = o.kernel;
    const diags = await lintPaths({ files, compile: !o.noCompile, opts, ...(o.object !== undefined ? { object: o.object } : {}) }, io);
    printDiagnostics(diags, io, { format: o.format, to: 'stdout', summary: o.format === 'text', typed: files });
    return diags.some((d) => d.severity === 'error') ? ExitStatus.failure : ExitStatus.ok;
  },
});
