// What a compiled BPF object contains, read without libbpf: maps (from the BTF of
// `.maps`, or legacy `maps` + struct bpf_map_def), programs (executable sections and
// their global functions), helper calls (with the map argument when it can be
// resolved) and globals. The object layer of the linter and the event-type
// resolution stand on this.
import type { Btf, BtfType } from '../btf/btf';
import { BtfError, parseBtf } from '../btf/btf';
import type { BtfExt } from '../btf/btfExt';
import { parseBtfExt } from '../btf/btfExt';
import { layoutOf } from '../btf/layout';
import type { EventLayout } from '../btf/layoutTypes';
import type { ElfFile, ElfSection, ElfSymbol } from './elf';
import { EM_BPF, ElfError, SHF_EXECINSTR, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_SECTION, machineDescription, parseElf } from './elf';
import { readCString } from '../util/stringTable';
import { helperId, helperName } from './helpers';
import { StudioError } from '../util/errors';

export interface BpfMapInfo {
  name: string;
  type: number;
  /** 'ringbuf', 'perf_event_array', 'array', 'percpu_array', 'hash', …; 'unknown' without a definition. */
  typeName: string;
  keySize?: number;
  valueSize?: number;
  /** From the map definition; undefined if the definition has none. */
  maxEntries?: number;
  mapFlags?: number;
  /** key / key_size present in the definition. */
  hasKeyField: boolean;
  /** value / value_size present in the definition. */
  hasValueField: boolean;
  /** BTF id of `__type(key, T)` / `__type(value, T)` targets, when present. */
  keyTypeId?: number;
  valueTypeId?: number;
  /** `__type(value, struct X)` on a ringbuf map: the event-type declaration. */
  declaredValueType?: EventLayout;
  /** '.maps' or the legacy 'maps' section name. */
  section: string;
  /** Byte offset of the definition in its section (matches relocations). */
  offset: number;
  /** BTF id of the map's VAR (BTF-defined maps only). */
  btfVarId?: number;
}

export type AttachKind =
  | 'tracepoint' | 'raw_tracepoint' | 'tp_btf' | 'kprobe' | 'kretprobe' | 'ksyscall' | 'uprobe' | 'uretprobe' | 'usdt'
  | 'fentry' | 'fexit' | 'fmod_ret' | 'lsm' | 'iter' | 'perf_event' | 'xdp' | 'tc' | 'socket' | 'cgroup' | 'syscall' | 'other';

export interface BpfHelperCall {
  helperId: number;
  /** 'bpf_ringbuf_output'; 'helper#N' for ids we do not know. */
  name: string;
  /** Instruction index from the program's start (as the verifier log counts). */
  insnIndex: number;
  /** Instruction index within the ELF section. */
  sectionInsnIndex: number;
  /** The map passed as the helper's map argument (R1, or R2 for perf_event_output & co.), when it was loaded by ld_imm64 earlier in straight-line code. */
  mapName?: string;
  /** From .BTF.ext line_info, when present. */
  line?: number;
  column?: number;
  file?: string;
}

export interface BpfProgramInfo {
  name: string;
  section: string;
  attachKind: AttachKind;
  /** Text after the kind prefix: 'sched/sched_process_exec', 'do_nanosleep'; '' when none. */
  attachTarget: string;
  /** Instruction count. */
  insnCount: number;
  /** Index of the program's first instruction within its ELF section (programs may share one). */
  sectionInsnStart: number;
  helperCalls: BpfHelperCall[];
  /** Source position of the program's first instruction (from .BTF.ext), when present. */
  line?: number;
  file?: string;
}

export interface BpfGlobal {
  name: string;
  section: string;
  offset: number;
  size: number;
  typeId: number;
}

export interface BpfObjectInfo {
  file?: string;
  littleEndian: boolean;
  maps: BpfMapInfo[];
  programs: BpfProgramInfo[];
  btf?: Btf;
  btfExt?: BtfExt;
  hasBtf: boolean;
  hasLineInfo: boolean;
  license?: string;
  globals: BpfGlobal[];
  /** Non-fatal problems found while reading (e.g. a corrupt .BTF.ext), one line each. */
  warnings: string[];
}

