// The Live Events filter language. Parsed once into a closure (no eval: the webview's
// CSP forbids it), evaluated per event on both sides (webview table, host export).
//
//   expr       := or
//   or         := and ( "||" and )*
//   and        := unary ( "&&" unary )*
//   unary      := "!" unary | primary
//   primary    := "(" expr ")" | operand [ op operand ]
//   op         := "==" | "!=" | "<" | "<=" | ">" | ">=" | "~" | "!~"
//   operand    := field | number | string | true | false
//   field      := name ( "." name )*          e.g. comm, pid, in.port, $host, $map, $time
//   number     := 123 | -5 | 0x1f | 1.5
//   string     := "..." | '...'               with \" \\ \n \t \xNN escapes
//
// Meaning:
// - `a == b`, `!=`: strings compare as strings, numbers as numbers; a number field
//   compared with a string literal compares its text, so `state == "RUNNING"` works
//   for enums (shown by name) and `big == "18446744073709551600"` for 64-bit values.
// - `<`, `<=`, `>`, `>=`: numeric (64-bit decimal strings are compared exactly as BigInt);
//   strings compare lexically.
// - `field ~ "text"`: the string is a JavaScript regular expression searched anywhere
//   in the field's text, so a plain word is a substring match (`comm ~ "ssh"`), and
//   `comm ~ "^ba"` anchors. `!~` is its negation. An invalid regex is a filter error.
// - A bare operand is a truth test: `ok` (a bool field), `!truncated`.
// - Pseudo-fields: `$host` (target), `$map` (ringbuf map), `$time` (ms since epoch),
//   `$raw` (the record's bytes in hex); a caller may allow more (live tests add `$trigger`).
// - A field the event does not have makes every comparison on it false.
// Errors carry the 0-based position of the offending token.

export type FilterValue = number | string | boolean | bigint | undefined | null | object;

/** Gets a field's value for the event being tested (the caller decodes lazily). */
export type FieldGetter = (name: string) => FilterValue;

export interface CompiledFilter {
  readonly source: string;
  /** Field names the filter reads (so the caller decodes only what it needs). */
  readonly fields: readonly string[];
  test(get: FieldGetter): boolean;
}

export class FilterError extends Error {
  constructor(
    message: string,
    /** 0-based character offset in the source. */
    readonly position: number,
    readonly length = 1,
  ) {
    super(message);
    this.name = 'FilterError';
  }
}

type TokenKind = 'num' | 'str' | 'ident' | 'op' | 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'bool' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
  value?: number | string | bigint | boolean;
}

type ComparisonOp = '==' | '!=' | '<=' | '>=' | '<' | '>' | '~' | '!~';

/** The pseudo-fields every filter knows. */
export const PSEUDO_FIELDS: readonly string[] = ['$host', '$map', '$time', '$raw'];

export interface FilterOptions {
  /** Pseudo-fields this caller provides besides PSEUDO_FIELDS (e.g. live tests' `$trigger`). */
  pseudoFields?: readonly string[];
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = i;
    const two = src.slice(i, i + 2);
    const simple = (kind: TokenKind, t: string): void => {
      out.push({ kind, text: t, pos });
      i += t.length;
    };
    if (two === '&&') simple('and', two);
    else if (two === '||') simple('or', two);
    else if (two === '==' || two === '!=' || two === '<=' || two === '>=' || two === '!~') simple('op', two);
    else if (c === '<' || c === '>' || c === '~') simple('op', c);
    else if (c === '!') simple('not', c);
    else if (c === '(') simple('lparen', c);
    else if (c === ')') simple('rparen', c);
    else if (c === '=') throw new FilterError(`'=' at ${pos + 1}: use '==' to compare`, pos);
    else if (c === '&' || c === '|') throw new FilterError(`'${c}' at ${pos + 1}: use '${c}${c}'`, pos);
    else if (c === '"' || c === "'") {
      const { value, end } = readString(src, i);
      out.push({ kind: 'str', text: src.slice(pos, end), pos, value });
      i = end;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? '') && !endsOperand(out))) {
      const m = /^-?(0[xX][0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)/.exec(src.slice(i));
      const text = m?.[0] ?? c;
      if (/[A-Za-z_$]/.test(src[i + text.length] ?? '')) throw new FilterError(`bad number at ${pos + 1}: '${src.slice(i).split(/[\s()]/)[0] ?? ''}'`, pos);
      out.push({ kind: 'num', text, pos, value: parseNumber(text) });
      i += text.length;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*/.exec(src.slice(i));
      const text = m?.[0] ?? c;
      if (src[i + text.length] === '.') throw new FilterError(`incomplete field name at ${pos + 1}: '${text}.'`, pos, text.length + 1);
      if (text === 'true' || text === 'false') out.push({ kind: 'bool', text, pos, value: text === 'true' });
      else out.push({ kind: 'ident', text, pos });
      i += text.length;
    } else {
      throw new FilterError(`unexpected '${c}' at ${pos + 1}`, pos);
    }
  }
  out.push({ kind: 'eof', text: '', pos: src.length });
  return out;
}

