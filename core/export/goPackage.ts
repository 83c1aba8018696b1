// Export a ring buffer program as a Go package for cilium/ebpf's bpf2go:
//
//   <dir>/gen.go        //go:generate … bpf2go -type <event> <ident> bpf/<stem>.bpf2go.c
//   <dir>/main.go       load, attach every program by section, ringbuf.NewReader, JSON lines
//   <dir>/helpers.go    JSON writer + kernel-BTF shim for old cilium/ebpf
//   <dir>/README.md     build and run commands
//   <dir>/bpf/          the program, its local headers, vmlinux.h, libbpf headers and
//                       the bpf2go wrapper
//
// The event struct often reaches the object's BTF only through our build's anchors
// (core/compile/anchors.ts): a struct used only via the pointer reserve returns is not
// in BTF, so bpf2go's `-type` would fail. bpf2go therefore compiles a wrapper that
// includes the user's file unchanged and adds the same anchors our build adds;
// cilium/ebpf ignores the anchor section when loading. C sources live in bpf/ because
// `go build` refuses .c files in a package that does not use cgo.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { anchorWrapperSource, eventTypesToAnchor } from '../compile/anchors';
import { compileBpf } from '../compile/build';
import { libbpfIncludeDir } from '../compile/vmlinux';
import { inferEventTypesFromSource, resolveEventLayouts } from '../decode/eventTypes';
import { formatDiagnostic } from '../diagnostics';
import { readBpfObject } from '../elf/bpfObject';
import { StudioError } from '../util/errors';
import { bpf2goIdent, bpf2goTypeName, hostGoArch, isBigEndianGoArch } from './goNames';
import { bpf2goCommandLine, checkExportable, eventTypeArgs, genGo, helpersGo, mainGo, type GoPackageSpec } from './goSource';

export interface ExportGoOptions {
  /** The program, `prog.bpf.c`. */
  file: string;
  /** The package directory (created when missing). */
  outDir: string;
  /** bpf2go `-target` (a GOARCH); default this machine's. */
  goArch?: string;
  /** Folder with the vmlinux.h to ship when the program's folder has none; default the local kernel's. */
  vmlinuxHeaderDir?: string;
  clangPath?: string;
  /** Overwrite files that exist with other content (default: refuse). */
  force?: boolean;
}

export interface ExportGoResult {
  dir: string;
  /** bpf2go stem: types are `<ident>Event`, the loader `load<Ident>Objects`. */
  ident: string;
  /** Files written (absolute). */
  files: string[];
  /** Event types passed to bpf2go `-type` (C names). */
  eventTypes: string[];
  /** Go type per ring map, e.g. { events: "execveEvent" }. */
  goTypes: Record<string, string | null>;
  /** Things the user should know (not copied headers, programs not attached, …). */
  notes: string[];
  /** Shell commands that build the package (also in its README). */
  buildCommands: string[];
}

const QUOTE_INCLUDE = /^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"/gm;

export async function exportGoPackage(o: ExportGoOptions): Promise<ExportGoResult> {
  const file = path.resolve(o.file);
  const outDir = path.resolve(o.outDir);
  const text = await readProgram(o.file, file, outDir);
  const base = path.basename(file);
  // 1. Our build (with anchors) tells which rings, event layouts and programs there are.
  const built = await buildForExport(o, file, base);
  const notes: string[] = [];
  const spec = packageSpec(o, built.object, text, base, notes);
  // 2. The files, in memory first: nothing is written if anything is missing.
  const commands = buildCommands();
  const files = packageFiles(spec, { file, text, outDir, vmlinuxDir: built.vmlinuxDir, commands }, notes);
  if (!o.force) refuseClashes(files, outDir);
  for (const [p, content] of files) {
    await fs.promises.mkdir(path.dirname(p), { recursive: true });
    await fs.promises.writeFile(p, content);
  }

  const goTypes: Record<string, string | null> = {};
  for (const r of spec.rings) goTypes[r.map] = r.layout ? bpf2goTypeName(spec.ident, r.layout.typeName) : null;
  for (const p of spec.programs) {
    if (!['tracepoint', 'raw_tracepoint', 'tp_btf', 'fentry', 'fexit', 'fmod_ret', 'lsm', 'kprobe', 'kretprobe', 'ksyscall', 'uprobe', 'uretprobe'].includes(p.attachKind)) {
      notes.push(`program ${p.name} (SEC("${p.section}")) is loaded but not attached by main.go: attach it in main.go`);
    }
  }
  return { dir: outDir, ident: spec.ident, files: [...files.keys()], eventTypes: eventTypeArgs(spec.rings), goTypes, notes, buildCommands: commands };
}