export interface ReadBpfObjectOptions {
  /** Used in error messages and copied to the result. */
  file?: string;
  /** When given, an object of the other byte order is rejected with a clear error. */
  targetEndian?: 'little' | 'big';
}

// Kernel UAPI enum bpf_map_type, lower-case without the BPF_MAP_TYPE_ prefix.
const MAP_TYPE_NAMES: readonly string[] = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array', 'stack_trace',
  'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps', 'hash_of_maps', 'devmap', 'sockmap',
  'cpumap', 'xskmap', 'sockhash', 'cgroup_storage', 'reuseport_sockarray', 'percpu_cgroup_storage', 'queue', 'stack',
  'sk_storage', 'devmap_hash', 'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter', 'user_ringbuf',
  'cgrp_storage', 'arena',
];
export const BPF_MAP_TYPE_RINGBUF = 27;
export const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;

export function mapTypeName(type: number): string {
  return MAP_TYPE_NAMES[type] ?? `map_type#${type}`;
}

/** Helpers whose map argument is R2 (R1 is the context/skb). */
const MAP_IN_R2 = new Set(
  ['bpf_perf_event_output', 'bpf_get_stackid', 'bpf_tail_call', 'bpf_skb_output', 'bpf_xdp_output', 'bpf_sk_redirect_map', 'bpf_msg_redirect_map', 'bpf_sk_redirect_hash', 'bpf_msg_redirect_hash', 'bpf_sock_map_update', 'bpf_sock_hash_update', 'bpf_sk_select_reuseport']
    .map((n) => helperId(n))
    .filter((n): n is number => n !== undefined),
);

/** Section prefix → attach kind, longest prefixes first where they overlap. */
const SECTION_KINDS: Array<[string, AttachKind]> = [
  ['tracepoint/', 'tracepoint'], ['tp/', 'tracepoint'],
  ['raw_tracepoint.w/', 'raw_tracepoint'], ['raw_tracepoint/', 'raw_tracepoint'], ['raw_tp.w/', 'raw_tracepoint'], ['raw_tp/', 'raw_tracepoint'],
  ['tp_btf/', 'tp_btf'],
  ['kprobe.multi/', 'kprobe'], ['kretprobe.multi/', 'kretprobe'], ['kprobe/', 'kprobe'], ['kretprobe/', 'kretprobe'],
  ['ksyscall/', 'ksyscall'], ['kretsyscall/', 'ksyscall'],
  ['uprobe.multi', 'uprobe'], ['uretprobe.multi', 'uretprobe'], ['uprobe.s', 'uprobe'], ['uretprobe.s', 'uretprobe'], ['uprobe', 'uprobe'], ['uretprobe', 'uretprobe'],
  ['usdt', 'usdt'],
  ['fentry.s/', 'fentry'], ['fentry/', 'fentry'], ['fexit.s/', 'fexit'], ['fexit/', 'fexit'], ['fmod_ret.s/', 'fmod_ret'], ['fmod_ret/', 'fmod_ret'],
  ['lsm.s/', 'lsm'], ['lsm_cgroup/', 'lsm'], ['lsm/', 'lsm'],
  ['iter.s/', 'iter'], ['iter/', 'iter'],
  ['perf_event', 'perf_event'],
  ['xdp.frags', 'xdp'], ['xdp', 'xdp'],
  ['tcx/', 'tc'], ['tc/', 'tc'], ['tc', 'tc'], ['classifier', 'tc'], ['action', 'tc'], ['netkit/', 'tc'],
  ['socket', 'socket'], ['sk_skb', 'socket'], ['sk_msg', 'socket'], ['sockops', 'cgroup'],
  ['cgroup_skb/', 'cgroup'], ['cgroup/', 'cgroup'],
  ['syscall', 'syscall'],
];

/** 'tracepoint/sched/sched_process_exec' → { kind: 'tracepoint', target: 'sched/sched_process_exec' }. */
export function classifySection(section: string): { kind: AttachKind; target: string } {
  for (const [prefix, kind] of SECTION_KINDS) {
    if (!section.startsWith(prefix)) continue;
    const rest = section.slice(prefix.length);
    if (prefix.endsWith('/')) return { kind, target: rest };
    // Prefix without slash matches only the whole name or name + '/…' (e.g. 'uprobe', 'uprobe/…').
    if (rest === '') return { kind, target: '' };
    if (rest.startsWith('/')) return { kind, target: rest.slice(1) };
  }
  return { kind: 'other', target: '' };
}

