// The Go files of an exported bpf2go package: gen.go (the //go:generate line),
// main.go (load, attach per section, read every ring, print JSON lines) and
// helpers.go (the JSON writer and a kernel-BTF shim for old cilium/ebpf).
// The JSON printed for a record is the one `ringbuf-studio run --format jsonl`
// prints for it (see core/decode/decode.ts "Value mapping"): same keys in the same
// order, char arrays as strings, 64-bit values beyond 2^53 as decimal strings.
import type { EventLayout, FieldType } from '../decode/layout';
import type { AttachKind } from '../elf/bpfObject';
import { StudioError } from '../util/errors';
import { bpf2goTypeArg, bpf2goTypeName, goIdentifier } from './goNames';

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
  const { ident } = spec;
  const objects = `${ident}Objects`;
  const load = `load${capitalize(ident)}Objects`;
  const order = spec.bigEndian ? 'binary.BigEndian' : 'binary.LittleEndian';
  const multiMap = spec.rings.length > 1;
  const decoders: string[] = [];
  const readerStarts: string[] = [];
  const enumFuncs: string[] = [];
  spec.rings.forEach((ring, index) => {
    const fn = `appendRecord${index}`;
    const head = multiMap ? [`appendString(appendKey(b, "map", true), ${goString(ring.map)})`] : [];
    if (ring.layout) {
      const goType = bpf2goTypeName(ident, ring.layout.typeName);
      const ctx = new EmitContext(ring.layout.typeName);
      const body = emitStruct(ctx, ring.layout.root.fields, 'ev', '', '\t', head);
      enumFuncs.push(...ctx.enums.values());
      decoders.push([
        `// ${fn} decodes a record of ring '${ring.map}' into the bpf2go type ${goType} (${ring.layout.typeName}).`,
        `func ${fn}(b []byte, raw []byte) []byte {`,
        `\tvar ev ${goType}`,
        '\t// A short record (e.g. from a dynptr) decodes the fields it has; the rest stay zero.',
        '\tpadded := make([]byte, binary.Size(&ev))',
        '\tcopy(padded, raw)',
        `\t_ = binary.Read(bytes.NewReader(padded), ${order}, &ev)`,
        ...body,
        '\treturn b',
        '}',
      ].join('\n'));
    } else {
      decoders.push([
        `// ${fn}: ring '${ring.map}' has no known event type, so records are printed as hex.`,
        `func ${fn}(b []byte, raw []byte) []byte {`,
        "\tb = append(b, '{')",
        ...head.map((h) => `\tb = ${h}`),
        `\tb = appendUint(appendKey(b, "size", ${multiMap ? 'false' : 'true'}), uint64(len(raw)))`,
        '\tb = appendString(appendKey(b, "hex", false), hex.EncodeToString(raw))',
        "\tb = append(b, '}')",
        '\treturn b',
        '}',
      ].join('\n'));
    }
    readerStarts.push(`\tstartReader(${goString(ring.map)}, objs.${goIdentifier(ring.map)}, ${fn}, lines, &readers, &wg)`);
  });

  const attaches: string[] = [];
  for (const p of spec.programs) {
    const a = attachCode(p);
    if ('skip' in a) {
      attaches.push(`\tfmt.Fprintf(os.Stderr, "%s: program %s (SEC(%q)) is loaded but not attached: %s\\n", progName, ${goString(p.name)}, ${goString(p.section)}, ${goString(a.skip)})`);
      continue;
    }
    attaches.push(
      `\t{ // SEC(${goString(p.section)})`,
      '\t\tvar l link.Link',
      '\t\tvar err error',
      ...a.code.map((c) => `\t\t${c}`),
      '\t\tif err != nil {',
      `\t\t\tfmt.Fprintf(os.Stderr, "%s: attach %s (SEC(%q)): %v\\n", progName, ${goString(p.name)}, ${goString(p.section)}, err)`,
      '\t\t} else {',
      '\t\t\tlinks = append(links, l)',
      '\t\t}',
      '\t}',
    );
  }

  const hasKsyscall = spec.programs.some((p) => p.attachKind === 'ksyscall');
  const attachable = spec.programs.filter((p) => !('skip' in attachCode(p))).length;
  const usesHex = spec.rings.some((r) => !r.layout);
  const usesBinary = spec.rings.some((r) => r.layout);
  const imports = [
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

  return [
    '// Generated by Ringbuf Studio (export-go). Loads the bpf2go objects, attaches every',
    '// program by its section, reads each ring buffer with ringbuf.NewReader and prints',
    '// one JSON object per record, as `ringbuf-studio run --format jsonl` does.',
    '// Build: go generate && go build (see README.md).',
    'package main',
    '',
    'import (',
    ...imports.map((i) => (i ? `\t${i}` : '')),
    ')',
    '',
    `const progName = ${goString(ident)}`,
    '',
    'func main() {',
    '\tcount := flag.Int("count", 0, "exit after this many events (0: until Ctrl-C)")',
    '\tflag.Parse()',
    '',
    '\t// Kernels before 5.11 account BPF memory to RLIMIT_MEMLOCK.',
    '\tif err := rlimit.RemoveMemlock(); err != nil {',
    '\t\tfatalf("remove memlock limit: %v", err)',
    '\t}',
    `\tvar objs ${objects}`,
    `\tif err := loadObjects(func(opts *ebpf.CollectionOptions) error { return ${load}(&objs, opts) }); err != nil {`,
    '\t\tfatalf("load: %v", err)',
    '\t}',
    '\tdefer objs.Close()',
    '',
    '\tvar links []link.Link',
    ...attaches,
    ...(attachable > 0
      ? ['\tif len(links) == 0 {', '\t\tfatalf("no program could be attached (see the errors above)")', '\t}']
      : []),
    '\tdefer func() {',
    '\t\tfor _, l := range links {',
    '\t\t\tl.Close()',
    '\t\t}',
    '\t}()',
    '',
    '\tlines := make(chan []byte, 1024)',
    '\tvar readers []*ringbuf.Reader',
    '\tvar wg sync.WaitGroup',
    ...readerStarts,
    '\tgo func() {',
    '\t\twg.Wait()',
    '\t\tclose(lines)',
    '\t}()',
    '\tstop := func() {',
    '\t\tfor _, rd := range readers {',
    '\t\t\trd.Close()',
    '\t\t}',
    '\t}',
    '\tsig := make(chan os.Signal, 1)',
    '\tsignal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)',
    '\tgo func() {',
    '\t\t<-sig',
    '\t\tstop()',
    '\t}()',
    '',
    `\tfmt.Fprintf(os.Stderr, "%s: %d program(s) attached, reading ${spec.rings.length} ring(s); Ctrl-C stops\\n", progName, len(links))`,
    '\tseen := 0',
    '\tfor line := range lines {',
    '\t\tos.Stdout.Write(line)',
    '\t\tseen++',
    '\t\tif *count > 0 && seen == *count {',
    '\t\t\tstop()',
    '\t\t\tbreak',
    '\t\t}',
    '\t}',
    '}',
    '',
    '// startReader reads one ring until it is closed, turning each record into a JSON line.',
    'func startReader(name string, m *ebpf.Map, appendRecord func(b, raw []byte) []byte, lines chan<- []byte, readers *[]*ringbuf.Reader, wg *sync.WaitGroup) {',
    '\trd, err := ringbuf.NewReader(m)',
    '\tif err != nil {',
    '\t\tfatalf("open ring %s: %v", name, err)',
    '\t}',
    '\t*readers = append(*readers, rd)',
    '\twg.Add(1)',
    '\tgo func() {',
    '\t\tdefer wg.Done()',
    '\t\tfor {',
    '\t\t\trec, err := rd.Read()',
    '\t\t\tif errors.Is(err, ringbuf.ErrClosed) {',
    '\t\t\t\treturn',
    '\t\t\t}',
    '\t\t\tif err != nil {',
    '\t\t\t\tfmt.Fprintf(os.Stderr, "%s: read ring %s: %v\\n", progName, name, err)',
    '\t\t\t\tcontinue',
    '\t\t\t}',
    "\t\t\tlines <- append(appendRecord(nil, rec.RawSample), '\\n')",
    '\t\t}',
    '\t}()',
    '}',
    '',
    ...(hasKsyscall
      ? [
          '// syscallPrefix is the arch-specific prefix of syscall entry points (SEC("ksyscall/…")).',
          'func syscallPrefix() string {',
          '\tswitch runtime.GOARCH {',
          '\tcase "amd64":',
          '\t\treturn "__x64_sys_"',
          '\tcase "arm64":',
          '\t\treturn "__arm64_sys_"',
          '\tcase "s390x":',
          '\t\treturn "__s390x_sys_"',
          '\t}',
          '\treturn "sys_"',
          '}',
          '',
        ]
      : []),
    'func fatalf(format string, args ...interface{}) {',
    '\tfmt.Fprintf(os.Stderr, progName+": "+format+"\\n", args...)',
    '\tos.Exit(1)',
    '}',
    '',
    ...decoders.flatMap((d) => [d, '']),
    ...enumFuncs.flatMap((d) => [d, '']),
  ].join('\n');
}

