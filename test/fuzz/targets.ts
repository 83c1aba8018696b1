// Fuzz targets shared by the bounded runner (`npm run fuzz`, test/fuzz/run.ts) and the
// unit test (test/unit/fuzz/fuzz.test.ts). Each target turns raw bytes into calls of
// one parser the way the product uses it. Throwing the parser's own typed error is the
// expected outcome of bad input; anything else thrown is a finding ("crash").
import { BtfError, parseBtf } from '../../core/btf/btf';
import { parseBtfExt } from '../../core/btf/btfExt';
import { layoutOf } from '../../core/btf/layout';
import { ByteOutput } from '../../core/decode/byteOutput';
import { compileDecoder, eventToJson } from '../../core/decode/decode';
import { compileJsonLineWriter, jsonLineOf } from '../../core/decode/jsonLines';
import { compileTextLineWriter } from '../../core/decode/textLines';
import { findDeclaredEventTypes, inferEventTypesFromSource, resolveEventLayouts } from '../../core/decode/eventTypes';
import { readBpfObject } from '../../core/elf/bpfObject';
import { ElfError } from '../../core/elf/elf';
import { lintObject, lintSource } from '../../core/lint/index';
import { tryCompileFilter } from '../../core/panel/filter';
import { CoreFrameDecoder, decodeCoreFrame, decodeHelperFrame, FrameDecoder, ProtocolError } from '../../core/protocol/helper';
import { PanelMessageError, parseWebviewMessage } from '../../core/protocol/panel';
import { explainFailure } from '../../core/verifier/categories';
import { analyzeVerifierLog } from '../../core/verifier/diagnostics';
import { explainVerifierLog } from '../../core/verifier/explain';
import { VerifierLogParser } from '../../core/verifier/log';
import { SourceLocator } from '../../core/verifier/source';
import { describeValue } from '../../core/verifier/state';

export interface FuzzTarget {
  /** What is fuzzed, for the summary. */
  description: string;
  /** Runs one input; returns normally or throws. */
  run: (input: Uint8Array) => void;
  /** True when `err` is the typed error bad input is supposed to produce. */
  expected(err: unknown): boolean;
  /** Tokens spliced in by the mutator (magic numbers, keywords). */
  dictionary: Uint8Array[];
}

const enc = new TextEncoder();
const latin1 = new TextDecoder('latin1');
const words = (...w: string[]): Uint8Array[] => w.map((s) => enc.encode(s));
const u32le = (...v: number[]): Uint8Array[] =>
  v.map((x) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, x >>> 0, true);
    return b;
  });

/** A cheap deterministic byte source derived from the input, for choices a target makes. */
function hashOf(input: Uint8Array): number {
  let h = 0x811c9dc5 ^ input.length;
  for (let i = 0; i < input.length; i += 97) h = Math.imul(h ^ (input[i] ?? 0), 0x01000193);
  return h >>> 0;
}

/** Uses BTF the way the product does: names, layouts of records, and decoding a record. */
function exerciseBtf(btf: ReturnType<typeof parseBtf>, input: Uint8Array): void {
  let structs = 0;
  for (let id = 0; id < btf.count && structs < 12; id++) {
    btf.typeName(id);
    const k = btf.kindOf(id);
    if (k === 'typedef' || k === 'const' || k === 'volatile') btf.resolve(id);
    if (k !== 'struct' && k !== 'union') continue;
    structs++;
    const layout = layoutOf(btf, id);
    JSON.stringify(layout);
    const dec = compileDecoder(layout, { littleEndian: btf.littleEndian, codegen: hashOf(input) % 16 === 0 });
    const n = Math.min(layout.size, 512);
    const ev = dec.decode(input.subarray(0, n), 0, n);
    for (const c of dec.columns) c.format(c.get(ev));
    checkLineSerializers(layout, btf.littleEndian, input.subarray(0, n));
  }
}