const HINT_COMPILE = 'compile with: clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o';

/** Reads maps, programs, helper calls and BTF from a BPF object. Throws ElfError (wrapped with the file name) when it is not one. */
export function readBpfObject(bytes: Uint8Array, opts: ReadBpfObjectOptions = {}): BpfObjectInfo {
  try {
    return readObject(bytes, opts);
  } catch (err) {
    // Prefix the file name, keep the error's type and hint.
    if (opts.file && err instanceof ElfError) throw withCause(new ElfError(`${opts.file}: ${err.message}`, err.hint, err.detail), err);
    if (opts.file && err instanceof BtfError) throw withCause(new BtfError(`${opts.file}: BTF: ${err.message}`, err.hint), err);
    throw err;
  }
}

/**
 * Loading (libbpf: "BTF is required, but is missing or corrupted"), typed events and the
 * object-layer lint all need the object's BTF. Throws a StudioError (code ENOBTF) naming the fix.
 */
export function requireBtf(obj: BpfObjectInfo): void {
  if (obj.hasBtf) return;
  const name = obj.file ? obj.file.split('/').pop() : 'the object';
  throw new StudioError(`${name} has no BTF (no .BTF section): it was compiled without -g, or the section was stripped`, {
    code: 'ENOBTF',
    hint: 'rebuild with -g: clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o (or ringbuf-studio build); llvm-strip -g and objcopy --strip-debug remove .BTF too',
  });
}

function withCause<E extends Error>(e: E, cause: unknown): E {
  Object.defineProperty(e, 'cause', { value: cause, enumerable: false });
  return e;
}

function readObject(bytes: Uint8Array, opts: ReadBpfObjectOptions): BpfObjectInfo {
  const elf = parseElf(bytes);
  if (elf.machine !== EM_BPF) {
    throw new ElfError(`not a BPF object (machine ${machineDescription(elf.machine)}); compile with clang -target bpf`, HINT_COMPILE);
  }
  if (opts.targetEndian && (opts.targetEndian === 'little') !== elf.littleEndian) {
    throw elf.littleEndian
      ? new ElfError('object is little-endian (bpfel) but the target is big-endian; compile with -target bpfeb', 'build for the target: clang -target bpfeb (or -target bpf on the target itself)')
      : new ElfError('object is big-endian (bpfeb) but the target is little-endian; compile with -target bpf', 'clang -target bpf picks the host byte order; use -target bpfel to be explicit');
  }
  const warnings: string[] = [];
  const btfSec = elf.section('.BTF');
  let btf: Btf | undefined;
  if (btfSec && btfSec.size > 0) btf = parseBtf(btfSec.data);
  let btfExt: BtfExt | undefined;
  const extSec = elf.section('.BTF.ext');
  if (btf && extSec && extSec.size > 0) {
    try {
      btfExt = parseBtfExt(extSec.data, btf);
    } catch (err) {
      if (!(err instanceof BtfError)) throw err;
      warnings.push(`.BTF.ext ignored: ${err.message}`);
    }
  }

  const maps = readMaps(elf, btf, warnings);
  const programs = readPrograms(elf, maps, btfExt);
  const licSec = elf.section('license');
  const license = licSec ? readCString(licSec.data, 0) : undefined;
  const globals = readGlobals(elf, btf);
  const hasLineInfo = !!btfExt && [...btfExt.lineInfo.values()].some((l) => l.length > 0);
  return {
    ...(opts.file !== undefined ? { file: opts.file } : {}),
    littleEndian: elf.littleEndian,
    maps,
    programs,
    ...(btf ? { btf } : {}),
    ...(btfExt ? { btfExt } : {}),
    hasBtf: !!btf,
    hasLineInfo,
    ...(license !== undefined ? { license } : {}),
    globals,
    warnings,
  };
}

