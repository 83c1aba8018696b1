// `ringbuf-studio export-go <prog.bpf.c> <dir>` — writes a Go package for cilium/ebpf's
// bpf2go that loads the program and prints its ring buffer events (core/export).
import path from 'node:path';
import { CliUsageError, defineCommand } from '../command';
import { displayPath } from '../diagnostics';
import { ExitStatus } from '../exitStatus';
import { option } from '../options';
import { exportGoPackage, type ExportGoOptions } from '../../core/export/goPackage';

const description = `Writes a Go package to <dir>: gen.go (//go:generate bpf2go), main.go (loads the
program, attaches it by section, reads the ring buffer with ringbuf.NewReader and
prints one JSON line per event, like 'run --format jsonl'), the program and its
headers under bpf/, and a README with the build commands.`;

const options = {
  goarch: option.value('--goarch', 'ARCH', "bpf2go -target (a GOARCH; default this machine's)"),
  vmlinux: option.value('--vmlinux', 'DIR', "folder with the vmlinux.h to ship (default: the program's own, else the local kernel's)"),
  clang: option.value('--clang', 'PATH', 'clang to build with'),
  force: option.switch('--force', 'overwrite files in <dir> that differ'),
};

export const exportGoCommand = defineCommand({
  name: 'export-go',
  summary: 'export a program as a Go package for cilium/ebpf bpf2go',
  description,
  positionals: { usage: '<prog.bpf.c> <dir>', min: 2, max: 2, missing: 'expected <prog.bpf.c> <dir>' },
  options,
  exitStatus: '0 when the package was written, 1 on failure',
  async run({ options: o, positionals: [file = '', dir = ''] }, io) {
    if (!/\.c$/.test(file)) throw new CliUsageError(`${file}: expected a BPF C source (.bpf.c)`);
    const opts: ExportGoOptions = { file: path.resolve(io.cwd, file), outDir: path.resolve(io.cwd, dir) };
    if (o.goarch) opts.goArch = o.goarch;
    if (o.vmlinux) opts.vmlinuxHeaderDir = path.resolve(io.cwd, o.vmlinux);
    if (o.clang) opts.clangPath = o.clang;
    if (o.force) opts.force = true;

    const result = await exportGoPackage(opts);
    const show = (p: string): string => displayPath(p, io.cwd) || '.';
    io.stdout(`exported ${show(opts.file)} to ${show(result.dir)} (bpf2go ident ${result.ident})\n`);
    for (const [map, goType] of Object.entries(result.goTypes)) {
      io.stdout(`  ring ${map}: ${goType ? `Go type ${goType}` : 'no event type (hex)'}\n`);
    }
    for (const n of result.notes) io.stdout(`note: ${n}\n`);
    io.stdout(['', 'next:', `  cd ${show(result.dir)}`, ...result.buildCommands.map((c) => `  ${c}`), '  (offline with Debian\'s Go packages: see README.md)', ''].join('\n'));
    return ExitStatus.ok;
  },
});
