// BTF (BPF Type Format) reader. Designed for vmlinux-sized input (~5 MB, ~150k types):
// parseBtf makes one pass that records where each type starts (typed arrays) and
// validates every record's bounds and type references; type objects and names are
// decoded lazily on first use and cached. `btf.types` materialises all of them on
// first access (convenient, but costs more than the parse itself).
import { StudioError } from '../util/errors';
import { readCString } from '../util/stringTable';

export class BtfError extends StudioError {
  constructor(message: string, hint?: string) {
    super(message, { code: 'EBTF', ...(hint ? { hint } : {}) });
    this.name = 'BtfError';
  }
}

export const BTF_MAGIC = 0xeb9f;

export const BTF_KIND = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export type BtfKindName =
  | 'void' | 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'fwd' | 'typedef' | 'volatile' | 'const' | 'restrict'
  | 'func' | 'func_proto' | 'var' | 'datasec' | 'float' | 'decl_tag' | 'type_tag' | 'enum64';

const KIND_NAMES: readonly BtfKindName[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const', 'restrict',
  'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

interface Base {
  id: number;
  /** '' for anonymous types. */
  name: string;
}
export interface BtfVoid extends Base { kind: 'void' }
export interface BtfInt extends Base {
  kind: 'int';
  size: number;
  signed: boolean;
  char: boolean;
  bool: boolean;
  /** BTF_INT_OFFSET and BTF_INT_BITS (old-style bitfields encode width here). */
  bitOffset: number;
  bits: number;
}
export interface BtfPtr extends Base { kind: 'ptr'; type: number }
export interface BtfArray extends Base { kind: 'array'; type: number; indexType: number; nelems: number }
export interface BtfMember {
  name: string;
  type: number;
  /** Offset in bits from the start of the struct. */
  bitOffset: number;
  /** Bitfield width (0 when not a bitfield). */
  bitfieldSize: number;
}
export interface BtfStruct extends Base { kind: 'struct' | 'union'; size: number; members: BtfMember[] }
export interface BtfEnum extends Base { kind: 'enum'; size: number; signed: boolean; values: Array<{ name: string; value: number }> }
export interface BtfEnum64 extends Base { kind: 'enum64'; size: number; signed: boolean; values: Array<{ name: string; value: bigint }> }
export interface BtfFwd extends Base { kind: 'fwd'; fwdKind: 'struct' | 'union' }
export interface BtfModifier extends Base { kind: 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'; type: number }
export interface BtfFunc extends Base { kind: 'func'; type: number; /** 0 static, 1 global, 2 extern */ linkage: number }
export interface BtfFuncProto extends Base { kind: 'func_proto'; returnType: number; params: Array<{ name: string; type: number }> }
export interface BtfVar extends Base { kind: 'var'; type: number; /** 0 static, 1 global, 2 extern */ linkage: number }
export interface BtfDatasec extends Base { kind: 'datasec'; size: number; vars: Array<{ type: number; offset: number; size: number }> }
export interface BtfFloat extends Base { kind: 'float'; size: number }
export interface BtfDeclTag extends Base {
  kind: 'decl_tag';
  /** The tagged type (a struct/union/var/func/typedef). */
  type: number;
  /** -1 for the type itself, otherwise the member/parameter index. */
  componentIdx: number;
}

export type BtfType =
  | BtfVoid | BtfInt | BtfPtr | BtfArray | BtfStruct | BtfEnum | BtfEnum64 | BtfFwd | BtfModifier
  | BtfFunc | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;

const VOID: BtfVoid = Object.freeze<BtfVoid>({ id: 0, kind: 'void', name: '' });

export interface Btf {
  littleEndian: boolean;
  /** Number of types including void (valid ids are 0 … count-1). */
  readonly count: number;
  /** All types, index = type id (0 = void). Materialised on first access. */
  readonly types: readonly BtfType[];
  /** One type by id (decoded lazily, cached). Throws BtfError for an id out of range. */
  type(id: number): BtfType;
  kindOf(id: number): BtfKindName;
  nameOf(id: number): string;
  /** First type with this name (and kind, if given); e.g. findByName('event', 'struct'). */
  findByName(name: string, kind?: BtfKindName): BtfType | undefined;
  /** All type ids with this name. */
  findAllByName(name: string, kind?: BtfKindName): number[];
  /** Skips typedef/const/volatile/restrict/type_tag (cycle-guarded) and returns the underlying type. */
  resolve(id: number): BtfType;
  /** Size in bytes of a type (arrays multiply, pointers use the object's pointer size), or undefined when it has none. */
  sizeOf(id: number): number | undefined;
  /** Human C-ish name: "struct event", "u32", "char[16]", "const char *". */
  typeName(id: number): string;
  /** A string from the string section (for .BTF.ext line info). */
  str(off: number): string;
  /** decl_tag types pointing at `id` (componentIdx -1 = on the type itself). */
  declTagsOf(id: number): BtfDeclTag[];
  /** Raw bytes of the string section. */
  readonly strings: Uint8Array;
}

/** Hard limits against hostile input (vmlinux has ~150k types; a chain longer than this is a cycle). */
const MAX_RESOLVE_DEPTH = 64;
const MAX_NAME_DEPTH = 32;

/** Parses a raw .BTF section or a BTF blob such as /sys/kernel/btf/vmlinux. */
export function parseBtf(bytes: Uint8Array, opts: { pointerSize?: number } = {}): Btf {
  return new BtfImpl(bytes, opts.pointerSize ?? 8);
}

class BtfImpl implements Btf {
  readonly littleEndian: boolean;
  readonly count: number;
  readonly strings: Uint8Array;
  private readonly dv: DataView;
  private readonly typeBase: number;
  /** Byte offset (relative to typeBase) of each type record; [0] unused (void). */
  private readonly offsets: Uint32Array;
  private readonly kinds: Uint8Array;
  private readonly cache: Array<BtfType | undefined>;
  private allTypes: BtfType[] | undefined;
  private readonly nameCache = new Map<number, string>();
  private readonly byNameCache = new Map<string, number[]>();
  private declTags: Map<number, BtfDeclTag[]> | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly pointerSize: number,
  ) {
    if (bytes.length < 24) throw new BtfError(`BTF is truncated: ${bytes.length} bytes, the header alone is 24`, 'rebuild the object with clang -g');
    let le: boolean;
    if (bytes[0] === 0x9f && bytes[1] === 0xeb) le = true;
    else if (bytes[0] === 0xeb && bytes[1] === 0x9f) le = false;
    else throw new BtfError('not BTF data (bad magic; expected 0xeB9F)', 'pass a .BTF section or /sys/kernel/btf/vmlinux');
    this.littleEndian = le;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.dv = dv;
    const version = bytes[2];
    if (version !== 1) throw new BtfError(`unsupported BTF version ${version ?? '?'} (this reader knows version 1)`);
    const hdrLen = dv.getUint32(4, le);
    if (hdrLen < 24 || hdrLen > bytes.length) throw new BtfError(`bad BTF header length ${hdrLen}`, 'the BTF data is corrupt');
    const typeOff = dv.getUint32(8, le);
    const typeLen = dv.getUint32(12, le);
    const strOff = dv.getUint32(16, le);
    const strLen = dv.getUint32(20, le);
    const body = bytes.length - hdrLen;
    if (typeOff > body || typeLen > body - typeOff) throw new BtfError(`BTF type section (${typeLen} bytes at ${typeOff}) runs past the end (${body} bytes)`, 'the BTF data is truncated or corrupt');
    if (strOff > body || strLen > body - strOff) throw new BtfError(`BTF string section (${strLen} bytes at ${strOff}) runs past the end (${body} bytes)`, 'the BTF data is truncated or corrupt');
    if (typeOff % 4 !== 0) throw new BtfError(`BTF type section is misaligned (offset ${typeOff})`);
    this.strings = bytes.subarray(hdrLen + strOff, hdrLen + strOff + strLen);
    if (strLen > 0 && this.strings[0] !== 0) throw new BtfError('BTF string section does not start with an empty string', 'the BTF data is corrupt');
    this.typeBase = hdrLen + typeOff;

    // Pass 1: find each record's start; an upper bound on the count is typeLen / 12.
    const maxTypes = Math.floor(typeLen / 12) + 1;
    let offsets = new Uint32Array(maxTypes + 1);
    let kinds = new Uint8Array(maxTypes + 1);
    let n = 1;
    let p = 0;
    const base = this.typeBase;
    while (p < typeLen) {
      if (typeLen - p < 12) throw new BtfError(`BTF type ${n} is truncated (${typeLen - p} bytes left, need 12)`, 'the BTF data is corrupt');
      const info = dv.getUint32(base + p + 4, le);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      let extra: number;
      switch (kind) {
        case 1: case 14: case 17: extra = 4; break; // INT, VAR, DECL_TAG
        case 2: case 7: case 8: case 9: case 10: case 11: case 12: case 16: case 18: extra = 0; break;
        case 3: extra = 12; break;
        case 4: case 5: case 15: case 19: extra = 12 * vlen; break;
        case 6: case 13: extra = 8 * vlen; break;
        default:
          throw new BtfError(`BTF type ${n} has unknown kind ${kind}`, 'the BTF is corrupt or from a newer kernel/compiler than this reader knows');
      }
      const size = 12 + extra;
      if (size > typeLen - p) throw new BtfError(`BTF type ${n} (${KIND_NAMES[kind] ?? kind}) is truncated: needs ${size} bytes, ${typeLen - p} left`, 'the BTF data is corrupt');
      offsets[n] = p;
      kinds[n] = kind;
      n++;
      p += size;
    }
    if (n < offsets.length) {
      offsets = offsets.slice(0, n);
      kinds = kinds.slice(0, n);
    }
    this.offsets = offsets;
    this.kinds = kinds;
    this.count = n;
    this.cache = new Array<BtfType | undefined>(n);
    this.cache[0] = VOID;
    this.validateReferences();
  }

  /** Every type reference and name offset must be in range, so later lookups cannot fail on a valid parse. */
  private validateReferences(): void {
    const { dv, littleEndian: le, typeBase: base, offsets, kinds, count } = this;
    const strLen = this.strings.length;
    const badRef = (id: number, ref: number): never => {
      throw new BtfError(`BTF type ${id} (${KIND_NAMES[kinds[id] ?? 0] ?? '?'}) refers to type ${ref}, but there are only ${count} types`, 'the BTF data is corrupt');
    };
    const badStr = (id: number, off: number): never => {
      throw new BtfError(`BTF type ${id} has a name offset ${off} outside the string section (${strLen} bytes)`, 'the BTF data is corrupt');
    };
    for (let id = 1; id < count; id++) {
      const o = base + (offsets[id] ?? 0);
      const nameOff = dv.getUint32(o, le);
      if (nameOff >= strLen && nameOff !== 0) badStr(id, nameOff);
      const kind = kinds[id] ?? 0;
      const st = dv.getUint32(o + 8, le);
      switch (kind) {
        case 2: case 8: case 9: case 10: case 11: case 12: case 14: case 17: case 18:
          if (st >= count) badRef(id, st);
          break;
        case 13: {
          if (st >= count) badRef(id, st);
          const vlen = dv.getUint32(o + 4, le) & 0xffff;
          for (let i = 0; i < vlen; i++) {
            const t = dv.getUint32(o + 12 + i * 8 + 4, le);
            if (t >= count) badRef(id, t);
          }
          break;
        }
        case 3: {
          const t = dv.getUint32(o + 12, le);
          const it = dv.getUint32(o + 16, le);
          if (t >= count) badRef(id, t);
          if (it >= count) badRef(id, it);
          break;
        }
        case 4: case 5: {
          const vlen = dv.getUint32(o + 4, le) & 0xffff;
          for (let i = 0; i < vlen; i++) {
            const m = o + 12 + i * 12;
            const mn = dv.getUint32(m, le);
            if (mn >= strLen && mn !== 0) badStr(id, mn);
            const t = dv.getUint32(m + 4, le);
            if (t >= count) badRef(id, t);
          }
          break;
        }
        case 15: {
          const vlen = dv.getUint32(o + 4, le) & 0xffff;
          for (let i = 0; i < vlen; i++) {
            const t = dv.getUint32(o + 12 + i * 12, le);
            if (t >= count) badRef(id, t);
          }
          break;
        }
        case 6: case 19: {
          const vlen = dv.getUint32(o + 4, le) & 0xffff;
          const step = kind === 6 ? 8 : 12;
          for (let i = 0; i < vlen; i++) {
            const mn = dv.getUint32(o + 12 + i * step, le);
            if (mn >= strLen && mn !== 0) badStr(id, mn);
          }
          break;
        }
        default:
          break;
      }
    }
  }

  str(off: number): string {
    const hit = this.nameCache.get(off);
    if (hit !== undefined) return hit;
    const s = readCString(this.strings, off);
    this.nameCache.set(off, s);
    return s;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.count) {
      throw new BtfError(`BTF type id ${id} is out of range (0…${this.count - 1})`);
    }
  }

  kindOf(id: number): BtfKindName {
    this.checkId(id);
    return KIND_NAMES[this.kinds[id] ?? 0] ?? 'void';
  }

  nameOf(id: number): string {
    this.checkId(id);
    if (id === 0) return '';
    return this.str(this.dv.getUint32(this.typeBase + (this.offsets[id] ?? 0), this.littleEndian));
  }

  get types(): readonly BtfType[] {
    if (!this.allTypes) {
      const all = new Array<BtfType>(this.count);
      for (let i = 0; i < this.count; i++) all[i] = this.type(i);
      this.allTypes = all;
    }
    return this.allTypes;
  }

  type(id: number): BtfType {
    this.checkId(id);
    const hit = this.cache[id];
    if (hit) return hit;
    const t = this.decode(id);
    this.cache[id] = t;
    return t;
  }

  private decode(id: number): BtfType {
    const { dv, littleEndian: le } = this;
    const o = this.typeBase + (this.offsets[id] ?? 0);
    const name = this.str(dv.getUint32(o, le));
    const info = dv.getUint32(o + 4, le);
    const kind = this.kinds[id] ?? 0;
    const vlen = info & 0xffff;
    const kflag = (info >>> 31) === 1;
    const st = dv.getUint32(o + 8, le);
    switch (kind) {
      case BTF_KIND.INT: {
        const enc = dv.getUint32(o + 12, le);
        const encoding = (enc >>> 24) & 0xf;
        return { id, kind: 'int', name, size: st, signed: (encoding & 1) !== 0, char: (encoding & 2) !== 0, bool: (encoding & 4) !== 0, bitOffset: (enc >>> 16) & 0xff, bits: enc & 0xff };
      }
      case BTF_KIND.PTR:
        return { id, kind: 'ptr', name, type: st };
      case BTF_KIND.ARRAY:
        return { id, kind: 'array', name, type: dv.getUint32(o + 12, le), indexType: dv.getUint32(o + 16, le), nelems: dv.getUint32(o + 20, le) };
      case BTF_KIND.STRUCT:
      case BTF_KIND.UNION: {
        const members: BtfMember[] = new Array<BtfMember>(vlen);
        for (let i = 0; i < vlen; i++) {
          const m = o + 12 + i * 12;
          const off = dv.getUint32(m + 8, le);
          members[i] = {
            name: this.str(dv.getUint32(m, le)),
            type: dv.getUint32(m + 4, le),
            bitOffset: kflag ? off & 0xffffff : off,
            bitfieldSize: kflag ? off >>> 24 : 0,
          };
        }
        return { id, kind: kind === BTF_KIND.STRUCT ? 'struct' : 'union', name, size: st, members };
      }
      case BTF_KIND.ENUM: {
        const values = new Array<{ name: string; value: number }>(vlen);
        for (let i = 0; i < vlen; i++) {
          const m = o + 12 + i * 8;
          values[i] = { name: this.str(dv.getUint32(m, le)), value: kflag ? dv.getInt32(m + 4, le) : dv.getUint32(m + 4, le) };
        }
        return { id, kind: 'enum', name, size: st, signed: kflag, values };
      }
      case BTF_KIND.ENUM64: {
        const values = new Array<{ name: string; value: bigint }>(vlen);
        for (let i = 0; i < vlen; i++) {
          const m = o + 12 + i * 12;
          const lo = BigInt(dv.getUint32(m + 4, le));
          const hi = BigInt(dv.getUint32(m + 8, le));
          const u = (hi << 32n) | lo;
          values[i] = { name: this.str(dv.getUint32(m, le)), value: kflag ? BigInt.asIntN(64, u) : u };
        }
        return { id, kind: 'enum64', name, size: st, signed: kflag, values };
      }
      case BTF_KIND.FWD:
        return { id, kind: 'fwd', name, fwdKind: kflag ? 'union' : 'struct' };
      case BTF_KIND.TYPEDEF:
      case BTF_KIND.VOLATILE:
      case BTF_KIND.CONST:
      case BTF_KIND.RESTRICT:
      case BTF_KIND.TYPE_TAG:
        return { id, kind: KIND_NAMES[kind] as BtfModifier['kind'], name, type: st };
      case BTF_KIND.FUNC:
        return { id, kind: 'func', name, type: st, linkage: vlen };
      case BTF_KIND.FUNC_PROTO: {
        const params = new Array<{ name: string; type: number }>(vlen);
        for (let i = 0; i < vlen; i++) {
          const m = o + 12 + i * 8;
          params[i] = { name: this.str(dv.getUint32(m, le)), type: dv.getUint32(m + 4, le) };
        }
        return { id, kind: 'func_proto', name, returnType: st, params };
      }
      case BTF_KIND.VAR:
        return { id, kind: 'var', name, type: st, linkage: dv.getUint32(o + 12, le) };
      case BTF_KIND.DATASEC: {
        const vars = new Array<{ type: number; offset: number; size: number }>(vlen);
        for (let i = 0; i < vlen; i++) {
          const m = o + 12 + i * 12;
          vars[i] = { type: dv.getUint32(m, le), offset: dv.getUint32(m + 4, le), size: dv.getUint32(m + 8, le) };
        }
        return { id, kind: 'datasec', name, size: st, vars };
      }
      case BTF_KIND.FLOAT:
        return { id, kind: 'float', name, size: st };
      case BTF_KIND.DECL_TAG:
        return { id, kind: 'decl_tag', name, type: st, componentIdx: dv.getInt32(o + 12, le) };
      default:
        throw new BtfError(`BTF type ${id} has unknown kind ${kind}`);
    }
  }

  findAllByName(name: string, kind?: BtfKindName): number[] {
    const key = name;
    let ids = this.byNameCache.get(key);
    if (!ids) {
      ids = this.scanName(name);
      this.byNameCache.set(key, ids);
    }
    if (!kind) return ids;
    const k = KIND_NAMES.indexOf(kind);
    return ids.filter((id) => this.kinds[id] === k);
  }

  findByName(name: string, kind?: BtfKindName): BtfType | undefined {
    const ids = this.findAllByName(name, kind);
    // Prefer a complete definition over a forward declaration.
    const best = ids.find((id) => this.kinds[id] !== BTF_KIND.FWD) ?? ids[0];
    return best === undefined ? undefined : this.type(best);
  }

  /** Compares name bytes in the string table directly: no string is decoded for non-matches. */
  private scanName(name: string): number[] {
    const want = new TextEncoder().encode(name);
    const out: number[] = [];
    if (want.length === 0) return out;
    const { dv, littleEndian: le, typeBase, offsets, strings } = this;
    const first = want[0];
    const len = want.length;
    for (let id = 1; id < this.count; id++) {
      const off = dv.getUint32(typeBase + (offsets[id] ?? 0), le);
      if (off === 0 || strings[off] !== first) continue;
      if (off + len >= strings.length || strings[off + len] !== 0) continue;
      let eq = true;
      for (let i = 1; i < len; i++) {
        if (strings[off + i] !== want[i]) {
          eq = false;
          break;
        }
      }
      if (eq) out.push(id);
    }
    return out;
  }

  resolve(id: number): BtfType {
    let t = this.type(id);
    for (let depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
      if (t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') {
        t = this.type(t.type);
      } else {
        return t;
      }
    }
    throw new BtfError(`BTF type ${id} is part of a typedef/modifier cycle (more than ${MAX_RESOLVE_DEPTH} levels)`, 'the BTF data is corrupt');
  }

  sizeOf(id: number): number | undefined {
    let mult = 1;
    let cur = id;
    for (let depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
      const t = this.resolve(cur);
      switch (t.kind) {
        case 'int': case 'struct': case 'union': case 'enum': case 'enum64': case 'float': case 'datasec':
          return mult * t.size;
        case 'ptr':
          return mult * this.pointerSize;
        case 'array':
          mult *= t.nelems;
          if (mult > 0xffffffff) return undefined;
          cur = t.type;
          continue;
        case 'var':
          cur = t.type;
          continue;
        default:
          return undefined;
      }
    }
    return undefined;
  }

  /** Bounds the work of one typeName() call: hostile BTF can make the name tree exponential. */
  private nameBudget = 0;

  typeName(id: number): string {
    this.nameBudget = 4096;
    return this.nameAt(id, 0);
  }

  private nameAt(id: number, depth: number): string {
    if (depth > MAX_NAME_DEPTH || --this.nameBudget < 0) return '…';
    const t = this.type(id);
    const n = t.name;
    switch (t.kind) {
      case 'void': return 'void';
      case 'int': case 'float': case 'typedef': return n || `<anon ${t.kind}>`;
      case 'struct': case 'union': return `${t.kind} ${n || '(anon)'}`;
      case 'enum': case 'enum64': return `enum ${n || '(anon)'}`;
      case 'fwd': return `${t.fwdKind} ${n}`;
      case 'ptr': {
        const target = this.type(t.type);
        if (target.kind === 'func_proto') return this.nameAt(t.type, depth + 1);
        const inner = this.nameAt(t.type, depth + 1);
        return inner.endsWith('*') ? `${inner}*` : `${inner} *`;
      }
      case 'array': {
        // int a[2][3] is array(2) of array(3) of int: print the outer count first.
        const dims: number[] = [t.nelems];
        let elem = t.type;
        for (let d = 0; d < MAX_NAME_DEPTH; d++) {
          const e = this.type(elem);
          if (e.kind !== 'array') break;
          dims.push(e.nelems);
          elem = e.type;
        }
        return `${this.nameAt(elem, depth + 1)}${dims.map((c) => `[${c}]`).join('')}`;
      }
      case 'const': case 'volatile': case 'restrict': {
        const inner = this.nameAt(t.type, depth + 1);
        return inner.endsWith('*') ? `${inner} ${t.kind}` : `${t.kind} ${inner}`;
      }
      case 'type_tag': return this.nameAt(t.type, depth + 1);
      case 'func': return n;
      case 'func_proto': {
        const ret = this.nameAt(t.returnType, depth + 1);
        const params = t.params.map((p) => (p.type === 0 ? '...' : this.nameAt(p.type, depth + 1)));
        return `${ret} (*)(${params.join(', ')})`;
      }
      case 'var': return n;
      case 'datasec': return n;
      case 'decl_tag': return n;
    }
  }

  declTagsOf(id: number): BtfDeclTag[] {
    if (!this.declTags) {
      const m = new Map<number, BtfDeclTag[]>();
      for (let i = 1; i < this.count; i++) {
        if (this.kinds[i] !== BTF_KIND.DECL_TAG) continue;
        const t = this.type(i) as BtfDeclTag;
        const list = m.get(t.type);
        if (list) list.push(t);
        else m.set(t.type, [t]);
      }
      this.declTags = m;
    }
    return this.declTags.get(id) ?? [];
  }

  /** Raw input (kept for tools that want to re-emit it). */
  get raw(): Uint8Array {
    return this.bytes;
  }
}
