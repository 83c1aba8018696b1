// What the source layer knows about a BPF C file without a compiler: object-like
// macros, struct definitions (for sizeof), map definitions in `.maps`, functions and
// the helper calls inside them. Heuristic by design, but every position is exact.
import { evaluateNumber, type EvalContext } from './constExpr';
import { matchClose, matchOpen, splitArgs, splitTopLevel, SourceText, type Token } from './text';

export interface MacroDef {
  name: string;
  body: string;
  /** Offsets of the body in the file (for edits). */
  bodyStart: number;
  bodyEnd: number;
  functionLike: boolean;
}

export interface MapField {
  /** __uint, __type, __array, __ulong */
  macro: string;
  /** type, max_entries, key, value, key_size, … */
  name: string;
  valueText: string;
  valueStart: number;
  valueEnd: number;
  /** The whole `__uint(...);` statement, including the `;`. */
  stmtStart: number;
  stmtEnd: number;
}

export type MapKind = 'ringbuf' | 'perf_event_array' | 'user_ringbuf' | 'other' | 'unknown';

export interface MapDef {
  name: string;
  nameStart: number;
  nameEnd: number;
  /** `{` and `}` offsets of the struct body holding the fields. */
  bodyOpen: number;
  bodyClose: number;
  /** True when the body belongs to a named struct type defined elsewhere (edits would change every map of that type). */
  sharedType: boolean;
  fields: MapField[];
  kind: MapKind;
}

export interface BccRingbuf {
  name: string;
  nameStart: number;
  nameEnd: number;
  pageCntText: string;
  pageCntStart: number;
  pageCntEnd: number;
}

export interface CallSite {
  name: string;
  /** Token index of the callee name. */
  nameIndex: number;
  start: number;
  /** Offset just after the closing `)`. */
  end: number;
  /** Token ranges [from, to) of each argument. */
  args: Array<[number, number]>;
  closeIndex: number;
}

export interface FunctionDef {
  name: string;
  /** Token texts before the name (storage, SEC(...), return type). */
  returnsVoid: boolean;
  /** Token indexes of the body braces. */
  bodyOpen: number;
  bodyClose: number;
  params: Set<string>;
  calls: CallSite[];
  /** Local declarations: name → type text and whether it is a pointer. */
  locals: Map<string, { typeText: string; pointer: boolean; declIndex: number }>;
  /** True when the function carries SEC("…") (a BPF program rather than a helper). */
  isProgram: boolean;
}

interface StructDef {
  bodyOpen: number;
  bodyClose: number;
  union: boolean;
}

/** Macros that wrap a program's signature: the real name is the first argument. */
const PROGRAM_WRAPPERS = new Set(['BPF_PROG', 'BPF_PROG2', 'BPF_KPROBE', 'BPF_KRETPROBE', 'BPF_KSYSCALL', 'BPF_UPROBE', 'BPF_URETPROBE', 'BPF_USDT']);

const PRIMITIVE_SIZES: Record<string, number> = {
  char: 1, _Bool: 1, bool: 1, short: 2, int: 4, long: 8, float: 4, double: 8,
  __u8: 1, __s8: 1, u8: 1, s8: 1, uint8_t: 1, int8_t: 1,
  __u16: 2, __s16: 2, u16: 2, s16: 2, uint16_t: 2, int16_t: 2, __be16: 2, __le16: 2,
  __u32: 4, __s32: 4, u32: 4, s32: 4, uint32_t: 4, int32_t: 4, __be32: 4, __le32: 4,
  pid_t: 4, uid_t: 4, gid_t: 4,
  __u64: 8, __s64: 8, u64: 8, s64: 8, uint64_t: 8, int64_t: 8, __be64: 8, __le64: 8,
  size_t: 8, ssize_t: 8, uintptr_t: 8, __kernel_size_t: 8, loff_t: 8, dev_t: 4,
};

