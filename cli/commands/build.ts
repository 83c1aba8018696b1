// `ringbuf-studio build <file.bpf.c> [-o out.o] [--format json] [--clang PATH]` — compiles
// with clang (core/compile), then runs the ringbuf linter on the source + object.
// Prints diagnostics like `lint` (compiler style, or a JSON array); exit 1 on any error.
import fs from 'node:fs';
import path from 'node:path';
import { CliUsageError, defineCommand } from '../command';
import { formatOption, pageSizeOption } from '../commonOptions';
import { displayPath, printDiagnostics } from '../diagnostics';
import { ExitStatus } from '../exitStatus';
import { oneOf, option, type ValueOption } from '../options';
import type { Diagnostic } from '../../core/diagnostics';
import { compileBpf, type BuildOptions } from '../../core/compile/build';
import type { BpfArch } from '../../core/compile/paths';
import { lintFile } from '../../core/lint/index';

export const ARCHES: readonly BpfArch[] = ['x86', 'arm64', 's390', 'powerpc', 'riscv'];

/** --arch for clang's -D__TARGET_ARCH_<arch> (build, new). */
export const archOption = (help: string): ValueOption<BpfArch> =>
  option.value<BpfArch>('--arch', 'ARCH', help, { parse: (raw, flag) => oneOf(flag, raw, ARCHES) });

const description = `Compiles a BPF C program with clang (-g -O2 -target bpf), with vmlinux.h for the
local kernel (generated from /sys/kernel/btf/vmlinux and cached) and the bundled
libbpf headers, then checks ring buffer usage on the result (as \`lint\` does).`;

const options = {
  output: option.value('--output', 'FILE', 'object file to write (default: a per-user cache,\n~/.cache/ringbuf-studio/build/…/<name>.bpf.o; its path is printed)', { short: '-o' }),
  format: formatOption,
  clang: option.value('--clang', 'PATH', 'clang to use (default: clang, clang-21 … clang-11 on PATH)'),
  arch: archOption("-D__TARGET_ARCH_ARCH: x86, arm64, s390, powerpc, riscv (default: this host's)"),
  vmlinux: option.value('--vmlinux', 'DIR', "folder with the target's vmlinux.h (default: the local kernel's)"),
  include: option.list('--include', 'DIR', 'extra include folder (repeatable)', { short: '-I' }),
  define: option.list('--define', 'NAME[=VALUE]', 'preprocessor definition (repeatable)', { short: '-D', parse: defineArg }),
  pageSize: pageSizeOption,
  noLint: option.switch('--no-lint', 'compile only'),
  noAnchors: option.switch('--no-anchors', 'do not add event-type anchors to BTF'),
};

function defineArg(raw: string, flag: string): [string, string] {
  const eq = raw.indexOf('=');
  const name = eq < 0 ? raw : raw.slice(0, eq);
  if (!/^[A-Za-z_]\w*$/.test(name)) throw new CliUsageError(`${flag} ${raw}: expected NAME or NAME=VALUE`);
  return [name, eq < 0 ? '1' : raw.slice(eq + 1)];
}

export const buildCommand = defineCommand({
  name: 'build',
  summary: 'compile a BPF C program with clang and check it',
  description,
  positionals: { usage: '<file.bpf.c>', min: 1, max: 1, missing: 'no input file' },
  options,
  exitStatus: '1 if clang or the linter reported an error, 0 otherwise',
  async run({ options: o, positionals: [file = ''] }, io) {
    const source = path.resolve(io.cwd, file);
    const opts: BuildOptions = {
      file: source,
      signal: io.signal,
      defines: Object.fromEntries(o.define),
      includeDirs: o.include.map((d) => path.resolve(io.cwd, d)),
      eventTypeAnchors: !o.noAnchors,
    };
    if (o.output !== undefined) opts.outFile = path.resolve(io.cwd, o.output);
    if (o.clang !== undefined) opts.clangPath = path.resolve(io.cwd, o.clang);
    if (o.arch !== undefined) opts.arch = o.arch;
    if (o.vmlinux !== undefined) opts.vmlinuxHeaderDir = path.resolve(io.cwd, o.vmlinux);

    const result = await compileBpf(opts);
    const diagnostics: Diagnostic[] = [...result.diagnostics];
    if (result.ok && result.object && !o.noLint) {
      const text = fs.readFileSync(source, 'utf8');
      diagnostics.push(...lintFile({ file: source, text, object: result.object }, o.pageSize ? { pageSize: o.pageSize } : {}));
    }
    printDiagnostics(diagnostics, io, { format: o.format, to: 'stdout', summary: o.format === 'text', typed: [file] });
    if (result.ok && result.objectPath) {
      io.stderr(`built ${displayPath(result.objectPath, io.cwd)} in ${Math.round(result.durationMs)} ms\n`);
    }
    return !result.ok || diagnostics.some((d) => d.severity === 'error') ? ExitStatus.failure : ExitStatus.ok;
  },
});