function endsOperand(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return !!last && (last.kind === 'num' || last.kind === 'str' || last.kind === 'ident' || last.kind === 'bool' || last.kind === 'rparen');
}

function parseNumber(text: string): number | bigint {
  const neg = text.startsWith('-');
  const body = neg ? text.slice(1) : text;
  if (/^0[xX]/.test(body) || /^[0-9]+$/.test(body)) {
    const big = BigInt(body);
    const v = neg ? -big : big;
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  return Number(text);
}

function readString(src: string, start: number): { value: string; end: number } {
  const quote = src[start];
  let i = start + 1;
  let value = '';
  while (i < src.length) {
    const c = src[i] ?? '';
    if (c === quote) return { value, end: i + 1 };
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) break;
      if (n === 'n') value += '\n';
      else if (n === 't') value += '\t';
      else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 2, i + 4))) {
        value += String.fromCharCode(parseInt(src.slice(i + 2, i + 4), 16));
        i += 2;
      } else value += n;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw new FilterError(`unterminated string starting at ${start + 1}: add the closing ${quote}`, start, src.length - start);
}

// ───────────────────────────── parser → closures ─────────────────────────────

type Pred = (get: FieldGetter) => boolean;
type Operand = { kind: 'field'; name: string; pos: number } | { kind: 'lit'; value: number | string | bigint | boolean; pos: number };

class Parser {
  private i = 0;
  readonly fields = new Set<string>();
  constructor(
    private readonly tokens: Token[],
    private readonly knownFields: ReadonlySet<string> | undefined,
    private readonly pseudoFields: readonly string[],
  ) {}

  private peek(): Token {
    return this.tokens[this.i] ?? (this.tokens[this.tokens.length - 1] as Token);
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  parseAll(): Pred {
    const p = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') throw new FilterError(`unexpected '${t.text}' at ${t.pos + 1}: expected && or || or the end`, t.pos, t.text.length);
    return p;
  }

  private or(): Pred {
    let left = this.and();
    while (this.peek().kind === 'or') {
      this.next();
      const l = left;
      const r = this.and();
      left = (g) => l(g) || r(g);
    }
    return left;
  }

  private and(): Pred {
    let left = this.unary();
    while (this.peek().kind === 'and') {
      this.next();
      const l = left;
      const r = this.unary();
      left = (g) => l(g) && r(g);
    }
    return left;
  }

  private unary(): Pred {
    if (this.peek().kind === 'not') {
      this.next();
      const inner = this.unary();
      return (g) => !inner(g);
    }
    return this.primary();
  }

  private primary(): Pred {
    const t = this.peek();
    if (t.kind === 'lparen') {
      this.next();
      const inner = this.or();
      const close = this.next();
      if (close.kind !== 'rparen') throw new FilterError(`missing ')' for the '(' at ${t.pos + 1}`, close.pos, Math.max(1, close.text.length));
      return inner;
    }
    const left = this.operand();
    const op = this.peek();
    if (op.kind !== 'op') {
      if (left.kind === 'lit') {
        const constant = truthy(left.value);
        return () => constant;
      }
      const name = left.name;
      return (g) => truthy(g(name));
    }
    this.next();
    const right = this.operand();
    return comparison(left, op.text as ComparisonOp, right, op.pos);
  }

  private operand(): Operand {
    const t = this.next();
    switch (t.kind) {
      case 'ident': {
        if (this.knownFields && !this.knownFields.has(t.text) && !t.text.startsWith('$')) {
          const list = [...this.knownFields].filter((f) => !f.startsWith('$')).slice(0, 12).join(', ');
          throw new FilterError(`unknown field '${t.text}' at ${t.pos + 1}${list ? ` (fields: ${list})` : ''}`, t.pos, t.text.length);
        }
        if (t.text.startsWith('$') && !this.pseudoFields.includes(t.text)) {
          throw new FilterError(`unknown field '${t.text}' at ${t.pos + 1} (pseudo-fields: ${this.pseudoFields.join(', ')})`, t.pos, t.text.length);
        }
        this.fields.add(t.text);
        return { kind: 'field', name: t.text, pos: t.pos };
      }
      case 'num':
      case 'str':
      case 'bool':
        return { kind: 'lit', value: t.value as number | string | bigint | boolean, pos: t.pos };
      case 'eof':
        throw new FilterError(`incomplete filter: expected a field, number or string at the end`, t.pos);
      default:
        throw new FilterError(`unexpected '${t.text}' at ${t.pos + 1}: expected a field, number or string`, t.pos, t.text.length);
    }
  }
}

function truthy(v: FilterValue): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v !== '' && v !== '0';
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'boolean') return v;
  return true;
}