const QUALIFIERS = new Set(['const', 'volatile', 'unsigned', 'signed', 'static', 'register', 'restrict', '__restrict', 'extern', 'inline', '__always_inline']);

export class SourceModel implements EvalContext {
  readonly src: SourceText;
  readonly macros = new Map<string, MacroDef>();
  readonly structs = new Map<string, StructDef>();
  /** typedef name → the type text it stands for ("struct event"). */
  readonly typedefs = new Map<string, string>();
  readonly maps: MapDef[] = [];
  readonly bccRingbufs: BccRingbuf[] = [];
  readonly functions: FunctionDef[] = [];
  private readonly sizeCache = new Map<string, number | undefined>();

  constructor(text: string, file: string) {
    this.src = new SourceText(text, file);
    this.parseMacros();
    try {
      this.parseTopLevel();
    } catch {
      // half-written text: keep what was recognised before the point we could not follow
    }
  }

  get tokens(): Token[] {
    return this.src.tokens;
  }

  macro(name: string): string | undefined {
    const m = this.macros.get(name);
    return m && !m.functionLike ? m.body : undefined;
  }

  evaluate(text: string): number | undefined {
    return evaluateNumber(text, this);
  }

  /** Text of the original file between two token indexes (inclusive from, exclusive to). */
  textOf(from: number, to: number): string {
    if (to <= from) return '';
    return this.src.text.slice(this.tokens[from]!.start, this.tokens[to - 1]!.end);
  }

  /** The map referenced by a helper argument like `&rb` or `(void *)&rb`. */
  mapArg(range: [number, number] | undefined): string | undefined {
    if (!range) return undefined;
    const toks = this.tokens.slice(range[0], range[1]).filter((t) => t.text !== '(' && t.text !== ')');
    const amp = toks.findIndex((t) => t.text === '&');
    const name = toks[amp + 1];
    if (amp < 0 || !name || name.kind !== 'ident' || amp + 2 !== toks.length) return undefined;
    return name.text;
  }

  findMap(name: string): MapDef | undefined {
    return this.maps.find((m) => m.name === name);
  }

  functionAt(tokenIndex: number): FunctionDef | undefined {
    return this.functions.find((f) => f.bodyOpen < tokenIndex && tokenIndex < f.bodyClose);
  }

  // ---- sizeof -------------------------------------------------------------------------

  /** Size in bytes of a type written in C ("struct event", "__u64", "event_t"), or undefined. */
  sizeofType(typeText: string): number | undefined {
    return this.layoutOfType(typeText.trim().replace(/\s+/g, ' '), 0)?.size;
  }

  private layoutOfType(typeText: string, depth: number): { size: number; align: number } | undefined {
    if (depth > 16) return undefined;
    if (/\*\s*$/.test(typeText)) return { size: 8, align: 8 };
    const words = typeText.split(/\s+/).filter((w) => !QUALIFIERS.has(w));
    const cacheKey = `${typeText}`;
    if (depth === 0 && this.sizeCache.has(cacheKey)) {
      const s = this.sizeCache.get(cacheKey);
      return s === undefined ? undefined : { size: s, align: Math.min(8, s) };
    }
    let result: { size: number; align: number } | undefined;
    if ((words[0] === 'struct' || words[0] === 'union') && words.length === 2) {
      const def = this.structs.get(`${words[0]} ${words[1]}`);
      result = def ? this.layoutOfBody(def.bodyOpen, def.bodyClose, def.union, depth + 1) : undefined;
    } else if (words[0] === 'enum' && words.length === 2) {
      result = { size: 4, align: 4 };
    } else if (words.length === 1 && this.typedefs.has(words[0]!)) {
      result = this.layoutOfType(this.typedefs.get(words[0]!)!, depth + 1);
    } else if (words.length >= 1) {
      // "unsigned long long", "long int", "__u32" …
      const prim = typeText.split(/\s+/).filter((w) => w !== 'const' && w !== 'volatile');
      const plain = prim.filter((w) => w !== 'unsigned' && w !== 'signed' && w !== 'int');
      if (plain.length === 0 && prim.length > 0) result = { size: 4, align: 4 };
      else if (plain.length === 2 && plain[0] === 'long' && plain[1] === 'long') result = { size: 8, align: 8 };
      else if (plain.length === 1) {
        const s = PRIMITIVE_SIZES[plain[0]!];
        if (s !== undefined) result = { size: s, align: s };
      }
    }
    if (depth === 0) this.sizeCache.set(cacheKey, result?.size);
    return result;
  }