// ---- helpers.go (static) -------------------------------------------------------------

export const HELPERS_GO = `// Generated by Ringbuf Studio (export-go): the JSON writer used by main.go and a
// shim that lets cilium/ebpf releases older than the running kernel load CO-RE
// programs.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

func appendKey(b []byte, key string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = appendString(b, key)
	return append(b, ':')
}

// JSON numbers are exact only up to 2^53: larger values are printed as decimal strings.
const maxSafeInteger = 1<<53 - 1

func appendInt(b []byte, v int64) []byte {
	if v >= -maxSafeInteger && v <= maxSafeInteger {
		return strconv.AppendInt(b, v, 10)
	}
	b = append(b, '"')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '"')
}

func appendUint(b []byte, v uint64) []byte {
	if v <= maxSafeInteger {
		return strconv.AppendUint(b, v, 10)
	}
	b = append(b, '"')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '"')
}

func appendBool(b []byte, v bool) []byte {
	return strconv.AppendBool(b, v)
}

func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\\\':
			b = append(b, '\\\\', c)
		case c == '\\n':
			b = append(b, '\\\\', 'n')
		case c == '\\r':
			b = append(b, '\\\\', 'r')
		case c == '\\t':
			b = append(b, '\\\\', 't')
		case c == '\\b':
			b = append(b, '\\\\', 'b')
		case c == '\\f':
			b = append(b, '\\\\', 'f')
		case c < 0x20:
			b = append(b, '\\\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendCString writes a C char array as a JSON string: up to the first NUL, valid
// UTF-8 kept, every other byte as the four characters \\xNN.
func appendCString(b []byte, chars []byte) []byte {
	if n := bytes.IndexByte(chars, 0); n >= 0 {
		chars = chars[:n]
	}
	var s []byte
	for len(chars) > 0 {
		r, size := utf8.DecodeRune(chars)
		if r == utf8.RuneError && size <= 1 {
			s = append(s, fmt.Sprintf("\\\\x%02x", chars[0])...)
			chars = chars[1:]
			continue
		}
		s = append(s, chars[:size]...)
		chars = chars[size:]
	}
	return appendString(b, string(s))
}

func bytesOfInt8(v []int8) []byte {
	out := make([]byte, len(v))
	for i, c := range v {
		out[i] = byte(c)
	}
	return out
}

// loadObjects loads the bpf2go objects. cilium/ebpf releases older than the kernel
// (e.g. Debian's 0.9.1 on 6.x) cannot parse the BTF kinds newer kernels use
// (DECL_TAG, TYPE_TAG, ENUM64) and fail CO-RE relocation with "unknown kind"; then
// the load is retried with the kernel's BTF rewritten into kinds they know.
func loadObjects(load func(*ebpf.CollectionOptions) error) error {
	err := load(nil)
	if err == nil {
		return nil
	}
	types, compatErr := compatKernelTypes()
	if compatErr != nil || types == nil {
		return err
	}
	if retryErr := load(&ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{KernelTypes: types}}); retryErr != nil {
		return retryErr
	}
	fmt.Fprintf(os.Stderr, "%s: note: loaded with the kernel BTF rewritten for this cilium/ebpf (%v)\\n", progName, err)
	return nil
}

// compatKernelTypes returns the kernel's BTF with DECL_TAG and TYPE_TAG turned into
// CONST qualifiers and ENUM64 into value-less 8-byte ENUMs (type ids unchanged), or
// nil when the kernel BTF has none of them.
func compatKernelTypes() (*btf.Spec, error) {
	raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		return nil, err
	}
	if len(raw) < 24 {
		return nil, errors.New("kernel BTF too short")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint16(raw) == 0xeb9f {
		bo = binary.BigEndian
	} else if binary.LittleEndian.Uint16(raw) != 0xeb9f {
		return nil, errors.New("kernel BTF has no BTF magic")
	}
	hdrLen := bo.Uint32(raw[4:])
	typeOff, typeLen := bo.Uint32(raw[8:]), bo.Uint32(raw[12:])
	strOff, strLen := bo.Uint32(raw[16:]), bo.Uint32(raw[20:])
	if uint64(hdrLen)+uint64(typeOff)+uint64(typeLen) > uint64(len(raw)) || uint64(hdrLen)+uint64(strOff)+uint64(strLen) > uint64(len(raw)) {
		return nil, errors.New("kernel BTF header out of bounds")
	}
	types := raw[hdrLen+typeOff : hdrLen+typeOff+typeLen]
	out := make([]byte, 0, len(types))
	changed := false
	for off := 0; off+12 <= len(types); {
		info := bo.Uint32(types[off+4:])
		kind, vlen := (info>>24)&0x1f, int(info&0xffff)
		extra := 0
		switch kind {
		case 1, 14, 17: // INT, VAR, DECL_TAG
			extra = 4
		case 3: // ARRAY
			extra = 12
		case 4, 5, 15, 19: // STRUCT, UNION, DATASEC, ENUM64
			extra = 12 * vlen
		case 6, 13: // ENUM, FUNC_PROTO
			extra = 8 * vlen
		}
		if off+12+extra > len(types) {
			return nil, errors.New("kernel BTF type section truncated")
		}
		header := make([]byte, 12)
		copy(header, types[off:off+12])
		switch kind {
		case 17, 18: // DECL_TAG, TYPE_TAG -> CONST (anonymous qualifier, same target)
			bo.PutUint32(header[0:], 0)
			bo.PutUint32(header[4:], 10<<24)
			if kind == 17 {
				bo.PutUint32(header[8:], 0)
			}
			out = append(out, header...)
			changed = true
		case 19: // ENUM64 -> ENUM without values, same name and size
			bo.PutUint32(header[4:], 6<<24)
			out = append(out, header...)
			changed = true
		default:
			out = append(out, types[off:off+12+extra]...)
		}
		off += 12 + extra
	}
	if !changed {
		return nil, nil
	}
	strs := raw[hdrLen+strOff : hdrLen+strOff+strLen]
	hdr := make([]byte, 24)
	copy(hdr, raw[:24])
	bo.PutUint32(hdr[4:], 24)
	bo.PutUint32(hdr[8:], 0)
	bo.PutUint32(hdr[12:], uint32(len(out)))
	bo.PutUint32(hdr[16:], uint32(len(out)))
	bo.PutUint32(hdr[20:], uint32(len(strs)))
	blob := append(append(hdr, out...), strs...)
	return btf.LoadSpecFromReader(bytes.NewReader(blob))
}
`;
