// Integer constant expressions as they appear in map definitions and helper calls:
// `64 * 4096`, `256 * 1024`, `1 << 20`, `(1<<12)*4`, `RB_SZ`, `0x1000UL`, `sizeof(struct event)`.
// Identifiers resolve through object-like macros of the same file (recursively) and a
// few well-known UAPI constants. Anything unknown yields `undefined`: the source layer
// then stays quiet and the object layer (which sees the compiled value) decides.
import { tokenize, type Token } from './text';

export interface EvalContext {
  /** Body of an object-like macro, or undefined. */
  macro(name: string): string | undefined;
  /** Size of a type written inside sizeof(...), e.g. "struct event"; undefined when unknown. */
  sizeofType?(typeText: string): number | undefined;
}

/** UAPI enum values that are not macros (so a file cannot define them) but appear in expressions. */
export const WELL_KNOWN_CONSTANTS: Readonly<Record<string, bigint>> = {
  BPF_MAP_TYPE_PERF_EVENT_ARRAY: 4n,
  BPF_MAP_TYPE_RINGBUF: 27n,
  BPF_MAP_TYPE_USER_RINGBUF: 31n,
  BPF_RB_NO_WAKEUP: 1n,
  BPF_RB_FORCE_WAKEUP: 2n,
  BPF_RB_AVAIL_DATA: 0n,
  BPF_RB_RING_SIZE: 1n,
  BPF_RB_CONS_POS: 2n,
  BPF_RB_PROD_POS: 3n,
  BPF_F_CURRENT_CPU: 0xffffffffn,
  NULL: 0n,
  true: 1n,
  false: 0n,
};

const TYPE_WORDS = new Set([
  'unsigned', 'signed', 'int', 'long', 'short', 'char', 'void', 'const', 'volatile',
  '__u8', '__u16', '__u32', '__u64', '__s8', '__s16', '__s32', '__s64',
  'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'size_t',
  'uint8_t', 'uint16_t', 'uint32_t', 'uint64_t', 'int8_t', 'int16_t', 'int32_t', 'int64_t',
]);

const MAX_DEPTH = 32;

class Unknown extends Error {}

/** Evaluates `text` (a C expression) or returns undefined when it is not a known constant. */
export function evaluateConstant(text: string, ctx: EvalContext): bigint | undefined {
  try {
    return new Evaluator(ctx).evalText(text, 0, new Set());
  } catch (err) {
    if (err instanceof Unknown) return undefined;
    throw err;
  }
}

/** Like evaluateConstant but as a JS number (undefined when not a safe integer). */
export function evaluateNumber(text: string, ctx: EvalContext): number | undefined {
  const v = evaluateConstant(text, ctx);
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses a C integer literal (decimal, hex, octal, binary; u/l suffixes). */
export function parseIntegerLiteral(text: string): bigint | undefined {
  const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uU]?[lL]{0,2}[uU]?)$/.exec(text);
  if (!m) return undefined;
  const digits = m[1]!;
  if (/^0[0-7]+$/.test(digits)) return BigInt('0o' + digits.slice(1));
  return BigInt(digits);
}

class Evaluator {
  private tokens: Token[] = [];
  private pos = 0;
  constructor(private readonly ctx: EvalContext) {}

  evalText(text: string, depth: number, expanding: Set<string>): bigint {
    if (depth > MAX_DEPTH) throw new Unknown();
    const saved = { tokens: this.tokens, pos: this.pos };
    this.tokens = tokenize(text);
    this.pos = 0;
    this.depth = depth;
    this.expanding = expanding;
    if (this.tokens.length === 0) throw new Unknown();
    const v = this.ternary();
    if (this.pos !== this.tokens.length) throw new Unknown();
    this.tokens = saved.tokens;
    this.pos = saved.pos;
    return v;
  }

  private depth = 0;
  private expanding = new Set<string>();