/** The program's text; refuses a package folder that is the program's own. */
async function readProgram(given: string, file: string, outDir: string): Promise<string> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new StudioError(`cannot read ${given}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      hint: 'pass the path of the BPF C file (prog.bpf.c)',
      code: 'ENOSOURCE',
      cause: err,
    });
  }
  const srcDir = path.dirname(file);
  if (outDir === srcDir || path.join(outDir, 'bpf') === srcDir) {
    throw new StudioError(`cannot export into the program's own folder ${outDir}`, { hint: 'pass a new folder for the Go package', code: 'EEXPORTDIR' });
  }
  return text;
}

/** Compiles the program with our build (anchors included) in a scratch folder: the object, and the vmlinux.h folder it used. */
async function buildForExport(o: ExportGoOptions, file: string, base: string): Promise<{ object: Uint8Array; vmlinuxDir: string | undefined }> {
  const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'rbs-export-'));
  const vmlinuxDir = o.vmlinuxHeaderDir ? path.resolve(o.vmlinuxHeaderDir) : undefined;
  try {
    const built = await compileBpf({
      file,
      outFile: path.join(scratch, 'prog.bpf.o'),
      ...(o.clangPath ? { clangPath: o.clangPath } : {}),
      ...(vmlinuxDir ? { vmlinuxHeaderDir: vmlinuxDir } : {}),
    });
    if (!built.ok || !built.object) {
      const errors = built.diagnostics.filter((d) => d.severity === 'error');
      throw new StudioError(`${base} does not compile, so it cannot be exported: ${errors[0] ? formatDiagnostic(errors[0]) : 'clang failed'}`, {
        hint: `fix the errors first (ringbuf-studio build ${base})`,
        detail: built.diagnostics.map(formatDiagnostic).join('\n'),
        code: 'EEXPORTBUILD',
      });
    }
    return { object: built.object, vmlinuxDir: vmlinuxDir ?? built.vmlinux?.dir };
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
}

/** What the package holds: rings with their event layouts, programs with their attach points. Throws before anything is written when bpf2go cannot express it. */
function packageSpec(o: ExportGoOptions, object: Uint8Array, text: string, base: string, notes: string[]): GoPackageSpec {
  const obj = readBpfObject(object, { file: path.resolve(o.file) });
  const ringMaps = obj.maps.filter((m) => m.typeName === 'ringbuf');
  if (ringMaps.length === 0) {
    throw new StudioError(`${base} defines no BPF_MAP_TYPE_RINGBUF map, so there is nothing for the Go reader to read`, {
      hint: 'add a ring buffer map (struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 256 * 1024); } events SEC(".maps");)',
      code: 'EEXPORTNORING',
    });
  }
  const layouts = resolveEventLayouts(obj, inferEventTypesFromSource(text));
  for (const m of ringMaps) {
    if (m.hasValueField) {
      notes.push(`ring '${m.name}' declares __type(value, …): cilium/ebpf loads that only from v0.17 on (Debian's 0.9.1 fails with "value size"); remove the declaration for older releases`);
    }
  }
  const goArch = o.goArch ?? hostGoArch();
  const spec: GoPackageSpec = {
    ident: bpf2goIdent(base),
    bpf2goSource: `bpf/${wrapperNameOf(base)}`,
    goArch,
    bigEndian: isBigEndianGoArch(goArch),
    rings: ringMaps.map((m) => ({ map: m.name, layout: layouts.get(m.name) ?? null })),
    programs: obj.programs.map((p) => ({ name: p.name, section: p.section, attachKind: p.attachKind, attachTarget: p.attachTarget })),
  };
  checkExportable(spec); // an event type bpf2go cannot express fails here, before any file is written
  for (const r of spec.rings) {
    if (!r.layout) notes.push(`ring '${r.map}' has no known event type: main.go prints its records as hex (declare the type to get fields)`);
  }
  return spec;
}

