// A small, bounds-checked ELF64 reader: sections, symbols and relocations — what a
// BPF object needs. Every offset and count read from the file is checked against the
// buffer before use, so malformed input ends in an ElfError, never a crash or a hang.
import { StudioError } from '../util/errors';
import { readCString } from '../util/stringTable';

export class ElfError extends StudioError {
  constructor(message: string, hint?: string, detail?: string) {
    super(message, { code: 'EELF', ...(hint ? { hint } : {}), ...(detail ? { detail } : {}) });
    this.name = 'ElfError';
  }
}

export const EM_BPF = 247;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  /** File offset of the section's bytes. */
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** A view of the section's bytes (empty for SHT_NOBITS such as .bss). */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  value: number;
  size: number;
  /** Section index (st_shndx); SHN_UNDEF/SHN_ABS/SHN_COMMON or ≥ SHN_LORESERVE are special. */
  sectionIndex: number;
  bind: number;
  type: number;
  /** STV_* visibility (st_other & 3). */
  visibility: number;
}

export interface ElfRelocation {
  /** Byte offset inside the section the relocations apply to. */
  offset: number;
  /** Index into the symbol table. */
  symbolIndex: number;
  type: number;
  /** Only for SHT_RELA. */
  addend?: number;
}

export interface ElfFile {
  littleEndian: boolean;
  /** ET_REL (1) for a clang-compiled BPF object. */
  type: number;
  machine: number;
  sections: ElfSection[];
  /** Symbols of the (first) SHT_SYMTAB; index 0 is the null symbol. Empty if there is none. */
  symbols: ElfSymbol[];
  section(name: string): ElfSection | undefined;
  /** Symbols defined in `section` (st_shndx = its index). */
  symbolsOf(section: ElfSection): ElfSymbol[];
  /** Relocations that apply to `target` (from `.rel<name>` / `.rela<name>`, matched by sh_info). */
  relocationsFor(target: ElfSection): ElfRelocation[];
  /** Reads the relocation entries of one SHT_REL/SHT_RELA section. */
  relocations(relSection: ElfSection): ElfRelocation[];
}

const HINT_COMPILE = 'compile the program with: clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o';

/** Reads 64-bit fields as numbers; values beyond 2^53 (never valid offsets here) become Infinity-like sentinels. */
class Reader {
  readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(off: number): number {
    return this.dv.getUint8(off);
  }
  u16(off: number): number {
    return this.dv.getUint16(off, this.le);
  }
  u32(off: number): number {
    return this.dv.getUint32(off, this.le);
  }
  /** u64 as a number; values ≥ 2^53 are returned as Number.MAX_SAFE_INTEGER so range checks fail cleanly. */
  u64(off: number): number {
    const lo = this.dv.getUint32(off + (this.le ? 0 : 4), this.le);
    const hi = this.dv.getUint32(off + (this.le ? 4 : 0), this.le);
    if (hi >= 0x200000) return Number.MAX_SAFE_INTEGER;
    return hi * 0x1_0000_0000 + lo;
  }
  i64(off: number): number {
    const lo = this.dv.getUint32(off + (this.le ? 0 : 4), this.le);
    const hi = this.dv.getInt32(off + (this.le ? 4 : 0), this.le);
    return hi * 0x1_0000_0000 + lo;
  }
}


