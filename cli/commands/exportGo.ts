// `ringbuf-studio export-go <prog.bpf.c> <dir>` — writes a Go package for cilium/ebpf's
// bpf2go that loads the program and prints its ring buffer events (core/export).
import path from 'node:path';
import { CliUsageError, type CliCommand, type CliIo } from '../command';
import { parseOptions } from '../args';
import { exportGoPackage, type ExportGoOptions } from '../../core/export/goPackage';
import { displayPath } from './build';

const usage = `usage: ringbuf-studio export-go <prog.bpf.c> <dir> [options]

Writes a Go package to <dir>: gen.go (//go:generate bpf2go), main.go (loads the
program, attaches it by section, reads the ring buffer with ringbuf.NewReader and
prints one JSON line per event, like 'run --format jsonl'), the program and its
headers under bpf/, and a README with the build commands.

options:
  --goarch ARCH    bpf2go -target (a GOARCH; default this machine's)
  --vmlinux DIR    folder with the vmlinux.h to ship (default: the program's own, else the local kernel's)
  --clang PATH     clang to build with
  --force          overwrite files in <dir> that differ`;

export const exportGoCommand: CliCommand = {
  name: 'export-go',
  summary: 'export a program as a Go package for cilium/ebpf bpf2go',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const parsed = parseOptions(argv, { goarch: { type: 'string' }, vmlinux: { type: 'string' }, clang: { type: 'string' }, force: { type: 'boolean' } });
    const [file, dir, ...extra] = parsed.positionals;
    if (!file || !dir) throw new CliUsageError('expected <prog.bpf.c> <dir>');
    if (extra.length) throw new CliUsageError(`unexpected argument ${extra.join(' ')}`);
    if (!/\.c$/.test(file)) throw new CliUsageError(`${file}: expected a BPF C source (.bpf.c)`);
    const opts: ExportGoOptions = { file: path.resolve(io.cwd, file), outDir: path.resolve(io.cwd, dir) };
    if (parsed.values.goarch) opts.goArch = parsed.values.goarch;
    if (parsed.values.vmlinux) opts.vmlinuxHeaderDir = path.resolve(io.cwd, parsed.values.vmlinux);
    if (parsed.values.clang) opts.clangPath = parsed.values.clang;
    if (parsed.values.force) opts.force = true;

    const result = await exportGoPackage(opts);
    const show = (p: string): string => displayPath(p, io.cwd) || '.';
    io.stdout(`exported ${show(opts.file)} to ${show(result.dir)} (bpf2go ident ${result.ident})\n`);
    for (const [map, goType] of Object.entries(result.goTypes)) {
      io.stdout(`  ring ${map}: ${goType ? `Go type ${goType}` : 'no event type (hex)'}\n`);
    }
    for (const n of result.notes) io.stdout(`note: ${n}\n`);
    io.stdout(['', 'next:', `  cd ${show(result.dir)}`, ...result.buildCommands.map((c) => `  ${c}`), '  (offline with Debian\'s Go packages: see README.md)', ''].join('\n'));
    return 0;
  },
};