/** The byte serializers must print what the decoder + JSON.stringify print, for any layout BTF can describe. */
function checkLineSerializers(layout: ReturnType<typeof layoutOf>, littleEndian: boolean, record: Uint8Array): void {
  const expected = JSON.stringify(eventToJson(compileDecoder(layout, { littleEndian }).decode(record)));
  const got = jsonLineOf(compileJsonLineWriter(layout, { littleEndian, codegen: hashOf(record) % 2 === 0 }), record);
  if (got !== expected) throw new Error(`serializer differs from JSON.stringify: ${got.slice(0, 200)} vs ${expected.slice(0, 200)}`);
  compileTextLineWriter(layout, { littleEndian }).write(new ByteOutput(64), record, 0, record.length);
}

function elfTarget(input: Uint8Array): void {
  const obj = readBpfObject(input, { file: 'fuzz.o' });
  JSON.stringify(obj.maps);
  findDeclaredEventTypes(obj);
  resolveEventLayouts(obj, obj.maps.map((m) => ({ map: m.name, typeName: 'struct event', line: 1, how: 'fuzz' })));
  lintObject(obj, { file: 'fuzz.bpf.c' });
  if (obj.btf) exerciseBtf(obj.btf, input);
}

function btfTarget(input: Uint8Array): void {
  const btf = parseBtf(input);
  exerciseBtf(btf, input);
  // The same bytes read as .BTF.ext against themselves: offsets, string refs, records.
  try {
    parseBtfExt(input, btf);
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
  }
}

/** Splits the input at points derived from its bytes, to exercise frame reassembly across chunks. */
function chunks(input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  let h = input.length;
  while (off < input.length) {
    h = (Math.imul(h ^ (input[off] ?? 0), 0x9e3779b1) >>> 0) % 4099;
    const n = 1 + (h % Math.max(1, input.length - off));
    out.push(input.subarray(off, off + n));
    off += n;
  }
  return out;
}

const bigintSafe = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

