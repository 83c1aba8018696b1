// Positions in a YAML document: node lookup by path, node → SourceRange (1-based,
// endColumn exclusive), and where a character of a scalar's value sits in the source
// (a filter error at offset 12 of `where` points at its column in the file).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type Scalar } from 'yaml';
import type { SourceRange } from '../diagnostics';

export type YamlPath = ReadonlyArray<string | number>;

export class YamlSource {
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(readonly text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** The range between two offsets of the text. */
  rangeOf(start: number, end: number): SourceRange {
    const a = this.lines.linePos(Math.max(0, Math.min(start, this.text.length)));
    const b = this.lines.linePos(Math.max(start, Math.min(end, this.text.length)));
    return { line: a.line, column: a.col, endLine: b.line, endColumn: b.line === a.line && b.col <= a.col ? a.col + 1 : b.col };
  }

  /** A node's range (its value, without trailing comments or line breaks). */
  nodeRange(node: Node | null | undefined): SourceRange {
    const r = node?.range;
    if (!r) return this.rangeOf(0, 0);
    return this.rangeOf(r[0], r[1]);
  }

  /** The pair `key: value` at `path` in its parent map. */
  pairAt(path: YamlPath): Pair | undefined {
    const parent = this.nodeAt(path.slice(0, -1));
    const key = path[path.length - 1];
    if (!isMap(parent)) return undefined;
    return parent.items.find((p) => isScalar(p.key) && p.key.value === key);
  }

  /** The node at `path` (map keys and sequence indexes), or undefined. */
  nodeAt(path: YamlPath): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const seg of path) {
      if (isMap(node)) {
        node = node.items.find((p) => isScalar(p.key) && p.key.value === seg)?.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else return undefined;
    }
    return (node ?? undefined) as Node | undefined;
  }

  /** `key: value` from the key's start to the value's end; the node itself for list items and the root. */
  entryRange(path: YamlPath): SourceRange {
    const pair = this.pairAt(path);
    const key = pair?.key as Node | undefined;
    const value = pair?.value as Node | undefined;
    if (key?.range) return this.rangeOf(key.range[0], value?.range ? value.range[1] : key.range[1]);
    return this.firstLineOf(this.nodeAt(path));
  }

  /** The range of a key (for "unknown key" errors). */
  keyRange(path: YamlPath): SourceRange {
    const key = this.pairAt(path)?.key as Node | undefined;
    return key?.range ? this.nodeRange(key) : this.entryRange(path);
  }

  /** The first line of a node (a list item or a map: its first entry's line). */
  firstLineOf(node: Node | null | undefined): SourceRange {
    const r = node?.range;
    if (!r) return this.rangeOf(0, 0);
    const lineEnd = this.text.indexOf('\n', r[0]);
    return this.rangeOf(r[0], Math.min(r[1], lineEnd < 0 ? this.text.length : lineEnd));
  }

  /**
   * A function from an offset in a string scalar's value to that character's range in
   * the source: exact for plain and quoted scalars (escapes included) and block scalars;
   * the scalar's start where the value was folded across lines.
   */
  valueOffsets(node: Node | undefined): (offset: number, length?: number) => SourceRange {
    const fallback = this.firstLineOf(node);
    if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return () => fallback;
    const map = scalarOffsetMap(this.text, node as Scalar<string>);
    return (offset, length = 1) => {
      const start = map(offset);
      const end = map(offset + Math.max(1, length) - 1);
      if (start === undefined) return fallback;
      return this.rangeOf(start, (end ?? start) + 1);
    };
  }
}

/** For each index of the value, its offset in the source (undefined when it cannot be mapped). */
function scalarOffsetMap(text: string, node: Scalar<string>): (i: number) => number | undefined {
  const [start, end] = node.range ?? [0, 0];
  const value = node.value;
  const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
  const offsets = quoted ? walkQuoted(text, start, end, node.type === 'QUOTE_DOUBLE', value) : walkLines(text, start, end, value);
  return (i) => (offsets && i >= 0 && i <= value.length ? (offsets[Math.min(i, value.length - 1)] ?? offsets[offsets.length - 1]) : undefined);
}

/** Offsets of each value character in a quoted scalar on one line; undefined if it spans lines. */
function walkQuoted(text: string, start: number, end: number, double: boolean, value: string): number[] | undefined {
  const out: number[] = [];
  let i = start + 1;
  while (i < end - 1 && out.length < value.length) {
    const c = text[i];
    if (c === '\n') return undefined;
    out.push(i);
    if (!double && c === "'" && text[i + 1] === "'") i += 2;
    else if (double && c === '\\') i += escapeLength(text, i);
    else i += 1;
  }
  return out.length === value.length ? out : undefined;
}

/** Source length of a double-quoted escape starting at the backslash. */
function escapeLength(text: string, i: number): number {
  switch (text[i + 1]) {
    case 'x':
      return 4;
    case 'u':
      return 6;
    case 'U':
      return 10;
    default:
      return 2;
  }
}

/** Plain and block scalars: each line of the value appears verbatim in the source, in order. */
function walkLines(text: string, start: number, end: number, value: string): number[] | undefined {
  const out: number[] = [];
  let from = start;
  for (const line of value.split('\n')) {
    const at = line === '' ? from : text.indexOf(line, from);
    if (at < 0 || at > end) return undefined;
    for (let k = 0; k < line.length; k++) out.push(at + k);
    out.push(at + line.length); // the line break (or the end)
    from = at + line.length;
  }
  return out;
}
