// A self-contained, JSON-serialisable description of an event record's layout,
// produced from BTF (core/btf) and consumed by the decoder (core/decode), the CLI
// and the webview. It carries no BTF ids, so it can cross the webview boundary.

export type ScalarType =
  | { kind: 'int'; size: 1 | 2 | 4 | 8; signed: boolean; /** BTF_INT_BOOL */ bool?: boolean; /** BTF_INT_CHAR or a `char` name */ char?: boolean }
  | { kind: 'float'; size: 4 | 8 }
  | { kind: 'ptr'; size: 8 | 4 }
  /** Enum values as decimal strings so 64-bit values survive JSON. */
  | { kind: 'enum'; name: string; size: 1 | 2 | 4 | 8; signed: boolean; values: Array<{ name: string; value: string }> };

export type FieldType =
  | ScalarType
  | { kind: 'array'; elem: FieldType; count: number; elemSize: number }
  | StructType
  /**
   * Anything we cannot decode (e.g. a zero-sized or unresolved type): shown as hex.
   * `elided`: a member too large to decode (core/decode/budget.ts), shown as
   * `{"$truncated":{"bytes":size}}`.
   */
  | { kind: 'opaque'; size: number; elided?: boolean };

export interface StructType {
  kind: 'struct' | 'union';
  name: string;
  size: number;
  fields: LayoutField[];
}

export interface LayoutField {
  /** Empty for an anonymous struct/union member (its fields are lifted into the parent's namespace). */
  name: string;
  /** Byte offset of the field (for bitfields: of the containing storage unit start, see bitOffset). */
  offset: number;
  /** Bitfields only: bit offset from `offset`*8 and width in bits. */
  bitOffset?: number;
  bitSize?: number;
  type: FieldType;
}

export interface EventLayout {
  /** e.g. "struct event" */
  typeName: string;
  size: number;
  root: StructType;
  /** How the type was found: declared on the map, inferred from the source, or a BTF-only guess. */
  origin: 'declared' | 'inferred' | 'btf';
}