  /** C layout of a struct/union body between token indexes `{` and `}`; undefined on anything unusual (bitfields, packed, unknown types). */
  private layoutOfBody(open: number, close: number, isUnion: boolean, depth: number): { size: number; align: number } | undefined {
    const t = this.tokens;
    let offset = 0;
    let size = 0;
    let align = 1;
    let i = open + 1;
    while (i < close) {
      // one member declaration up to ';'
      let end = i;
      let d = 0;
      while (end < close && !(d === 0 && t[end]!.text === ';')) {
        const x = t[end]!.text;
        if (x === '(' || x === '{' || x === '[') d++;
        else if (x === ')' || x === '}' || x === ']') d--;
        end++;
      }
      const decl = t.slice(i, end);
      i = end + 1;
      if (decl.length === 0) continue;
      if (decl.some((x) => x.text === ':' || x.text === '__attribute__' || x.text === '__aligned' || x.text === '__packed')) return undefined;
      let baseLayout: { size: number; align: number } | undefined;
      let k = 0;
      if ((decl[0]!.text === 'struct' || decl[0]!.text === 'union') && (decl[1]?.text === '{' || decl[2]?.text === '{')) {
        const braceAt = decl[1]!.text === '{' ? 1 : 2;
        const openIdx = t.indexOf(decl[braceAt]!);
        const closeIdx = matchClose(t, openIdx);
        baseLayout = this.layoutOfBody(openIdx, closeIdx, decl[0]!.text === 'union', depth + 1);
        k = closeIdx - t.indexOf(decl[0]!) + 1;
      } else {
        const typeWords: string[] = [];
        while (k < decl.length && decl[k]!.kind === 'ident') {
          const w = decl[k]!.text;
          typeWords.push(w);
          k++;
          if ((w === 'struct' || w === 'union' || w === 'enum') && decl[k]?.kind === 'ident') {
            typeWords.push(decl[k]!.text);
            k++;
            break;
          }
          // stop before the declarator name: the next token is an ident and this one completes a type
          const nextTok = decl[k];
          if (nextTok?.kind === 'ident' && !QUALIFIERS.has(w) && !['long', 'short', 'int', 'char'].includes(nextTok.text)) break;
        }
        baseLayout = this.layoutOfType(typeWords.join(' '), depth + 1);
      }
      if (!baseLayout) return undefined;
      // declarators: name, *name, name[N][M], separated by commas
      const declarators = splitArgs(decl, k, decl.length);
      if (declarators.length === 0) declarators.push([k, k]); // anonymous struct/union member
      for (const [a, b] of declarators) {
        const parts = decl.slice(a, b);
        let layout = baseLayout;
        if (parts.some((p) => p.text === '*')) layout = { size: 8, align: 8 };
        for (let p = 0; p < parts.length; p++) {
          if (parts[p]!.text !== '[') continue;
          const closeIdx = parts.findIndex((x, idx) => idx > p && x.text === ']');
          if (closeIdx < 0) return undefined; // `char comm[16;` while typing
          const dimText = parts.slice(p + 1, closeIdx).map((x) => x.text).join(' ');
          const n = dimText === '' ? 0 : this.evaluate(dimText);
          if (n === undefined || n < 0) return undefined;
          layout = { size: layout.size * n, align: layout.align };
          p = closeIdx;
        }
        align = Math.max(align, layout.align);
        if (isUnion) {
          size = Math.max(size, layout.size);
        } else {
          offset = Math.ceil(offset / layout.align) * layout.align + layout.size;
          size = offset;
        }
      }
    }
    size = Math.ceil(size / align) * align;
    return { size, align };
  }