function describeMachine(m: number): string {
  const known: Record<number, string> = { 3: 'x86', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V', 8: 'MIPS', 21: 'PowerPC64', 22: 'S/390' };
  const name = known[m];
  return name ? `${m}, ${name}` : String(m);
}

/** Parses an ELF64 file (either byte order). Throws ElfError on anything malformed. */
export function parseElf(bytes: Uint8Array): ElfFile {
  const header = readHeader(bytes);
  const { r } = header;
  const sections = readSections(bytes, header);
  const symbols = readSymbols(r, sections);
  const byName = new Map<string, ElfSection>();
  for (const s of sections) if (!byName.has(s.name)) byName.set(s.name, s);
  const relocations = (rel: ElfSection): ElfRelocation[] => readRelocations(rel, r.le);

  // Indexed once, so per-section lookups stay linear even with tens of thousands of sections.
  const relSections = new Map<number, ElfSection[]>();
  for (const s of sections) {
    if ((s.type !== SHT_REL && s.type !== SHT_RELA) || s.info === s.index) continue;
    const list = relSections.get(s.info);
    if (list) list.push(s);
    else relSections.set(s.info, [s]);
  }
  const bySection = new Map<number, ElfSymbol[]>();
  for (const sym of symbols) {
    const list = bySection.get(sym.sectionIndex);
    if (list) list.push(sym);
    else bySection.set(sym.sectionIndex, [sym]);
  }

  return {
    littleEndian: r.le,
    type: header.type,
    machine: header.machine,
    sections,
    symbols,
    section: (name) => byName.get(name),
    symbolsOf: (sec) => bySection.get(sec.index) ?? [],
    relocations,
    relocationsFor: (target) => (relSections.get(target.index) ?? []).flatMap((s) => relocations(s)),
  };
}

interface ElfHeader {
  r: Reader;
  type: number;
  machine: number;
  /** Section header table: offset, entry count, and the section names' table index (extended numbering resolved). */
  shoff: number;
  shnum: number;
  shstrndx: number;
}

/** The ELF header, checked: magic, ELF64, byte order, a section header table that fits the file. */
function readHeader(bytes: Uint8Array): ElfHeader {
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('not an ELF file (no \\x7fELF magic)', `pass a compiled BPF object (.o); ${HINT_COMPILE}`);
  }
  if (bytes.length < 64) throw new ElfError(`truncated ELF header (${bytes.length} of 64 bytes)`, 'the file is incomplete; rebuild it');
  const cls = bytes[4];
  if (cls === 1) {
    throw new ElfError('object is 32-bit ELF (ELFCLASS32); BPF objects are ELF64', `compile with clang -target bpf (${HINT_COMPILE})`);
  }
  if (cls !== 2) throw new ElfError(`unknown ELF class ${cls ?? '?'}`, 'the file is corrupt or not an object file');
  const data = bytes[5];
  if (data !== 1 && data !== 2) throw new ElfError(`unknown ELF byte order ${data ?? '?'}`, 'the file is corrupt');
  const r = new Reader(bytes, data === 1);
  const shoff = r.u64(40);
  const shentsize = r.u16(58);
  let shnum = r.u16(60);
  let shstrndx = r.u16(62);

  if (shoff === 0) throw new ElfError('ELF file has no section header table', 'rebuild the object; a linked/stripped file cannot be used');
  if (shentsize !== 64) throw new ElfError(`bad section header size ${shentsize} (expected 64)`, 'the file is corrupt');
  if (shoff + 64 > bytes.length) throw new ElfError('truncated at section header 0', 'the file is incomplete; rebuild it');
  // Extended numbering: the real count/index live in section 0.
  if (shnum === 0) shnum = r.u64(shoff + 32);
  if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + 40);
  if (shnum > (bytes.length - shoff) / 64) {
    const fit = Math.floor((bytes.length - shoff) / 64);
    throw new ElfError(`truncated at section header ${fit} (header claims ${shnum} sections)`, 'the file is incomplete or corrupt; rebuild it');
  }
  return { r, type: r.u16(16), machine: r.u16(18), shoff, shnum, shstrndx };
}