function valueOf(o: Operand): (g: FieldGetter) => FilterValue {
  if (o.kind === 'lit') {
    const v = o.value;
    return () => v;
  }
  const name = o.name;
  return (g) => g(name);
}

/** A number, a bigint, or undefined when the value is not numeric. */
function numeric(v: FilterValue): number | bigint | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : BigInt(v);
  }
  if (typeof v === 'string' && /^-?0x[0-9a-f]+$/i.test(v)) return BigInt(v.startsWith('-') ? v.slice(1) : v) * (v.startsWith('-') ? -1n : 1n);
  return undefined;
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  // Mixed: compare exactly unless a side is fractional.
  if ((typeof a === 'number' && !Number.isInteger(a)) || (typeof b === 'number' && !Number.isInteger(b))) {
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function text(v: FilterValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v === undefined || v === null) return '';
  return JSON.stringify(v);
}

function comparison(left: Operand, op: ComparisonOp, right: Operand, opPos: number): Pred {
  const l = valueOf(left);
  if (op === '~' || op === '!~') {
    if (right.kind !== 'lit' || typeof right.value !== 'string') {
      throw new FilterError(`'${op}' at ${opPos + 1} needs a string on its right, e.g. comm ~ "ssh"`, right.pos);
    }
    let re: RegExp;
    try {
      re = new RegExp(right.value);
    } catch (err) {
      throw new FilterError(`invalid regular expression at ${right.pos + 1}: ${err instanceof Error ? err.message : String(err)}`, right.pos);
    }
    const negate = op === '!~';
    return (g) => {
      const v = l(g);
      if (v === undefined || v === null) return false;
      return re.test(text(v)) !== negate;
    };
  }
  const r = valueOf(right);
  const eq = (a: FilterValue, b: FilterValue): boolean | undefined => {
    if (a === undefined || a === null || b === undefined || b === null) return undefined;
    if (typeof a === 'string' && typeof b === 'string') return a === b;
    if (typeof a === 'boolean' || typeof b === 'boolean') return truthy(a) === truthy(b);
    if (typeof a === 'string' || typeof b === 'string') {
      // A string against a number: exact when both are numeric text, else compare text.
      const x = numeric(a);
      const y = numeric(b);
      if (x !== undefined && y !== undefined) return compareNumbers(x, y) === 0;
      return text(a) === text(b);
    }
    const x = numeric(a);
    const y = numeric(b);
    if (x === undefined || y === undefined) return text(a) === text(b);
    return compareNumbers(x, y) === 0;
  };
  const order = (a: FilterValue, b: FilterValue): number | undefined => {
    if (a === undefined || a === null || b === undefined || b === null) return undefined;
    const x = numeric(a);
    const y = numeric(b);
    if (x !== undefined && y !== undefined) return compareNumbers(x, y);
    if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
    return undefined;
  };
  switch (op) {
    case '==':
      return (g) => eq(l(g), r(g)) === true;
    case '!=':
      return (g) => eq(l(g), r(g)) === false;
    case '<':
      return (g) => (order(l(g), r(g)) ?? 0) < 0;
    case '<=': {
      return (g) => {
        const c = order(l(g), r(g));
        return c !== undefined && c <= 0;
      };
    }
    case '>':
      return (g) => (order(l(g), r(g)) ?? 0) > 0;
    case '>=': {
      return (g) => {
        const c = order(l(g), r(g));
        return c !== undefined && c >= 0;
      };
    }
  }
}

/**
 * Parses a filter. Empty/whitespace → null (no filter). Throws FilterError with the
 * position of the problem. `knownFields` (column names) turns typos into errors.
 */
export function compileFilter(source: string, knownFields?: Iterable<string>, options: FilterOptions = {}): CompiledFilter | null {
  if (source.trim() === '') return null;
  if (source.length > 4096) throw new FilterError('filter longer than 4096 characters', 4096);
  const pseudo = [...PSEUDO_FIELDS, ...(options.pseudoFields ?? [])];
  const parser = new Parser(tokenize(source), knownFields ? new Set(knownFields) : undefined, pseudo);
  const pred = parser.parseAll();
  return { source, fields: [...parser.fields], test: pred };
}

/** Like compileFilter, but returns the error instead of throwing (for the inline error). */
export function tryCompileFilter(
  source: string,
  knownFields?: Iterable<string>,
  options: FilterOptions = {},
): { filter: CompiledFilter | null; error: FilterError | null } {
  try {
    return { filter: compileFilter(source, knownFields, options), error: null };
  } catch (err) {
    if (err instanceof FilterError) return { filter: null, error: err };
    throw err;
  }
}