  // ---- parsing ------------------------------------------------------------------------

  private parseMacros(): void {
    for (const d of this.src.directives) {
      const m = /^#\s*define\s+([A-Za-z_]\w*)(\()?/.exec(d.text);
      if (!m) continue;
      const headerEnd = m.index + m[0].length;
      const functionLike = m[2] !== undefined;
      let bodyRel = headerEnd;
      if (functionLike) {
        const close = d.text.indexOf(')', headerEnd);
        bodyRel = close < 0 ? d.text.length : close + 1;
      }
      // body offsets in the original text: directives without continuations map 1:1
      const raw = this.src.code.slice(d.start, d.end);
      const lead = /^\s*/.exec(raw.slice(bodyRel))?.[0].length ?? 0;
      const bodyStart = d.start + bodyRel + lead;
      const bodyEnd = d.start + raw.replace(/\s+$/, '').length;
      this.macros.set(m[1]!, {
        name: m[1]!,
        body: d.text.slice(bodyRel).trim(),
        bodyStart,
        bodyEnd: Math.max(bodyStart, bodyEnd),
        functionLike,
      });
    }
  }

  private parseTopLevel(): void {
    const t = this.tokens;
    let i = 0;
    while (i < t.length) {
      const tok = t[i]!;
      if (tok.text === '{') {
        const close = matchClose(t, i);
        this.tryParse(() => this.classifyBlock(i, close));
        i = close + 1;
        continue;
      }
      if (tok.text === 'SEC' && t[i + 1]?.text === '(' && t[i + 2]?.kind === 'string' && t[i + 3]?.text === ')') {
        const secName = t[i + 2]!.text.slice(1, -1);
        if (secName === '.maps') this.tryParse(() => this.parseMapDecl(i));
      }
      if (tok.text === 'BPF_RINGBUF_OUTPUT' && t[i + 1]?.text === '(') {
        const close = matchClose(t, i + 1);
        const args = splitArgs(t, i + 2, close);
        const [nameArg, cntArg] = args;
        if (nameArg && cntArg && nameArg[1] - nameArg[0] === 1) {
          this.bccRingbufs.push({
            name: t[nameArg[0]]!.text,
            nameStart: t[nameArg[0]]!.start,
            nameEnd: t[nameArg[0]]!.end,
            pageCntText: this.textOf(cntArg[0], cntArg[1]),
            pageCntStart: t[cntArg[0]]!.start,
            pageCntEnd: t[cntArg[1] - 1]!.end,
          });
        }
        i = close + 1;
        continue;
      }
      if (tok.text === 'typedef') this.tryParse(() => this.parseTypedef(i));
      i++;
    }
  }

  /** One declaration we cannot follow (half-typed) must not hide the rest of the file. */
  private tryParse(parse: () => void): void {
    try {
      parse();
    } catch {
      // skipped: incomplete construct
    }
  }