  private peek(): string | undefined {
    return this.tokens[this.pos]?.text;
  }
  private next(): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw new Unknown();
    return t;
  }
  private expect(text: string): void {
    if (this.next().text !== text) throw new Unknown();
  }

  private ternary(): bigint {
    const cond = this.binary(0);
    if (this.peek() !== '?') return cond;
    this.pos++;
    const a = this.ternary();
    this.expect(':');
    const b = this.ternary();
    return cond !== 0n ? a : b;
  }

  private static readonly PREC: Record<string, number> = {
    '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6,
    '<': 7, '>': 7, '<=': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
  };

  private binary(minPrec: number): bigint {
    let left = this.unary();
    for (;;) {
      const op = this.peek();
      const prec = op === undefined ? undefined : Evaluator.PREC[op];
      if (prec === undefined || prec <= minPrec) return left;
      this.pos++;
      const right = this.binary(prec);
      left = apply(op!, left, right);
    }
  }

  private unary(): bigint {
    const t = this.peek();
    if (t === '-') return this.pos++, -this.unary();
    if (t === '+') return this.pos++, this.unary();
    if (t === '~') return this.pos++, ~this.unary();
    if (t === '!') return this.pos++, this.unary() === 0n ? 1n : 0n;
    return this.primary();
  }

  private primary(): bigint {
    const t = this.next();
    if (t.text === '(') {
      // a cast like (__u32) or (unsigned long) — ignore it
      const save = this.pos;
      let k = this.pos;
      while (k < this.tokens.length && (TYPE_WORDS.has(this.tokens[k]!.text) || this.tokens[k]!.text === '*')) k++;
      if (k > save && this.tokens[k]?.text === ')') {
        this.pos = k + 1;
        return this.unary();
      }
      const v = this.ternary();
      this.expect(')');
      return v;
    }
    if (t.kind === 'number') {
      const v = parseIntegerLiteral(t.text);
      if (v === undefined) throw new Unknown();
      return v;
    }
    if (t.kind === 'char') {
      const body = t.text.slice(1, -1);
      if (body.length === 1) return BigInt(body.charCodeAt(0));
      throw new Unknown();
    }
    if (t.kind === 'ident') {
      if (t.text === 'sizeof') return this.sizeofExpr();
      const body = this.expanding.has(t.text) ? undefined : this.ctx.macro(t.text);
      if (body !== undefined) {
        const inner = new Set(this.expanding);
        inner.add(t.text);
        return new Evaluator(this.ctx).evalText(body, this.depth + 1, inner);
      }
      const known = WELL_KNOWN_CONSTANTS[t.text];
      if (known !== undefined) return known;
    }
    throw new Unknown();
  }

  private sizeofExpr(): bigint {
    if (!this.ctx.sizeofType || this.peek() !== '(') throw new Unknown();
    this.pos++;
    const from = this.pos;
    let depth = 1;
    while (this.pos < this.tokens.length && depth > 0) {
      const x = this.tokens[this.pos]!.text;
      if (x === '(') depth++;
      else if (x === ')') depth--;
      this.pos++;
    }
    const typeText = this.tokens.slice(from, this.pos - 1).map((x) => x.text).join(' ');
    const size = this.ctx.sizeofType(typeText);
    if (size === undefined) throw new Unknown();
    return BigInt(size);
  }
}

function apply(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case '*': return a * b;
    case '/': if (b === 0n) throw new Unknown(); return a / b;
    case '%': if (b === 0n) throw new Unknown(); return a % b;
    case '+': return a + b;
    case '-': return a - b;
    case '<<': if (b < 0n || b > 127n) throw new Unknown(); return a << b;
    case '>>': if (b < 0n || b > 127n) throw new Unknown(); return a >> b;
    case '<': return a < b ? 1n : 0n;
    case '>': return a > b ? 1n : 0n;
    case '<=': return a <= b ? 1n : 0n;
    case '>=': return a >= b ? 1n : 0n;
    case '==': return a === b ? 1n : 0n;
    case '!=': return a !== b ? 1n : 0n;
    case '&': return a & b;
    case '^': return a ^ b;
    case '|': return a | b;
    case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
    case '||': return a !== 0n || b !== 0n ? 1n : 0n;
    default: throw new Unknown();
  }
}