function readMaps(elf: ElfFile, btf: Btf | undefined, warnings: string[]): BpfMapInfo[] {
  const maps: BpfMapInfo[] = [];
  const mapsSec = elf.section('.maps');
  if (mapsSec) {
    const sec = btf?.findByName('.maps', 'datasec');
    if (btf && sec && sec.kind === 'datasec') {
      // clang leaves DATASEC offsets at 0 in the object (libbpf fills them from the symbol table at load), so take them from the symbols.
      const symOffset = new Map(symbolsIn(elf, mapsSec).map((s) => [s.name, s.value] as const));
      for (const v of sec.vars) {
        const map = readBtfMap(btf, v.type, v.offset);
        map.offset = symOffset.get(map.name) ?? v.offset;
        maps.push(map);
      }
    } else {
      // No BTF: names from symbols, nothing else is knowable.
      warnings.push('.maps has no BTF description; map types and sizes are unknown (compile with -g)');
      for (const s of symbolsIn(elf, mapsSec)) {
        maps.push({ name: s.name, type: 0, typeName: 'unknown', hasKeyField: false, hasValueField: false, section: '.maps', offset: s.value });
      }
    }
  }
  // Legacy: SEC("maps") struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }.
  for (const sec of elf.sections) {
    if (sec.name !== 'maps' && !sec.name.startsWith('maps/')) continue;
    const le = elf.littleEndian;
    const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
    for (const s of symbolsIn(elf, sec)) {
      if (s.value + 16 > sec.data.length) {
        warnings.push(`legacy map ${s.name} runs past the end of section ${sec.name}`);
        continue;
      }
      const type = dv.getUint32(s.value, le);
      const mapFlags = s.value + 20 <= sec.data.length ? dv.getUint32(s.value + 16, le) : undefined;
      maps.push({
        name: s.name,
        type,
        typeName: mapTypeName(type),
        keySize: dv.getUint32(s.value + 4, le),
        valueSize: dv.getUint32(s.value + 8, le),
        maxEntries: dv.getUint32(s.value + 12, le),
        ...(mapFlags !== undefined ? { mapFlags } : {}),
        hasKeyField: true,
        hasValueField: true,
        section: sec.name,
        offset: s.value,
      });
    }
  }
  return maps;
}

/** Map attributes in BTF: `int (*max_entries)[N]` (pointer to array of N) and `T *key` for __type(key, T). */
function readBtfMap(btf: Btf, varId: number, offset: number): BpfMapInfo {
  const v = btf.type(varId);
  const name = v.name;
  const def = v.kind === 'var' ? btf.resolve(v.type) : v;
  const info: BpfMapInfo = { name, type: 0, typeName: 'unknown', hasKeyField: false, hasValueField: false, section: '.maps', offset, btfVarId: varId };
  if (def.kind !== 'struct') return info;
  for (const m of def.members) {
    const num = (): number | undefined => {
      const p = btf.resolve(m.type);
      if (p.kind !== 'ptr') return undefined;
      const arr = btf.resolve(p.type);
      return arr.kind === 'array' ? arr.nelems : undefined;
    };
    switch (m.name) {
      case 'type': {
        const t = num();
        if (t !== undefined) {
          info.type = t;
          info.typeName = mapTypeName(t);
        }
        break;
      }
      case 'max_entries': setNum(info, 'maxEntries', num()); break;
      case 'map_flags': setNum(info, 'mapFlags', num()); break;
      case 'key_size': setNum(info, 'keySize', num()); info.hasKeyField = true; break;
      case 'value_size': setNum(info, 'valueSize', num()); info.hasValueField = true; break;
      case 'key':
      case 'value': {
        info[m.name === 'key' ? 'hasKeyField' : 'hasValueField'] = true;
        const p = btf.resolve(m.type);
        if (p.kind !== 'ptr') break;
        const size = btf.sizeOf(p.type);
        if (m.name === 'key') {
          info.keyTypeId = p.type;
          if (size !== undefined) info.keySize = size;
        } else {
          info.valueTypeId = p.type;
          if (size !== undefined) info.valueSize = size;
        }
        break;
      }
      default:
        break;
    }
  }
  if (info.type === BPF_MAP_TYPE_RINGBUF && info.valueTypeId !== undefined && isRecordType(btf.resolve(info.valueTypeId))) {
    info.declaredValueType = { ...layoutOf(btf, info.valueTypeId), origin: 'declared' };
  }
  return info;
}

