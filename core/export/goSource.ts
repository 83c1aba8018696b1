// The Go files of an exported bpf2go package: gen.go (the //go:generate line),
// main.go (load, attach per section, read every ring, print JSON lines) and
// helpers.go (the JSON writer and a kernel-BTF shim for old cilium/ebpf).
// The JSON printed for a record is the one `ringbuf-studio run --format jsonl`
// prints for it (see core/decode/decode.ts "Value mapping"): same keys in the same
// order, char arrays as strings, 64-bit values beyond 2^53 as decimal strings.
import type { EventLayout, FieldType } from '../btf/layoutTypes';
import type { AttachKind } from '../elf/bpfObject';
import { StudioError } from '../util/errors';
import { bpf2goTypeArg, bpf2goTypeName, goIdentifier } from './goNames';
import { goTemplate, renderGoTemplate } from './goTemplates';

export interface GoRing {
  map: string;
  layout: EventLayout | null;
}

export interface GoProgram {
  name: string;
  section: string;
  attachKind: AttachKind;
  attachTarget: string;
}

export interface GoPackageSpec {
  ident: string;
  /** Relative to the package dir, e.g. "bpf/execve.bpf2go.c". */
  bpf2goSource: string;
  goArch: string;
  bigEndian: boolean;
  rings: GoRing[];
  programs: GoProgram[];
}

/** The C type names to pass to bpf2go's `-type`, one per distinct event type. */
export function eventTypeArgs(rings: readonly GoRing[]): string[] {
  return [...new Set(rings.flatMap((r) => (r.layout ? [bpf2goTypeArg(r.layout.typeName)] : [])))];
}

export function bpf2goArgs(spec: GoPackageSpec): string[] {
  return [
    '-cc', 'clang',
    '-cflags', '-O2 -g -Wall',
    '-target', spec.goArch,
    ...eventTypeArgs(spec.rings).flatMap((t) => ['-type', t]),
    spec.ident,
    spec.bpf2goSource,
    '--',
    '-I./bpf',
    '-I./bpf/include',
    // <linux/*.h> includes <asm/*.h> from the multiarch dir, which clang -target bpf does not search.
    ...(MULTIARCH[spec.goArch] ? ['-idirafter', `/usr/include/${MULTIARCH[spec.goArch]}`] : []),
  ];
}

const MULTIARCH: Readonly<Record<string, string>> = {
  amd64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  s390x: 's390x-linux-gnu',
  ppc64le: 'powerpc64le-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
  '386': 'i386-linux-gnu',
  arm: 'arm-linux-gnueabihf',
};

/** The bpf2go arguments as a //go:generate line (or a shell) reads them. */
export function bpf2goCommandLine(spec: GoPackageSpec): string {
  return bpf2goArgs(spec).map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ');
}

