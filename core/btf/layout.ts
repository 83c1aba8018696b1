// BTF type → EventLayout (core/decode/layout.ts): the JSON-serialisable description of
// a record that the decoder, the CLI and the webview use. Everything the decoder
// cannot interpret becomes `opaque` with its size, so a record always decodes.
import { byteSize, elided, fitStruct, MAX_DECODED_VALUES, valueCount } from './budget';
import type { EventLayout, FieldType, LayoutField, StructType } from './layoutTypes';
import type { Btf, BtfType } from './btf';
import { BtfError } from './btf';

const MAX_DEPTH = 48;
const CHAR_NAMES = new Set(['char', 'signed char', 'unsigned char']);

/**
 * Layout of a type given by id or by name: "struct event", "union u", "event" (struct,
 * then union, then typedef of that name), or a typedef name such as "event_t".
 * A type that is not a struct/union is wrapped in a one-field struct named `value`.
 * `origin` is 'btf'; callers that know better overwrite it.
 */
export function layoutOf(btf: Btf, type: number | string): EventLayout {
  const id = typeof type === 'number' ? type : findTypeId(btf, type);
  if (id === undefined) {
    throw new BtfError(`type '${String(type)}' is not in the object's BTF`, 'check the name; a struct used only through a pointer may need an explicit declaration (see "Event types")');
  }
  const builder = new LayoutBuilder(btf);
  const ft = builder.fieldType(id, 0);
  const typeName = btf.typeName(id);
  const root: StructType =
    ft.kind === 'struct' || ft.kind === 'union'
      ? ft
      : { kind: 'struct', name: typeName, size: byteSize(ft), fields: [{ name: 'value', offset: 0, type: ft }] };
  return { typeName, size: root.size, root, origin: 'btf' };
}

/** Type id for "struct X", "union X", "enum X", or a bare name (struct, union, typedef, then anything). */
export function findTypeId(btf: Btf, name: string): number | undefined {
  const m = /^\s*(struct|union|enum)\s+(\S+)\s*$/.exec(name);
  if (m) {
    const kind = m[1] as 'struct' | 'union' | 'enum';
    const bare = m[2] ?? '';
    return (btf.findByName(bare, kind) ?? (kind === 'enum' ? btf.findByName(bare, 'enum64') : undefined))?.id;
  }
  const bare = name.trim();
  for (const kind of ['struct', 'union', 'typedef'] as const) {
    const t = btf.findByName(bare, kind);
    if (t && t.kind !== 'fwd') return t.id;
  }
  return btf.findByName(bare)?.id;
}

/**
 * Types are bounded by the values they decode into (core/decode/budget.ts): array
 * elements × the element's values, members summed. Memoised types are shared, so hostile
 * BTF (struct A { B x, y; } B { C x, y; } …, or arrays of wide unions) could otherwise
 * expand exponentially in the decoder; an array over the bound is elided, a struct keeps
 * its members but elides the largest until it fits. task_struct is a few thousand values.
 */
class LayoutBuilder {
  private readonly memo = new Map<number, FieldType>();
  private readonly visiting = new Set<number>();
  constructor(private readonly btf: Btf) {}

  fieldType(id: number, depth: number): FieldType {
    const hit = this.memo.get(id);
    if (hit) return hit;
    if (depth > MAX_DEPTH || this.visiting.has(id)) return { kind: 'opaque', size: this.btf.sizeOf(id) ?? 0 };
    this.visiting.add(id);
    try {
      let ft = this.build(id, depth);
      if (valueCount(ft) > MAX_DECODED_VALUES) ft = ft.kind === 'struct' || ft.kind === 'union' ? fitStruct(ft, MAX_DECODED_VALUES) : elided(ft);
      this.memo.set(id, ft);
      return ft;
    } finally {
      this.visiting.delete(id);
    }
  }

  private build(id: number, depth: number): FieldType {
    const btf = this.btf;
    const t = btf.resolve(id);
    switch (t.kind) {
      case 'int': {
        if (t.size !== 1 && t.size !== 2 && t.size !== 4 && t.size !== 8) return { kind: 'opaque', size: t.size };
        return {
          kind: 'int',
          size: t.size,
          signed: t.signed,
          ...(t.bool ? { bool: true } : {}),
          ...(t.size === 1 && this.isCharNamed(id) ? { char: true } : {}),
        };
      }
      case 'ptr': {
        const size = btf.sizeOf(t.id);
        return { kind: 'ptr', size: size === 4 ? 4 : 8 };
      }
      case 'float':
        return t.size === 4 || t.size === 8 ? { kind: 'float', size: t.size } : { kind: 'opaque', size: t.size };
      case 'enum':
      case 'enum64': {
        if (t.size !== 1 && t.size !== 2 && t.size !== 4 && t.size !== 8) return { kind: 'opaque', size: t.size };
        return {
          kind: 'enum',
          name: btf.typeName(t.id),
          size: t.size,
          signed: t.signed,
          values: t.values.map((v) => ({ name: v.name, value: String(v.value) })),
        };
      }
      case 'array': {
        const elem = this.fieldType(t.type, depth + 1);
        const elemSize = byteSize(elem);
        if (elemSize === 0 && t.nelems > 0) return { kind: 'opaque', size: btf.sizeOf(t.id) ?? 0 };
        return { kind: 'array', elem, count: t.nelems, elemSize };
      }
      case 'struct':
      case 'union':
        return this.struct(t, depth);
      default:
        return { kind: 'opaque', size: btf.sizeOf(t.id) ?? 0 };
    }
  }

  /** char-ness comes from the spelled type: `char x[16]` yes, `__u8 x[16]` (typedef of unsigned char) no. */
  private isCharNamed(id: number): boolean {
    let t: BtfType = this.btf.type(id);
    for (let i = 0; i < 8 && (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'type_tag' || t.kind === 'restrict'); i++) {
      t = this.btf.type(t.type);
    }
    return t.kind === 'int' && (CHAR_NAMES.has(t.name) || (t.char && !t.name.startsWith('__u') && !t.name.startsWith('u')));
  }

  private struct(t: Extract<BtfType, { kind: 'struct' | 'union' }>, depth: number): StructType {
    const fields: LayoutField[] = [];
    for (const m of t.members) {
      let type = this.fieldType(m.type, depth + 1);
      let bitOff = m.bitOffset;
      let bitSize = m.bitfieldSize;
      if (bitSize === 0) {
        // Old-style (kind_flag 0) bitfield: the width lives in the INT encoding.
        const r = this.btf.resolve(m.type);
        if (r.kind === 'int' && r.bits > 0 && r.bits < r.size * 8) {
          bitSize = r.bits;
          bitOff += r.bitOffset;
        }
      }
      if (bitSize > 0 && (type.kind === 'int' || type.kind === 'enum')) {
        const unit = type.size;
        let offset = Math.floor(bitOff / (unit * 8)) * unit;
        if (bitOff - offset * 8 + bitSize > unit * 8) offset = Math.floor(bitOff / 8);
        fields.push({ name: m.name, offset, bitOffset: bitOff - offset * 8, bitSize, type });
        continue;
      }
      if (bitSize > 0) type = { kind: 'opaque', size: Math.ceil(bitSize / 8) };
      fields.push({ name: m.name, offset: Math.floor(bitOff / 8), type });
    }
    return { kind: t.kind, name: this.btf.typeName(t.id), size: t.size, fields };
  }
}