function isRecordType(t: BtfType): boolean {
  return t.kind === 'struct' || t.kind === 'union';
}

function setNum<K extends 'maxEntries' | 'mapFlags' | 'keySize' | 'valueSize'>(info: BpfMapInfo, key: K, v: number | undefined): void {
  if (v !== undefined) info[key] = v;
}

function symbolsIn(elf: ElfFile, sec: ElfSection): ElfSymbol[] {
  return elf.symbolsOf(sec).filter((s) => s.type !== STT_SECTION && s.name !== '' && (s.bind === STB_GLOBAL || s.bind === STB_WEAK || s.type !== STT_FUNC));
}

function readGlobals(elf: ElfFile, btf: Btf | undefined): BpfGlobal[] {
  if (!btf) return [];
  const bySection = new Map<string, Map<string, number>>();
  const symOffset = (section: string, name: string): number | undefined => {
    let names = bySection.get(section);
    if (!names) {
      const sec = elf.section(section);
      names = new Map((sec ? elf.symbolsOf(sec) : []).map((s) => [s.name, s.value] as const));
      bySection.set(section, names);
    }
    return names.get(name);
  };
  const out: BpfGlobal[] = [];
  for (let id = 1; id < btf.count; id++) {
    if (btf.kindOf(id) !== 'datasec') continue;
    const sec = btf.type(id);
    if (sec.kind !== 'datasec' || sec.name === '.maps') continue;
    for (const v of sec.vars) {
      const vt = btf.type(v.type);
      out.push({ name: vt.name, section: sec.name, offset: v.offset || (symOffset(sec.name, vt.name) ?? 0), size: v.size, typeId: vt.kind === 'var' ? vt.type : vt.id });
    }
  }
  return out;
}

function readPrograms(elf: ElfFile, maps: BpfMapInfo[], btfExt: BtfExt | undefined): BpfProgramInfo[] {
  const programs: BpfProgramInfo[] = [];
  const le = elf.littleEndian;
  for (const sec of elf.sections) {
    // sec.data, not sec.size: a NOBITS/NULL section may claim any size but has no bytes (found by fuzzing: a huge claimed size made this loop run for hours).
    if ((sec.flags & SHF_EXECINSTR) === 0 || sec.name === '.text' || sec.data.length === 0) continue;
    const { kind, target } = classifySection(sec.name);
    const insnCount = Math.floor(sec.data.length / 8);
    const funcs = elf
      .symbolsOf(sec)
      .filter((s) => s.type === STT_FUNC && (s.bind === STB_GLOBAL || s.bind === STB_WEAK))
      .sort((a, b) => a.value - b.value);
    const ranges: Array<{ name: string; start: number; end: number }> = funcs.length
      ? funcs.map((f, i) => {
          const start = Math.min(Math.floor(f.value / 8), insnCount);
          const next = funcs[i + 1];
          const nextStart = next ? Math.floor(next.value / 8) : insnCount;
          const endBySize = f.size > 0 ? start + Math.floor(f.size / 8) : nextStart;
          // Functions do not overlap; clamping also keeps hostile symbol tables linear.
          return { name: f.name, start, end: Math.min(endBySize, insnCount, nextStart > start ? nextStart : insnCount) };
        })
      : [{ name: sec.name, start: 0, end: insnCount }];

    const mapAtLdImm = mapRelocations(elf, sec, maps);
    // Aliased/overlapping function symbols would rescan the same code; bound the total work.
    let budget = 4 * insnCount + 4096;
    for (const r of ranges) {
      budget -= r.end - r.start;
      const helperCalls = budget >= 0 ? scanHelperCalls(sec, le, r.start, r.end, mapAtLdImm) : [];
      const first = btfExt?.lineAt(sec.name, r.start);
      for (const call of helperCalls) {
        const li = btfExt?.lineAt(sec.name, call.sectionInsnIndex);
        if (li && li.insnIndex >= r.start) {
          call.line = li.line;
          call.column = li.column;
          call.file = li.file;
        }
      }
      programs.push({
        name: r.name,
        section: sec.name,
        attachKind: kind,
        attachTarget: target,
        insnCount: r.end - r.start,
        sectionInsnStart: r.start,
        helperCalls,
        ...(first && first.insnIndex >= r.start ? { line: first.line, file: first.file } : {}),
      });
    }
  }
  return programs;
}