export function genGo(spec: GoPackageSpec): string {
  return [
    'package main',
    '',
    '// bpf2go compiles bpf/ with clang and writes the Go bindings next to this file:',
    `// ${spec.ident}_${spec.bigEndian ? 'bpfeb' : 'bpfel'}_*.go (types, load${capitalize(spec.ident)}Objects) and the object it embeds.`,
    `//go:generate go run github.com/cilium/ebpf/cmd/bpf2go ${bpf2goCommandLine(spec)}`,
    '',
  ].join('\n');
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Go string literal for a name (C identifiers and section names need no escapes beyond these). */
function goString(s: string): string {
  return JSON.stringify(s);
}

// ---- event → JSON ----------------------------------------------------------------

class EmitContext {
  readonly enums = new Map<string, string>(); // enum func name → Go source
  private vars = 0;
  constructor(readonly typeName: string) {}
  loopVar(): string {
    return `i${this.vars++}`;
  }
}

function unsupported(ctx: EmitContext, path: string, what: string, hint: string): never {
  throw new StudioError(`cannot export ${ctx.typeName} to Go: field '${path}' ${what}`, {
    hint,
    code: 'EEXPORTTYPE',
  });
}

/** Go statements appending the JSON of `expr` (of layout type `t`) to `b`. */
function emitValue(ctx: EmitContext, t: FieldType, expr: string, path: string, indent: string): string[] {
  switch (t.kind) {
    case 'int':
      if (t.bool) return [`${indent}b = appendBool(b, ${t.size === 1 ? expr : `${expr} != 0`})`];
      return [`${indent}b = ${t.signed ? `appendInt(b, int64(${expr}))` : `appendUint(b, uint64(${expr}))`}`];
    case 'enum': {
      if (t.size !== 4) unsupported(ctx, path, `is an enum of ${t.size} bytes, which bpf2go 0.9.1 types as int32`, 'use a fixed-size integer field (e.g. __u64) for it');
      const fn = `appendEnum${goIdentifier(t.name || 'anon')}${ctx.enums.size}`;
      const cases = t.values.map((v) => `\tcase ${t.signed ? v.value : `${BigInt.asIntN(32, BigInt(v.value))}`}:\n\t\treturn appendString(b, ${goString(v.name)})`);
      ctx.enums.set(fn, [
        `func ${fn}(b []byte, v int32) []byte {`,
        '\tswitch v {',
        ...cases,
        '\t}',
        `\treturn ${t.signed ? 'appendInt(b, int64(v))' : 'appendUint(b, uint64(uint32(v)))'}`,
        '}',
      ].join('\n'));
      return [`${indent}b = ${fn}(b, int32(${expr}))`];
    }
    case 'array': {
      if (t.count === 0) unsupported(ctx, path, 'is a flexible array (no fixed length), which the bpf2go struct cannot hold', 'give it a fixed length in the event struct');
      if (t.elem.kind === 'int' && t.elem.size === 1 && t.elem.char) {
        return [`${indent}b = appendCString(b, ${t.elem.signed ? `bytesOfInt8(${expr}[:])` : `${expr}[:]`})`];
      }
      const i = ctx.loopVar();
      return [
        `${indent}b = append(b, '[')`,
        `${indent}for ${i} := range ${expr} {`,
        `${indent}\tif ${i} > 0 {`,
        `${indent}\t\tb = append(b, ',')`,
        `${indent}\t}`,
        ...emitValue(ctx, t.elem, `${expr}[${i}]`, `${path}[]`, `${indent}\t`),
        `${indent}}`,
        `${indent}b = append(b, ']')`,
      ];
    }
    case 'struct':
      return emitStruct(ctx, t.fields, expr, path, indent, []);
    case 'union':
      return unsupported(ctx, path, 'is a union; bpf2go 0.9.1 keeps only its first member', 'use a struct, or split the union into separate fields');
    case 'ptr':
      return unsupported(ctx, path, 'is a pointer; bpf2go cannot generate Go types for pointers', 'store the address as __u64');
    case 'float':
      return unsupported(ctx, path, 'is a floating-point number; bpf2go 0.9.1 cannot generate Go types for it', 'use an integer field');
    case 'opaque':
      return unsupported(ctx, path, `has a type Ringbuf Studio cannot lay out (${t.size} bytes)`, 'use integer, char array or struct fields');
  }
}

function emitStruct(ctx: EmitContext, fields: ReadonlyArray<{ name: string; type: FieldType; bitSize?: number }>, expr: string, path: string, indent: string, head: string[]): string[] {
  const out = [`${indent}b = append(b, '{')`];
  let first = true;
  for (const h of head) {
    out.push(`${indent}b = ${h}`);
    first = false;
  }
  for (const f of fields) {
    const fieldPath = path ? `${path}.${f.name}` : f.name;
    if (!f.name) unsupported(ctx, path || '(top level)', 'has an anonymous member, which bpf2go 0.9.1 cannot generate', 'give the member a name');
    if (f.bitSize !== undefined) unsupported(ctx, fieldPath, 'is a bitfield; bpf2go skips bitfields', 'use a whole integer field');
    out.push(`${indent}b = appendKey(b, ${goString(f.name)}, ${first ? 'true' : 'false'})`);
    first = false;
    out.push(...emitValue(ctx, f.type, `${expr}.${goIdentifier(f.name)}`, fieldPath, indent));
  }
  out.push(`${indent}b = append(b, '}')`);
  return out;
}

/** Checks that every ring's event type can be exported; throws the StudioError main.go generation would. */
export function checkExportable(spec: GoPackageSpec): void {
  mainGo(spec);
}

// ---- attach -----------------------------------------------------------------------

function attachCode(p: GoProgram): { code: string[] } | { skip: string } {
  const prog = `objs.${goIdentifier(p.name)}`;
  const t = p.attachTarget;
  const call = (expr: string): { code: string[] } => ({ code: [`l, err = ${expr}`] });
  switch (p.attachKind) {
    case 'tracepoint': {
      const slash = t.indexOf('/');
      if (slash <= 0) return { skip: `tracepoint section '${p.section}' names no group/event` };
      return call(`link.Tracepoint(${goString(t.slice(0, slash))}, ${goString(t.slice(slash + 1))}, ${prog}, nil)`);
    }
    case 'raw_tracepoint':
      if (!t) return { skip: `raw tracepoint section '${p.section}' names no tracepoint` };
      return call(`link.AttachRawTracepoint(link.RawTracepointOptions{Name: ${goString(t)}, Program: ${prog}})`);
    case 'tp_btf':
    case 'fentry':
    case 'fexit':
    case 'fmod_ret':
      return call(`link.AttachTracing(link.TracingOptions{Program: ${prog}})`);
    case 'lsm':
      return call(`link.AttachLSM(link.LSMOptions{Program: ${prog}})`);
    case 'kprobe':
    case 'kretprobe': {
      const symbol = t.replace(/\+.*$/, '');
      if (!symbol || /[*?]/.test(symbol)) return { skip: `section '${p.section}' names no single kernel function` };
      return call(`link.${p.attachKind === 'kprobe' ? 'Kprobe' : 'Kretprobe'}(${goString(symbol)}, ${prog}, nil)`);
    }
    case 'ksyscall': {
      if (!t) return { skip: `section '${p.section}' names no system call` };
      const ret = p.section.startsWith('kretsyscall');
      return call(`link.${ret ? 'Kretprobe' : 'Kprobe'}(syscallPrefix()+${goString(t)}, ${prog}, nil)`);
    }
    case 'uprobe':
    case 'uretprobe': {
      const colon = t.lastIndexOf(':');
      if (colon <= 0 || /[*?]/.test(t)) return { skip: `section '${p.section}' names no binary:function` };
      const bin = t.slice(0, colon);
      const fn = t.slice(colon + 1).replace(/\+.*$/, '');
      return {
        code: [
          `if ex, exErr := link.OpenExecutable(${goString(bin)}); exErr != nil {`,
          '\terr = exErr',
          '} else {',
          `\tl, err = ex.${p.attachKind === 'uprobe' ? 'Uprobe' : 'Uretprobe'}(${goString(fn)}, ${prog}, nil)`,
          '}',
        ],
      };
    }
    default:
      return { skip: `${p.attachKind} programs need an attach point only your loader knows` };
  }
}

// ---- main.go ----------------------------------------------------------------------

export function mainGo(spec: GoPackageSpec): string {
  const records = spec.rings.map((ring, index) => recordDecoder(spec, ring, index));
  const attachable = spec.programs.filter((p) => !('skip' in attachCode(p))).length;
  return `${renderGoTemplate('main.go.tmpl', {
    imports: mainImports(spec).map((i) => (i ? `\t${i}` : '')).join('\n'),
    progName: goString(spec.ident),
    objects: `${spec.ident}Objects`,
    loadObjects: `load${capitalize(spec.ident)}Objects`,
    attaches: spec.programs.map(attachStatement).join('\n'),
    requireAttached: attachable > 0 ? ['\tif len(links) == 0 {', '\t\tfatalf("no program could be attached (see the errors above)")', '\t}'].join('\n') : '',
    startReaders: records.map((r) => r.startReader).join('\n'),
    ringCount: String(spec.rings.length),
    syscallPrefix: spec.programs.some((p) => p.attachKind === 'ksyscall') ? renderGoTemplate('syscallPrefix.go.tmpl', {}) : '',
    recordDecoders: [...records.map((r) => r.decoder), ...records.flatMap((r) => r.enumFuncs)].join('\n\n'),
  })}\n`;
}

function mainImports(spec: GoPackageSpec): string[] {
  const usesHex = spec.rings.some((r) => !r.layout);
  const usesBinary = spec.rings.some((r) => r.layout);
  const hasKsyscall = spec.programs.some((p) => p.attachKind === 'ksyscall');
  return [
    ...(usesBinary ? ['"bytes"', '"encoding/binary"'] : []),
    ...(usesHex ? ['"encoding/hex"'] : []),
    '"errors"',
    '"flag"',
    '"fmt"',
    '"os"',
    '"os/signal"',
    ...(hasKsyscall ? ['"runtime"'] : []),
    '"sync"',
    '"syscall"',
    '',
    '"github.com/cilium/ebpf"',
    '"github.com/cilium/ebpf/link"',
    '"github.com/cilium/ebpf/ringbuf"',
    '"github.com/cilium/ebpf/rlimit"',
  ];
}

/** The Go function turning one ring's raw record into JSON, the enum helpers it needs, and the line that starts its reader. */
function recordDecoder(spec: GoPackageSpec, ring: GoRing, index: number): { decoder: string; enumFuncs: string[]; startReader: string } {
  const fn = `appendRecord${index}`;
  const multiMap = spec.rings.length > 1;
  const head = multiMap ? [`appendString(appendKey(b, "map", true), ${goString(ring.map)})`] : [];
  const startReader = `\tstartReader(${goString(ring.map)}, objs.${goIdentifier(ring.map)}, ${fn}, lines, &readers, &wg)`;
  if (!ring.layout) {
    const decoder = renderGoTemplate('recordHex.go.tmpl', {
      fn,
      map: ring.map,
      appendMapName: head.map((h) => `\tb = ${h}`).join('\n'),
      sizeIsFirst: multiMap ? 'false' : 'true',
    });
    return { decoder, enumFuncs: [], startReader };
  }
  const ctx = new EmitContext(ring.layout.typeName);
  const appendFields = emitStruct(ctx, ring.layout.root.fields, 'ev', '', '\t', head);
  const decoder = renderGoTemplate('record.go.tmpl', {
    fn,
    map: ring.map,
    goType: bpf2goTypeName(spec.ident, ring.layout.typeName),
    typeName: ring.layout.typeName,
    byteOrder: spec.bigEndian ? 'binary.BigEndian' : 'binary.LittleEndian',
    appendFields: appendFields.join('\n'),
  });
  return { decoder, enumFuncs: [...ctx.enums.values()], startReader };
}

/** The statements in main() that attach one program, or say why it is not attached. */
function attachStatement(p: GoProgram): string {
  const a = attachCode(p);
  if ('skip' in a) {
    return `\tfmt.Fprintf(os.Stderr, "%s: program %s (SEC(%q)) is loaded but not attached: %s\\n", progName, ${goString(p.name)}, ${goString(p.section)}, ${goString(a.skip)})`;
  }
  return renderGoTemplate('attach.go.tmpl', {
    section: goString(p.section),
    program: goString(p.name),
    attachCall: a.code.map((c) => `\t\t${c}`).join('\n'),
  });
}

// ---- helpers.go (static) -------------------------------------------------------------

/** helpers.go: the JSON writer main.go uses and the kernel-BTF shim for old cilium/ebpf (go-templates/helpers.go). */
export function helpersGo(): string {
  return goTemplate('helpers.go');
}