  /** A top-level `{…}`: a struct/union definition, a function body, or an initializer. */
  private classifyBlock(open: number, close: number): void {
    const t = this.tokens;
    const prev = t[open - 1];
    const prev2 = t[open - 2];
    if (prev?.kind === 'ident' && (prev2?.text === 'struct' || prev2?.text === 'union')) {
      this.structs.set(`${prev2.text} ${prev.text}`, { bodyOpen: open, bodyClose: close, union: prev2.text === 'union' });
      return;
    }
    if (prev?.text !== ')') return;
    const paramsOpen = matchOpen(t, open - 1);
    const nameTok = t[paramsOpen - 1];
    if (!nameTok || nameTok.kind !== 'ident' || ['if', 'while', 'for', 'switch', 'SEC', '__attribute__'].includes(nameTok.text)) return;
    let name = nameTok.text;
    const paramArgs = splitArgs(t, paramsOpen + 1, open - 1);
    let paramRanges = paramArgs;
    if (PROGRAM_WRAPPERS.has(name) && paramArgs[0]) {
      name = t[paramArgs[0][0]]!.text;
      paramRanges = paramArgs.slice(1);
    }
    // header tokens back to the previous top-level statement end
    let h = paramsOpen - 2;
    while (h >= 0 && t[h]!.text !== ';' && t[h]!.text !== '}') h--;
    const header = t.slice(h + 1, paramsOpen - 1).map((x) => x.text);
    const secIdx = header.indexOf('SEC');
    const typeWords = header.filter((w, idx) => !(secIdx >= 0 && idx >= secIdx && idx <= secIdx + 3) && !QUALIFIERS.has(w) && w !== '__weak');
    const params = new Set<string>();
    for (const [, b] of paramRanges) {
      const last = t[b - 1];
      if (last?.kind === 'ident') params.add(last.text);
    }
    const fn: FunctionDef = {
      name,
      returnsVoid: typeWords.length === 1 && typeWords[0] === 'void',
      bodyOpen: open,
      bodyClose: close,
      params,
      calls: [],
      locals: new Map(),
      isProgram: secIdx >= 0,
    };
    this.collectCallsAndLocals(fn);
    this.functions.push(fn);
  }

  private collectCallsAndLocals(fn: FunctionDef): void {
    const t = this.tokens;
    for (let i = fn.bodyOpen + 1; i < fn.bodyClose; i++) {
      const tok = t[i]!;
      if (tok.kind !== 'ident') continue;
      if (t[i + 1]?.text === '(' && !['if', 'while', 'for', 'switch', 'sizeof', 'return', '__builtin_offsetof', 'typeof', '__typeof__'].includes(tok.text)) {
        const close = matchClose(t, i + 1);
        fn.calls.push({ name: tok.text, nameIndex: i, start: tok.start, end: t[close]?.end ?? tok.end, args: splitArgs(t, i + 2, close), closeIndex: close });
      }
      // declarations: struct X *name / struct X name / typedef_t *name
      let typeText: string | undefined;
      let k = i;
      if ((tok.text === 'struct' || tok.text === 'union') && t[i + 1]?.kind === 'ident') {
        typeText = `${tok.text} ${t[i + 1]!.text}`;
        k = i + 2;
      } else if (this.typedefs.has(tok.text) || PRIMITIVE_SIZES[tok.text] !== undefined) {
        const before = t[i - 1]?.text;
        if (before === ';' || before === '{' || before === '}' || before === 'const' || before === '(' || before === ')') {
          typeText = tok.text;
          k = i + 1;
        }
      }
      if (typeText === undefined) continue;
      let pointer = false;
      while (t[k]?.text === '*' || t[k]?.text === 'const') {
        if (t[k]!.text === '*') pointer = true;
        k++;
      }
      const nameTok = t[k];
      const after = t[k + 1]?.text;
      if (nameTok?.kind === 'ident' && (after === '=' || after === ';' || after === ',' || after === '[')) {
        fn.locals.set(nameTok.text, { typeText, pointer, declIndex: k });
      }
    }
  }