/** Every section header with its name and a view of its bytes; a section running past the end of the file is an error. */
function readSections(bytes: Uint8Array, h: ElfHeader): ElfSection[] {
  const { r, shoff, shnum, shstrndx } = h;
  const raw: Array<Omit<ElfSection, 'name' | 'data'> & { nameOff: number }> = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * 64;
    const s = {
      index: i,
      nameOff: r.u32(at),
      type: r.u32(at + 4),
      flags: r.u64(at + 8),
      offset: r.u64(at + 24),
      size: r.u64(at + 32),
      link: r.u32(at + 40),
      info: r.u32(at + 44),
      addralign: r.u64(at + 48),
      entsize: r.u64(at + 56),
    };
    if (i > 0 && s.type !== SHT_NOBITS && s.type !== SHT_NULL && (s.offset > bytes.length || s.size > bytes.length - s.offset)) {
      throw new ElfError(`truncated at section ${i}: its ${s.size} bytes at offset ${s.offset} run past the end of the file (${bytes.length} bytes)`, 'the file is incomplete or corrupt; rebuild it');
    }
    raw.push(s);
  }
  const dataOf = (s: { index: number; type: number; offset: number; size: number }): Uint8Array =>
    s.index === 0 || s.type === SHT_NOBITS || s.type === SHT_NULL ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size);

  const strtabRaw = shstrndx < raw.length ? raw[shstrndx] : undefined;
  if (!strtabRaw && shnum > 0) throw new ElfError(`section name table index ${shstrndx} is out of range (${shnum} sections)`, 'the file is corrupt');
  const shstr = strtabRaw ? dataOf(strtabRaw) : new Uint8Array(0);
  return raw.map((s) => ({
    index: s.index,
    name: readCString(shstr, s.nameOff),
    type: s.type,
    flags: s.flags,
    offset: s.offset,
    size: s.size,
    link: s.link,
    info: s.info,
    addralign: s.addralign,
    entsize: s.entsize,
    data: dataOf(s),
  }));
}

/** The entries of one SHT_REL/SHT_RELA section. */
function readRelocations(rel: ElfSection, le: boolean): ElfRelocation[] {
  if (rel.type !== SHT_REL && rel.type !== SHT_RELA) throw new ElfError(`section ${rel.name} is not a relocation section`);
  const isRela = rel.type === SHT_RELA;
  const ent = isRela ? 24 : 16;
  // data.length, not size: section 0 and NOBITS sections claim a size but have no bytes.
  if (rel.data.length % ent !== 0) {
    throw new ElfError(`relocation section ${rel.name || rel.index} has size ${rel.data.length}, not a multiple of ${ent}`, 'the file is corrupt');
  }
  const out: ElfRelocation[] = [];
  const rr = new Reader(rel.data, le);
  for (let off = 0; off < rel.data.length; off += ent) {
    const info = [rr.u32(off + 8 + (le ? 0 : 4)), rr.u32(off + 8 + (le ? 4 : 0))] as const; // [lo = type, hi = symbol]
    const reloc: ElfRelocation = { offset: rr.u64(off), symbolIndex: info[1], type: info[0] };
    if (isRela) reloc.addend = rr.i64(off + 16);
    out.push(reloc);
  }
  return out;
}

export function machineDescription(m: number): string {
  return describeMachine(m);
}

function readSymbols(r: Reader, sections: ElfSection[]): ElfSymbol[] {
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return [];
  if (symtab.entsize !== 0 && symtab.entsize !== 24) throw new ElfError(`bad symbol entry size ${symtab.entsize} (expected 24)`, 'the file is corrupt');
  // data.length, not size: a symbol table in section 0 or typed NOBITS claims a size but has no bytes.
  if (symtab.data.length % 24 !== 0) throw new ElfError(`symbol table size ${symtab.data.length} is not a multiple of 24`, 'the file is corrupt');
  const strSec = sections[symtab.link];
  if (!strSec || strSec.type !== SHT_STRTAB) throw new ElfError(`symbol table links to section ${symtab.link}, which is not a string table`, 'the file is corrupt');
  const strs = strSec.data;
  const count = symtab.data.length / 24;
  const out: ElfSymbol[] = new Array<ElfSymbol>(count);
  const sr = new Reader(symtab.data, r.le);
  for (let i = 0; i < count; i++) {
    const o = i * 24;
    const info = sr.u8(o + 4);
    const shndx = sr.u16(o + 6);
    out[i] = {
      index: i,
      name: readCString(strs, sr.u32(o)),
      bind: info >> 4,
      type: info & 0xf,
      visibility: sr.u8(o + 5) & 3,
      sectionIndex: shndx,
      value: sr.u64(o + 8),
      size: sr.u64(o + 16),
    };
  }
  return out;
}

/** True when a symbol's section index refers to a real section (not UNDEF/ABS/COMMON/reserved). */
export function isRegularSectionIndex(shndx: number): boolean {
  return shndx !== SHN_UNDEF && shndx < SHN_LORESERVE;
}