/**
 * The source line of a program's instruction (as the verifier log numbers them) from .BTF.ext;
 * undefined past the program's own instructions (subprograms libbpf appends from .text).
 */
export function programLineInfo(obj: BpfObjectInfo, programName: string): ((insn: number) => { file: string; line: number } | undefined) | undefined {
  const prog = obj.programs.find((p) => p.name === programName);
  const ext = obj.btfExt;
  if (!prog || !ext) return undefined;
  return (insn) => {
    if (insn < 0 || insn >= prog.insnCount) return undefined;
    const li = ext.lineAt(prog.section, prog.sectionInsnStart + insn);
    return li && li.insnIndex >= prog.sectionInsnStart ? { file: li.file, line: li.line } : undefined;
  };
}

/** Instruction index → map name for every relocation in `sec` that points at a map definition. */
function mapRelocations(elf: ElfFile, sec: ElfSection, maps: BpfMapInfo[]): Map<number, string> {
  const out = new Map<number, string>();
  if (maps.length === 0) return out;
  const mapAt = new Map(maps.map((m) => [`${m.section}\0${m.offset}`, m.name] as const));
  const le = elf.littleEndian;
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  for (const rel of elf.relocationsFor(sec)) {
    const sym = elf.symbols[rel.symbolIndex];
    if (!sym || rel.offset % 8 !== 0 || rel.offset + 8 > sec.data.length) continue;
    const symSec = elf.sections[sym.sectionIndex];
    if (!symSec) continue;
    // A relocation against the section symbol carries the map's offset in the instruction's imm.
    const offset = sym.type === STT_SECTION ? dv.getInt32(rel.offset + 4, le) : sym.value;
    const map = mapAt.get(`${symSec.name}\0${offset}`);
    if (map !== undefined) out.set(rel.offset / 8, map);
  }
  return out;
}

/**
 * Helper calls in instructions [start, end) of a section. The map argument is tracked
 * through straight-line code only: an ld_imm64 with a map relocation sets a register,
 * any other write to it (or a call, which clobbers R1–R5) clears it; jumps are not
 * followed. That finds the usual `bpf_ringbuf_reserve(&rb, …)` pattern; a map pointer
 * kept in a callee-saved register across a call or chosen on a branch is not resolved.
 */
function scanHelperCalls(sec: ElfSection, le: boolean, start: number, end: number, mapAtLdImm: Map<number, string>): BpfHelperCall[] {
  const code = sec.data;
  const calls: BpfHelperCall[] = [];
  const regMap: Array<string | undefined> = new Array<string | undefined>(11);
  const dv = new DataView(code.buffer, code.byteOffset, code.byteLength);
  for (let i = start; i < end; i++) {
    const o = i * 8;
    const op = code[o] ?? 0;
    const regs = code[o + 1] ?? 0;
    const dst = le ? regs & 0xf : regs >> 4;
    const src = le ? regs >> 4 : regs & 0xf;
    const cls = op & 7;
    if (op === 0x18) {
      // ld_imm64 spans two slots.
      if (dst <= 10) regMap[dst] = mapAtLdImm.get(i);
      i++;
      continue;
    }
    if (op === 0x85) {
      if (src === 0) {
        const id = dv.getInt32(o + 4, le);
        const mapReg = MAP_IN_R2.has(id) ? 2 : 1;
        const mapName = regMap[mapReg];
        calls.push({ helperId: id, name: helperName(id), insnIndex: i - start, sectionInsnIndex: i, ...(mapName ? { mapName } : {}) });
      }
      for (let r = 0; r <= 5; r++) regMap[r] = undefined;
      continue;
    }
    if (op === 0x95) {
      regMap.fill(undefined);
      continue;
    }
    if (cls === 0x04 || cls === 0x07 || cls === 0x00 || cls === 0x01) {
      // ALU/ALU64 and loads write dst; `rX = rY` copies a map pointer along.
      if (dst <= 10) regMap[dst] = (cls === 0x07 && op === 0xbf && src <= 10) ? regMap[src] : undefined;
    }
  }
  return calls;
}