function wrapperNameOf(base: string): string {
  return `${base.replace(/\.bpf\.c$|\.c$/, '')}.bpf2go.c`;
}

/** Every file of the package by absolute path: bpf/ (program, headers, wrapper), gen.go, main.go, helpers.go, README.md. */
function packageFiles(
  spec: GoPackageSpec,
  where: { file: string; text: string; outDir: string; vmlinuxDir: string | undefined; commands: string[] },
  notes: string[],
): Map<string, string | Buffer> {
  const { file, text, outDir } = where;
  const base = path.basename(file);
  const files = new Map<string, string | Buffer>();
  const bpfDir = path.join(outDir, 'bpf');
  files.set(path.join(bpfDir, base), text);
  copyLocalIncludes(file, path.dirname(file), text, bpfDir, files, notes, where.vmlinuxDir);
  const libbpf = path.join(libbpfIncludeDir(), 'bpf');
  for (const h of fs.readdirSync(libbpf).filter((n) => n.endsWith('.h'))) {
    files.set(path.join(bpfDir, 'include', 'bpf', h), fs.readFileSync(path.join(libbpf, h)));
  }
  const wrapper = anchorWrapperSource(base, anchorableTypes(text, files)) ?? `#include "${base}"\n`;
  files.set(path.join(bpfDir, wrapperNameOf(base)), `//go:build ignore\n\n${wrapper}`);
  files.set(path.join(outDir, 'gen.go'), genGo(spec));
  files.set(path.join(outDir, 'main.go'), mainGo(spec));
  files.set(path.join(outDir, 'helpers.go'), helpersGo());
  files.set(path.join(outDir, 'README.md'), readme(spec, base, where.commands));
  return files;
}

/** Refuses to overwrite a file that exists with other content. */
function refuseClashes(files: ReadonlyMap<string, string | Buffer>, outDir: string): void {
  const clashes = [...files].filter(([p, content]) => {
    try {
      return !fs.readFileSync(p).equals(Buffer.from(content));
    } catch {
      return false; // nothing there to overwrite (an unreadable file fails loudly when written)
    }
  });
  if (clashes.length) {
    throw new StudioError(`${clashes.length} file(s) in ${outDir} already exist with other content: ${clashes.slice(0, 3).map(([p]) => path.relative(outDir, p)).join(', ')}${clashes.length > 3 ? ', …' : ''}`, {
      hint: 'export into a new folder, or overwrite with --force',
      code: 'EEXPORTEXISTS',
    });
  }
}

/**
 * The inferred event types that can be anchored without breaking the wrapper's
 * compile: `struct X`/`union X` always (a pointer to an incomplete type is valid C);
 * a bare name only when a typedef of it is in sight. (The inference also reads
 * `sizeof(v)` of a scalar local `v` as a type name; one such anchor would fail bpf2go's
 * compile.)
 */
function anchorableTypes(text: string, files: ReadonlyMap<string, string | Buffer>): ReturnType<typeof eventTypesToAnchor> {
  const sources = [text, ...[...files.entries()].filter(([p]) => p.endsWith('.h') && !p.endsWith('vmlinux.h') && !p.includes(`${path.sep}include${path.sep}bpf${path.sep}`)).map(([, c]) => c.toString())].join('\n');
  return eventTypesToAnchor(text).filter((t) => {
    const name = t.typeName.trim();
    if (/^(struct|union)\s+[A-Za-z_]\w*$/.test(name)) return true;
    const escaped = name.replace(/[^A-Za-z0-9_]/g, '');
    return escaped === name && new RegExp(`\\btypedef\\b[^;]*\\b${escaped}\\s*;`).test(sources);
  });
}

