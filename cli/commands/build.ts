// `ringbuf-studio build <file.bpf.c> [-o out.o] [--format json] [--clang PATH]` — compiles
// with clang (core/compile), then runs the ringbuf linter on the source + object.
// Prints diagnostics like `lint` (compiler style, or a JSON array); exit 1 on any error.
import fs from 'node:fs';
import path from 'node:path';
import { CliUsageError, type CliCommand, type CliIo } from '../command';
import { oneOf, pageSizeArg, parseOptions } from '../args';
import type { Diagnostic } from '../../core/diagnostics';
import { compileBpf, type BuildOptions } from '../../core/compile/build';
import type { BpfArch } from '../../core/compile/paths';
import { lintFile } from '../../core/lint/index';
import { printDiagnostics } from './lint';

export const ARCHES: readonly BpfArch[] = ['x86', 'arm64', 's390', 'powerpc', 'riscv'];

const usage = `usage: ringbuf-studio build <file.bpf.c> [options]

Compiles a BPF C program with clang (-g -O2 -target bpf), with vmlinux.h for the
local kernel (generated from /sys/kernel/btf/vmlinux and cached) and the bundled
libbpf headers, then checks ring buffer usage on the result (as \`lint\` does).

options:
  -o, --output FILE     object file to write (default: a per-user cache,
                        ~/.cache/ringbuf-studio/build/…/<name>.bpf.o; its path is printed)
  --format json|text    json prints [{file,line,column,endLine,endColumn,severity,code,message}]
  --clang PATH          clang to use (default: clang, clang-21 … clang-11 on PATH)
  --arch ARCH           -D__TARGET_ARCH_ARCH: x86, arm64, s390, powerpc, riscv (default: this host's)
  --vmlinux DIR         folder with the target's vmlinux.h (default: the local kernel's)
  -I DIR                extra include folder (repeatable)
  -D NAME[=VALUE]       preprocessor definition (repeatable)
  --page-size N         page size for the ring size checks (default 4096)
  --no-lint             compile only
  --no-anchors          do not add event-type anchors to BTF

exit status: 1 if clang or the linter reported an error, 0 otherwise, 2 for bad arguments.`;

function parse(argv: string[]) {
  const parsed = parseOptions(argv, {
    output: { type: 'string', short: 'o' },
    format: { type: 'string' },
    clang: { type: 'string' },
    arch: { type: 'string' },
    vmlinux: { type: 'string' },
    include: { type: 'string', short: 'I', multiple: true },
    define: { type: 'string', short: 'D', multiple: true },
    'page-size': { type: 'string' },
    'no-lint': { type: 'boolean' },
    'no-anchors': { type: 'boolean' },
  });
  const [file, ...extra] = parsed.positionals;
  if (!file) throw new CliUsageError('no input file');
  if (extra.length) throw new CliUsageError(`one file at a time (got also ${extra.join(' ')})`);
  return { values: parsed.values, file };
}

/** Paths under the working directory print relative (like compilers); others absolute. */
export function displayPath(file: string, cwd: string): string {
  if (!file) return file;
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export const buildCommand: CliCommand = {
  name: 'build',
  summary: 'compile a BPF C program with clang and check it',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values, file } = parse(argv);
    const format = oneOf('--format', values.format ?? 'text', ['json', 'text'] as const);
    const arch = values.arch === undefined ? undefined : oneOf('--arch', values.arch, ARCHES);
    const pageSize = values['page-size'] === undefined ? undefined : pageSizeArg(values['page-size']);
    const defines: Record<string, string> = {};
    for (const d of values.define ?? []) {
      const eq = d.indexOf('=');
      const name = eq < 0 ? d : d.slice(0, eq);
      if (!/^[A-Za-z_]\w*$/.test(name)) throw new CliUsageError(`-D ${d}: expected NAME or NAME=VALUE`);
      defines[name] = eq < 0 ? '1' : d.slice(eq + 1);
    }

    const source = path.resolve(io.cwd, file);
    const opts: BuildOptions = {
      file: source,
      signal: io.signal,
      defines,
      includeDirs: (values.include ?? []).map((d) => path.resolve(io.cwd, d)),
      eventTypeAnchors: values['no-anchors'] !== true,
    };
    if (values.output !== undefined) opts.outFile = path.resolve(io.cwd, values.output);
    if (values.clang !== undefined) opts.clangPath = path.resolve(io.cwd, values.clang);
    if (arch !== undefined) opts.arch = arch;
    if (values.vmlinux !== undefined) opts.vmlinuxHeaderDir = path.resolve(io.cwd, values.vmlinux);

    const result = await compileBpf(opts);
    const diagnostics: Diagnostic[] = [...result.diagnostics];
    if (result.ok && result.object && values['no-lint'] !== true) {
      const text = fs.readFileSync(source, 'utf8');
      diagnostics.push(...lintFile({ file: source, text, object: result.object }, pageSize ? { pageSize } : {}));
    }
    const shown = diagnostics.map((d) => ({
      ...d,
      file: d.file === source ? file : displayPath(d.file, io.cwd),
    }));
    printDiagnostics(shown, format, io);
    if (result.ok && result.objectPath) {
      io.stderr(`built ${displayPath(result.objectPath, io.cwd)} in ${Math.round(result.durationMs)} ms\n`);
    }
    return !result.ok || diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
  },
};