  private parseTypedef(i: number): void {
    const t = this.tokens;
    // typedef struct X name;   typedef struct [X] { … } name;   typedef __u32 my_t;
    let k = i + 1;
    let typeText: string | undefined;
    if ((t[k]?.text === 'struct' || t[k]?.text === 'union')) {
      const kw = t[k]!.text;
      let tag: string | undefined;
      if (t[k + 1]?.kind === 'ident') {
        tag = t[k + 1]!.text;
        k += 2;
      } else k += 1;
      if (t[k]?.text === '{') {
        const close = matchClose(t, k);
        const synthetic = tag ?? `__anon_${t[k]!.start}`;
        this.structs.set(`${kw} ${synthetic}`, { bodyOpen: k, bodyClose: close, union: kw === 'union' });
        typeText = `${kw} ${synthetic}`;
        k = close + 1;
      } else if (tag) typeText = `${kw} ${tag}`;
    } else {
      const words: string[] = [];
      while (t[k]?.kind === 'ident' && t[k + 1]?.text !== ';') words.push(t[k++]!.text);
      typeText = words.join(' ');
    }
    let pointer = false;
    while (t[k]?.text === '*') {
      pointer = true;
      k++;
    }
    const nameTok = t[k];
    if (typeText && nameTok?.kind === 'ident' && t[k + 1]?.text === ';') {
      this.typedefs.set(nameTok.text, pointer ? `${typeText} *` : typeText);
    }
  }

  /** `struct { … } NAME SEC(".maps")` or `struct TAG NAME SEC(".maps")`. */
  private parseMapDecl(secIndex: number): void {
    const t = this.tokens;
    const nameTok = t[secIndex - 1];
    if (!nameTok || nameTok.kind !== 'ident') return;
    let bodyOpen: number;
    let bodyClose: number;
    let sharedType = false;
    if (t[secIndex - 2]?.text === '}') {
      bodyClose = secIndex - 2;
      bodyOpen = matchOpen(t, bodyClose);
      if (bodyOpen < 0) return;
    } else if (t[secIndex - 2]?.kind === 'ident' && t[secIndex - 3]?.text === 'struct') {
      const def = this.structs.get(`struct ${t[secIndex - 2]!.text}`);
      if (!def) return;
      bodyOpen = def.bodyOpen;
      bodyClose = def.bodyClose;
      sharedType = true;
    } else return;
    const fields: MapField[] = [];
    for (const [a, b] of splitStatements(t, bodyOpen + 1, bodyClose)) {
      const head = t[a];
      if (!head || !['__uint', '__type', '__array', '__ulong'].includes(head.text) || t[a + 1]?.text !== '(') continue;
      const close = matchClose(t, a + 1);
      const [nameArg, valueArg] = splitArgs(t, a + 2, close);
      if (!nameArg || !valueArg || valueArg[1] <= valueArg[0]) continue;
      const semi = t[b]?.text === ';' ? t[b].end : t[close]!.end;
      fields.push({
        macro: head.text,
        name: this.textOf(nameArg[0], nameArg[1]),
        valueText: this.textOf(valueArg[0], valueArg[1]),
        valueStart: t[valueArg[0]]!.start,
        valueEnd: t[valueArg[1] - 1]!.end,
        stmtStart: head.start,
        stmtEnd: semi,
      });
    }
    const typeField = fields.find((f) => f.name === 'type');
    let kind: MapKind = 'unknown';
    if (typeField) {
      const v = this.evaluate(typeField.valueText);
      kind = v === 27 ? 'ringbuf' : v === 4 ? 'perf_event_array' : v === 31 ? 'user_ringbuf' : v === undefined ? 'unknown' : 'other';
    }
    this.maps.push({ name: nameTok.text, nameStart: nameTok.start, nameEnd: nameTok.end, bodyOpen: t[bodyOpen]!.start, bodyClose: t[bodyClose]!.start, sharedType, fields, kind });
  }
}

/** Statement ranges [start, semicolonIndex) at depth 0 between two token indexes (the text after the last `;` only when there is some). */
function splitStatements(t: readonly Token[], from: number, to: number): Array<[number, number]> {
  const out = splitTopLevel(t, from, to, ';');
  const [start, end] = out[out.length - 1]!;
  if (start >= end) out.pop();
  return out;
}