/** Copies `#include "…"` files found next to the program (recursively) into bpf/, keeping relative paths. */
function copyLocalIncludes(
  fromFile: string,
  root: string,
  text: string,
  bpfDir: string,
  files: Map<string, string | Buffer>,
  notes: string[],
  vmlinuxDir: string | undefined,
): void {
  for (const m of text.matchAll(QUOTE_INCLUDE)) {
    const name = m[1]!;
    const resolved = path.resolve(path.dirname(fromFile), name);
    const rel = path.relative(root, resolved);
    const inside = !rel.startsWith('..') && !path.isAbsolute(rel);
    const dest = path.join(bpfDir, rel);
    if (files.has(dest)) continue;
    if (fs.existsSync(resolved) && fs.statSync(resolved).isFile()) {
      if (!inside) {
        notes.push(`#include "${name}" in ${path.basename(fromFile)} is outside the program's folder and was not copied: copy it into bpf/ or add -I to gen.go`);
        continue;
      }
      const content = fs.readFileSync(resolved);
      files.set(dest, content);
      if (path.basename(resolved) !== 'vmlinux.h') copyLocalIncludes(resolved, root, content.toString('utf8'), bpfDir, files, notes, vmlinuxDir);
      continue;
    }
    if (path.basename(name) === 'vmlinux.h' && inside) {
      files.set(dest, fs.readFileSync(path.join(vmlinuxDir ?? noVmlinuxHeader(), 'vmlinux.h')));
      continue;
    }
    notes.push(`#include "${name}" was not found next to ${path.basename(fromFile)} and was not copied`);
  }
}

function noVmlinuxHeader(): never {
  throw new StudioError('no vmlinux.h to ship with the package', {
    hint: 'generate one with `ringbuf-studio vmlinux -o vmlinux.h` next to the program, or pass --vmlinux DIR',
    code: 'ENOVMLINUX',
  });
}

function buildCommands(): string[] {
  return [
    'go generate        # bpf2go: compiles bpf/ and writes the Go bindings',
    'go build -o prog .',
    'sudo ./prog        # -count N exits after N events',
  ];
}

function readme(spec: GoPackageSpec, base: string, commands: string[]): string {
  const types = spec.rings.map((r) => `- ring \`${r.map}\`: ${r.layout ? `\`${r.layout.typeName}\` → Go \`${bpf2goTypeName(spec.ident, r.layout.typeName)}\`` : 'no known event type (printed as hex)'}`);
  return [
    `# ${spec.ident} — ${base} for cilium/ebpf (bpf2go)`,
    '',
    'Exported by Ringbuf Studio (`ringbuf-studio export-go`). `main.go` loads the program,',
    'attaches every program by its section, reads the ring buffer(s) with',
    '`ringbuf.NewReader`, decodes each record into the bpf2go-generated struct and prints one',
    'JSON object per line — the same keys and values as `ringbuf-studio run --format jsonl`.',
    '',
    ...types,
    '',
    '## Build with Go modules',
    '',
    '```sh',
    `go mod init example.com/${spec.ident}`,
    'go get github.com/cilium/ebpf@latest',
    ...commands,
    '```',
    '',
    '## Build offline (Debian: golang-go + golang-github-cilium-ebpf-dev, cilium/ebpf 0.9.1)',
    '',
    '```sh',
    'export GO111MODULE=off GOPATH="$HOME/go:/usr/share/gocode"',
    ...commands,
    '```',
    '',
    'Needs clang and llvm-strip on PATH (bpf2go runs them). cilium/ebpf 0.9.1 looks for',
    'tracepoints under /sys/kernel/debug/tracing: `mount -t debugfs none /sys/kernel/debug`',
    'if it is not mounted. On kernels newer than the library, `helpers.go` retries the load',
    'with the kernel BTF rewritten into kinds the library knows.',
    '',
    '## Files',
    '',
    `- \`bpf/${base}\` — your program, unchanged, with its local headers and \`vmlinux.h\``,
    `- \`${spec.bpf2goSource}\` — what bpf2go compiles: includes your file and adds unused`,
    '  pointers of the event types, so their layout is in BTF and `-type` finds them',
    '- `bpf/include/bpf/` — the libbpf headers',
    `- \`gen.go\` — \`bpf2go ${bpf2goCommandLine(spec)}\``,
    '- `main.go`, `helpers.go` — the reader',
    '',
  ].join('\n');
}