function helperFramesTarget(input: Uint8Array): void {
  // 1. Whole frame bodies straight into the decoders (the splitter would wrap a foreign
  //    exception into a ProtocolError and hide it).
  if (input.length > 0) {
    for (const decode of [decodeHelperFrame, decodeCoreFrame]) {
      try {
        JSON.stringify(decode(input.subarray(4)), bigintSafe);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }
  }
  // 2. The stream through both incremental decoders, in odd chunk sizes.
  const helperSide = new FrameDecoder();
  const coreSide = new CoreFrameDecoder();
  let helperFailed = false;
  let coreFailed = false;
  for (const c of chunks(input)) {
    if (!helperFailed) {
      try {
        for (const m of helperSide.push(c)) JSON.stringify(m, bigintSafe);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        helperFailed = true;
      }
    }
    if (!coreFailed) {
      try {
        coreSide.push(c);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        coreFailed = true;
      }
    }
  }
}

function filterTarget(input: Uint8Array): void {
  const src = latin1.decode(input);
  const known = (hashOf(input) & 1) === 1 ? ['pid', 'comm', 'ts', 'x.y', 'filename'] : undefined;
  const r = tryCompileFilter(src, known);
  if (!r.filter) return;
  const get = (name: string): number | string | bigint | undefined =>
    name === 'comm' ? 'bash' : name === 'ts' ? 123456789012345678901234n : name === 'pid' ? input.length : name === 'filename' ? src : undefined;
  r.filter.test(get);
}

/** A source for the verifier log target to place lines on (never read from disk). */
const FUZZ_SOURCE = Array.from({ length: 60 }, (_, i) => (i === 10 ? 'SEC("tp/x")' : `\tline_${i}(e->pid);`)).join('\n');

/** The verifier log as the explorer uses it: streamed in odd chunks, explained, every value described. */
function verifierLogTarget(input: Uint8Array): void {
  const text = latin1.decode(input);
  const parser = new VerifierLogParser();
  for (const c of chunks(input)) parser.push(latin1.decode(c));
  const log = parser.finish();
  const h = hashOf(input);
  const locator = new SourceLocator(
    { file: 'fuzz.bpf.c', text: FUZZ_SOURCE },
    { section: 'tp/x', ...(h & 1 ? { lineInfo: (insn: number) => (insn % 3 ? { file: 'fuzz.bpf.c', line: insn % 70 } : undefined) } : {}) },
  );
  const explained = explainVerifierLog(log, locator, { errno: h & 2 ? 7 : 13, loaded: (h & 12) === 12 });
  JSON.stringify(explained);
  // (shownSlots inside explainVerifierLog describes what each step touched; `before` adds the rest.)
  for (const step of log.path.slice(-20)) for (const slot of step.before.slots) describeValue(slot.value);
  analyzeVerifierLog(log);
  explainFailure(text.slice(0, 512));
}

export const targets: Record<string, FuzzTarget> = {
  elf: {
    description: 'ELF/BPF object reader (core/elf) with BTF, layouts, event types, object-layer lint',
    run: elfTarget,
    expected: (e) => e instanceof ElfError || e instanceof BtfError,
    dictionary: [
      Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1),
      Uint8Array.of(0x9f, 0xeb, 1, 0),
      Uint8Array.of(0xeb, 0x9f, 1, 0),
      ...words('.BTF', '.BTF.ext', '.maps', 'maps', 'license', 'tracepoint/', '.symtab', '.strtab', '.rel', 'event_type:'),
      ...u32le(0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 24, 64),
      Uint8Array.of(0xf7, 0), // EM_BPF
      Uint8Array.of(8, 0, 0, 0), // SHT_NOBITS
      Uint8Array.of(0x85, 0, 0, 0, 0x83, 0, 0, 0), // call bpf_ringbuf_reserve
    ],
  },
  btf: {
    description: 'raw BTF / BTF.ext blobs (core/btf) with layouts and a decoded record',
    run: btfTarget,
    expected: (e) => e instanceof BtfError,
    dictionary: [
      Uint8Array.of(0x9f, 0xeb, 1, 0),
      Uint8Array.of(0xeb, 0x9f, 1, 0),
      ...u32le(0, 1, 2, 24, 0xffffffff, 0x7fffffff, 0x04000000, 0x13000000, 0x01000000, 0x0300ffff, 0x84000001, 0x08000000),
    ],
  },
  lint: {
    description: 'C-source lint layer (core/lint lintSource) and event-type inference on arbitrary text',
    run: (input) => {
      const text = latin1.decode(input);
      lintSource(text, 'fuzz.bpf.c', { pageSize: [4096, 16384, 65536][hashOf(input) % 3] ?? 4096 });
      inferEventTypesFromSource(text);
    },
    // The source layer must accept any text: no error is expected at all.
    expected: () => false,
    dictionary: words(
      'BPF_MAP_TYPE_RINGBUF', '__uint(type, BPF_MAP_TYPE_RINGBUF);', '__uint(max_entries, ', '__type(value, struct e)', 'SEC(".maps")',
      'bpf_ringbuf_reserve(&rb, sizeof(*e), 0)', 'bpf_ringbuf_submit(e, 0);', 'bpf_ringbuf_discard(e, 0);', 'bpf_ringbuf_output(&rb, &v, sizeof(v), 0);',
      'if (!e) return 0;', '/*', '*/', '//', '"', "'", '\\\n', '#define ', '#include "', '#if 0\n', '#endif\n', '(', ')', '{', '}', ';',
      '1 << 40', '1 << 63', '0x', '256 * 1024', '(-1)', '/ 0', '% 0', 'sizeof(', '?', ':', 'BPF_RINGBUF_OUTPUT(', 'bpf_dynptr', 'struct {', '};', 'struct e {', 'int x[100000000];',
    ),
  },
  'helper-frames': {
    description: 'helper protocol codec, TS side (core/protocol/helper: FrameDecoder, CoreFrameDecoder, frame bodies)',
    run: helperFramesTarget,
    expected: (e) => e instanceof ProtocolError,
    dictionary: [
      ...u32le(0, 1, 5, 0x04000000, 0x04000001, 0xffffffff, 0x80000000, 0x40000000),
      ...[1, 2, 3, 4, 5, 6, 7, 0x81, 0x82, 0x83, 0x84, 0x85].map((k) => Uint8Array.of(k)),
      ...words('{', '}', '"protocol":', '"maps":[', '"rings":[', '"programs":[', 'null', '1e999', '-1', '"\\ud800"', '[]', '{}'),
    ],
  },
  filter: {
    description: 'panel filter expression parser and evaluator (core/panel/filter)',
    run: filterTarget,
    // tryCompileFilter already maps FilterError to a value; any throw is a finding.
    expected: () => false,
    dictionary: words(
      'pid', 'comm', 'filename', '==', '!=', '<=', '>=', '<', '>', '&&', '||', '!', '(', ')', '"', "'", '~', 'contains', 'and', 'or', 'not',
      '0x', '1e308', '-0', '123456789012345678901234567890', '\\', '.', 'true', 'false', 'null', '/(a+)+$/', '[', ']', '((((((((((',
    ),
  },
  'verifier-log': {
    description: 'verifier log parser, explanation and state descriptions (core/verifier)',
    run: verifierLogTarget,
    // "It never throws on a log it does not understand": no error is expected at all.
    expected: () => false,
    dictionary: words(
      '\nfrom 14 to 18: ', ': safe\n', '\n; e->pid = pid; @ prog.bpf.c:25\n', '\n; \n', '\n0: R1=ctx() R10=fp0\n', '\n7: (15) if r7 == 0x0 goto pc+9', '\n19: (95) exit\n',
      '\n13: (85) call pc+6\n', '\n6: (85) call bpf_ringbuf_reserve#131\n', ' ; R0=ringbuf_mem_or_null(id=3,ref_obj_id=3,sz=16) refs=3', 'frame1: ', ' R6_w=', ' fp-8=mmmmmmmm',
      'scalar(smin=smin32=0,smax=umax=smax32=umax32=99,var_off=(0x0; 0x7f))', 'invP0', '(', ')', ';', '=', '\nUnreleased reference id=3 alloc_insn=6\n',
      '\nR6 invalid mem access \'ringbuf_mem_or_null\'\n', '\ninfinite loop detected at insn 6\n', '\nprocessed 21 insns (limit 1000000) max_states_per_insn 1 total_states 2 peak_states 2 mark_read 0\n',
      '\nreturning from callee:\n', '\nto caller at 14:\n', '\nmark_precise: frame0: last_idx 6 first_idx 0 subseq_idx -1\n', '\nLive regs before insn:\n', ' goto pc-2', ' goto pc+32767',
    ),
  },
  'panel-message': {
    description: 'webview → host message validation (core/protocol/panel parseWebviewMessage)',
    run: (input) => {
      let v: unknown;
      try {
        v = JSON.parse(latin1.decode(input));
      } catch {
        return; // not JSON: postMessage carries structured clones, not text
      }
      JSON.stringify(parseWebviewMessage(v));
    },
    expected: (e) => e instanceof PanelMessageError,
    dictionary: words(
      '"type":', '"id":', '"ready"', '"command"', '"export"', '"viewState"', '"log"', '"declareEventType"', '"__proto__"', '"constructor"',
      '"request":{', '"format":"csv"', '"scope":"all"', '"seqs":[', '"hiddenColumns":[', '1e400', '-1', '9007199254740993', 'null', '{', '}', '[', ']', ',',
    ),
  },
};

function describeThrown(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : `non-Error thrown: ${String(e)}`;
}

/** Runs one input: null when it behaved (returned, or threw the typed error), else what went wrong. */
export function runOne(target: string, input: Uint8Array): string | null {
  const t = targets[target];
  if (!t) throw new Error(`unknown fuzz target ${target}`);
  try {
    t.run(input);
    return null;
  } catch (e) {
    return t.expected(e) ? null : describeThrown(e);
  }
}
