// How much one record may decode into. Valid BTF can describe a record whose decoded form
// is enormous: a 1 MiB record of arrays of 500-member unions is ~130 M values, minutes of
// CPU and gigabytes of memory, for a type that takes a few hundred BTF entries. So every
// layout is bounded by the values it decodes into — array elements × the element's values —
// and the members that do not fit are *elided*: they decode as a `$truncated` marker with
// their byte size, while the members before and after them decode as usual.
import type { FieldType, StructType } from './layoutTypes';

/** Values one record may decode into (numbers, strings, array elements, objects). */
export const MAX_DECODED_VALUES = 200_000;

const counts = new WeakMap<object, number>();

export function isCharArray(t: FieldType): boolean {
  return t.kind === 'array' && t.elem.kind === 'int' && t.elem.size === 1 && !!t.elem.char;
}

/**
 * Values a type decodes into: 1 for a scalar, a string (char array), an opaque blob or an
 * elided member; 1 + elements × the element's count for an array; 1 + the members' counts
 * for a struct or union. Memoised per type object (layouts share types, so they are DAGs).
 */
export function valueCount(t: FieldType): number {
  if (t.kind !== 'array' && t.kind !== 'struct' && t.kind !== 'union') return 1;
  if (isCharArray(t)) return 1;
  const hit = counts.get(t);
  if (hit !== undefined) return hit;
  let n = 1;
  if (t.kind === 'array') n += t.count * valueCount(t.elem);
  else for (const f of t.fields) n += valueCount(f.type);
  counts.set(t, n);
  return n;
}

/** Bytes a field type covers. */
export function byteSize(t: FieldType): number {
  return t.kind === 'array' ? t.count * t.elemSize : t.size;
}

/** The stand-in for a member too large to decode: its bytes, shown as `{"$truncated":{"bytes":N}}`. */
export function elided(t: FieldType): FieldType {
  return { kind: 'opaque', size: byteSize(t), elided: true };
}

/**
 * The struct with its largest members elided until it decodes into at most `budget`
 * values (a struct member gets what is left and is fitted the same way, so its small
 * fields stay). The same object when it already fits.
 */
export function fitStruct(st: StructType, budget: number): StructType {
  let total = valueCount(st);
  if (total <= budget) return st;
  const fields = [...st.fields];
  const costs = fields.map((f) => valueCount(f.type));
  const largestFirst = costs.map((_, i) => i).sort((a, b) => (costs[b] ?? 0) - (costs[a] ?? 0));
  for (const i of largestFirst) {
    const f = fields[i];
    const cost = costs[i] ?? 0;
    if (total <= budget || !f || cost <= 1) break;
    const room = budget - (total - cost);
    const t = f.type;
    // room > members means eliding all of them (1 each) fits: the fitted member is within room.
    const replacement = (t.kind === 'struct' || t.kind === 'union') && room > t.fields.length ? fitStruct(t, room) : elided(t);
    total += valueCount(replacement) - cost;
    fields[i] = { ...f, type: replacement };
  }
  const fitted: StructType = { ...st, fields };
  counts.set(fitted, total);
  return fitted;
}

/**
 * Elements of a trailing flexible array (`T data[]`) that fit in the record from `offset`
 * to `end`, or -1 when decoding them would exceed `budget` (the array is then elided).
 */
export function flexibleCount(t: Extract<FieldType, { kind: 'array' }>, offset: number, end: number, budget: number): number {
  const n = Math.floor(Math.max(0, end - offset) / Math.max(1, t.elemSize));
  return n * valueCount(t.elem) > budget ? -1 : n;
}
