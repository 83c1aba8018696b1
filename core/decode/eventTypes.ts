// Which struct each ring buffer carries (design.md "Event types"): an explicit
// declaration in the object, else inference from the source, else null (raw hex).
//
// Verified with clang 14 -O2 -g (test/unit/decode/eventTypes.test.ts): a struct used only
// through the pointer returned by bpf_ringbuf_reserve(), or only as a stack variable
// passed to bpf_ringbuf_output(), does NOT appear in the object's BTF — BTF carries
// types of globals, maps, function signatures and CO-RE relocations, not of locals.
// So inference names the type here, and the build compiles a wrapper with an anchor
// (`struct X *__anchor`) that puts it into BTF; resolveEventLayouts then finds it.
import { findTypeId, layoutOf } from '../btf/layout';
import type { BpfObjectInfo } from '../elf/bpfObject';
import type { EventLayout } from '../btf/layoutTypes';

export interface InferredEventType {
  /** The ring buffer map's name. */
  map: string;
  /** "struct event", "union u", or a typedef name such as "event_t". */
  typeName: string;
  /** 1-based line of the call. */
  line: number;
  /** How it was found, for messages: "bpf_ringbuf_reserve(&rb, sizeof(*e)) with e declared struct event *". */
  how: string;
}

/** The 1-based line of an offset in `text` (binary search over line starts). */
function lineFinder(text: string): (pos: number) => number {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  return (pos) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/**
 * C-aware scan (not a parser): comments, string/char literals and `#if 0` blocks are
 * ignored. Recognised:
 * - `bpf_ringbuf_reserve(&MAP, sizeof(struct X), …)`, `sizeof(T)` (typedef), `sizeof(*p)` /
 *   `sizeof *p` with `p` declared `struct X *p` (also when assigned later: `p = bpf_ringbuf_reserve(…)`),
 *   and, when the size is not a sizeof, the type of the pointer it is assigned to;
 * - `bpf_ringbuf_output(&MAP, &v, sizeof(v), …)` with `struct X v`, or `v` with `struct X *v`
 *   (`sizeof(*v)`);
 * - bcc: `MAP.ringbuf_output(&v, sizeof(v), …)` and `MAP.ringbuf_reserve(sizeof(struct X))`;
 * - `bpf_ringbuf_reserve_dynptr(&MAP, sizeof(hdr) + len, …)`: the fixed-size header type
 *   (the decoder shows the header; bytes after it are not part of the layout).
 * A variable's type is its nearest declaration before the call (block scope is not modelled).
 * Map names hidden behind macros, and casts in the size expression other than plain
 * parentheses, are not followed.
 */
export function inferEventTypesFromSource(sourceText: string): InferredEventType[] {
  const text = maskSource(sourceText);
  const lineOf = lineFinder(text);
  const typedefs = collectTypedefs(text);
  const decls = collectDeclarations(text, typedefs);
  const varType = (name: string, before: number): Declaration | undefined => {
    let best: Declaration | undefined;
    for (const d of decls) {
      if (d.pos >= before) break;
      if (d.name === name) best = d;
    }
    return best;
  };

  /** Type named by a sizeof operand, or undefined. */
  const typeOfSizeof = (operand: string, at: number): { type: string; note: string } | undefined => {
    const op = stripParens(operand.trim());
    const rec = /^(?:const\s+|volatile\s+)*(struct|union)\s+([A-Za-z_]\w*)$/.exec(op);
    if (rec) return { type: `${rec[1] ?? 'struct'} ${rec[2] ?? ''}`, note: '' };
    const deref = /^\*\s*\(?\s*([A-Za-z_]\w*)\s*\)?$/.exec(op);
    if (deref) {
      const d = varType(deref[1] ?? '', at);
      if (d?.pointer) return { type: d.type, note: ` with ${d.name} declared ${d.type} *` };
      return undefined;
    }
    const ident = /^([A-Za-z_]\w*)$/.exec(op);
    if (ident) {
      const name = ident[1] ?? '';
      const d = varType(name, at);
      if (d) return d.pointer ? undefined : { type: d.type, note: ` with ${d.name} declared ${d.type}` };
      // A variable of a type we do not track (`__u64 one; … sizeof(one)`) is not a type name.
      if (!typedefs.has(name) && declaredAsVariable(text, name, at)) return undefined;
      if (!C_KEYWORDS.has(name)) return { type: name, note: typedefs.has(name) ? ' (typedef)' : '' };
    }
    return undefined;
  };

  const out: InferredEventType[] = [];
  const callRe = /\b(bpf_ringbuf_reserve_dynptr|bpf_ringbuf_reserve|bpf_ringbuf_output)\s*\(|\b([A-Za-z_]\w*)\s*\.\s*(ringbuf_output|ringbuf_reserve)\s*\(/g;
  for (let m = callRe.exec(text); m; m = callRe.exec(text)) {
    const open = m.index + m[0].length - 1;
    const args = splitArgs(text, open);
    if (!args) continue;
    const line = lineOf(m.index);
    const fn = m[1] ?? m[3] ?? '';
    const isBcc = m[1] === undefined;
    const mapName = isBcc ? m[2] : mapIdent(args[0] ?? '');
    if (!mapName) continue;
    const call = isBcc ? `${mapName}.${fn}` : fn;
    const dataArgs = isBcc ? args : args.slice(1);
    let found: { type: string; note: string } | undefined;
    let how = '';
    if (fn === 'bpf_ringbuf_reserve_dynptr') {
      // Variable-size record: `sizeof(hdr) + len` → the fixed header is the event type.
      const size = sizeofOperand(firstTerm(dataArgs[0] ?? ''));
      if (size !== undefined) {
        found = typeOfSizeof(size, m.index);
        how = `${call}(&${mapName}, sizeof(${size.trim()}) + …) (header of a variable-size record)`;
      }
    } else if (fn.endsWith('reserve')) {
      const size = sizeofOperand(dataArgs[0] ?? '');
      if (size !== undefined) {
        found = typeOfSizeof(size, m.index);
        how = `${call}(${isBcc ? '' : `&${mapName}, `}sizeof(${size.trim()}))`;
      }
      if (!found && !isBcc) {
        // `e = bpf_ringbuf_reserve(&rb, 64, 0)`: the pointer's declared type.
        const assigned = /([A-Za-z_]\w*)\s*=\s*(?:\([^()]*\)\s*)?$/.exec(text.slice(Math.max(0, m.index - 200), m.index));
        const d = assigned ? varType(assigned[1] ?? '', m.index + 1) : undefined;
        if (d?.pointer) {
          found = { type: d.type, note: '' };
          how = `${d.name} = ${call}(&${mapName}, …) with ${d.name} declared ${d.type} *`;
        }
      }
    } else {
      const size = sizeofOperand(dataArgs[1] ?? '');
      if (size !== undefined) {
        found = typeOfSizeof(size, m.index);
        how = `${call}(${isBcc ? '' : `&${mapName}, `}…, sizeof(${size.trim()}))`;
      }
      if (!found) {
        const data = stripParens((dataArgs[0] ?? '').trim());
        const addr = /^&\s*([A-Za-z_]\w*)$/.exec(data);
        const plain = /^([A-Za-z_]\w*)$/.exec(data);
        const d = addr ? varType(addr[1] ?? '', m.index) : plain ? varType(plain[1] ?? '', m.index) : undefined;
        if (d && (addr ? !d.pointer : d.pointer)) {
          found = { type: d.type, note: '' };
          how = `${call}(${isBcc ? '' : `&${mapName}, `}${data}, …) with ${d.name} declared ${d.type}${d.pointer ? ' *' : ''}`;
        }
      }
    }
    if (found) out.push({ map: mapName, typeName: found.type, line, how: how + found.note });
  }
  return out;
}

/** True when `name` is declared as a variable (`T name;`, `T name = …`, `T name[…]`, a parameter) before `before`. */
function declaredAsVariable(text: string, name: string, before: number): boolean {
  const re = new RegExp(`\\b[A-Za-z_]\\w*[\\s*]+${name}\\s*(?:[=;,)]|\\[)`, 'g');
  for (let m = re.exec(text); m && m.index < before; m = re.exec(text)) {
    if (!/^(?:return|sizeof|case|goto)\b/.test(m[0])) return true;
  }
  return false;
}

/**
 * Event types declared in the object itself:
 * - `__type(value, struct X)` on a ringbuf map (cilium/ebpf ≥ 0.17 style; the helper drops it before loading);
 * - `__attribute__((btf_decl_tag("event_type:X")))` on the map variable (X = "struct event", "event" or a typedef name);
 * - `btf_decl_tag("event_type:MAP")` on a struct/union: that struct is MAP's event type;
 * - `btf_decl_tag("event_type:MAP=X")` on anything (a global, a function, a struct).
 * A named type that is not in the object's BTF is skipped (the caller falls back to inference).
 */
export function findDeclaredEventTypes(obj: BpfObjectInfo): Map<string, EventLayout> {
  const out = new Map<string, EventLayout>();
  const ringbufs = obj.maps.filter((m) => m.typeName === 'ringbuf');
  for (const m of ringbufs) if (m.declaredValueType) out.set(m.name, m.declaredValueType);
  const btf = obj.btf;
  if (!btf) return out;
  const byName = new Map(ringbufs.map((m) => [m.name, m] as const));
  const layoutNamed = (typeName: string): EventLayout | undefined => {
    const id = findTypeId(btf, typeName);
    return id === undefined ? undefined : { ...layoutOf(btf, id), origin: 'declared' };
  };
  for (let id = 1; id < btf.count; id++) {
    if (btf.kindOf(id) !== 'decl_tag') continue;
    const tag = btf.type(id);
    if (tag.kind !== 'decl_tag' || !tag.name.startsWith('event_type:')) continue;
    const value = tag.name.slice('event_type:'.length).trim();
    const eq = value.indexOf('=');
    if (eq > 0) {
      const map = value.slice(0, eq).trim();
      const layout = byName.has(map) && !out.has(map) ? layoutNamed(value.slice(eq + 1)) : undefined;
      if (layout) out.set(map, layout);
      continue;
    }
    if (tag.componentIdx !== -1) continue;
    const target = btf.type(tag.type);
    if (target.kind === 'var') {
      const map = ringbufs.find((m) => m.btfVarId === target.id || m.name === target.name);
      const layout = map && !out.has(map.name) ? layoutNamed(value) : undefined;
      if (map && layout) out.set(map.name, layout);
    } else if ((target.kind === 'struct' || target.kind === 'union') && byName.has(value) && !out.has(value)) {
      out.set(value, { ...layoutOf(btf, target.id), origin: 'declared' });
    }
  }
  return out;
}

/**
 * Event layout per ringbuf map: declared first, then the inferred type names looked up in
 * the object's BTF (first that resolves wins). null when neither works: the caller shows
 * raw hex (and, for an inferred name missing from BTF, compiles a wrapper with an anchor).
 */
export function resolveEventLayouts(obj: BpfObjectInfo, inferred: InferredEventType[]): Map<string, EventLayout | null> {
  const declared = findDeclaredEventTypes(obj);
  const out = new Map<string, EventLayout | null>();
  for (const m of obj.maps) {
    if (m.typeName !== 'ringbuf') continue;
    const d = declared.get(m.name);
    if (d) {
      out.set(m.name, d);
      continue;
    }
    let layout: EventLayout | null = null;
    if (obj.btf) {
      for (const inf of inferred) {
        if (inf.map !== m.name) continue;
        const id = findTypeId(obj.btf, inf.typeName);
        if (id === undefined || obj.btf.kindOf(id) === 'fwd') continue;
        layout = { ...layoutOf(obj.btf, id), origin: 'inferred' };
        break;
      }
    }
    out.set(m.name, layout);
  }
  return out;
}

// ---------------------------------------------------------------------------

interface Declaration {
  pos: number;
  name: string;
  /** "struct event" or a typedef name. */
  type: string;
  pointer: boolean;
}

const C_KEYWORDS = new Set([
  'int', 'char', 'short', 'long', 'unsigned', 'signed', 'void', 'float', 'double', 'return', 'if', 'else', 'for', 'while',
  'do', 'switch', 'case', 'sizeof', 'struct', 'union', 'enum', 'const', 'volatile', 'static', 'typedef', 'goto', 'break',
  'continue', 'default', 'extern', 'register', 'inline', '_Bool', 'bool',
]);

function collectTypedefs(text: string): Set<string> {
  const out = new Set<string>();
  const re = /\btypedef\b/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 0;
    let i = m.index + m[0].length;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '{' || c === '(') depth++;
      else if (c === '}' || c === ')') depth--;
      else if (c === ';' && depth <= 0) break;
    }
    const tail = text.slice(m.index, i).replace(/\[[^\]]*\]\s*$/, '');
    const fnPtr = /\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\([^]*\)\s*$/.exec(tail);
    const name = fnPtr ? fnPtr[1] : /([A-Za-z_]\w*)\s*$/.exec(tail)?.[1];
    if (name) out.add(name);
  }
  return out;
}

function collectDeclarations(text: string, typedefs: Set<string>): Declaration[] {
  const out: Declaration[] = [];
  const recRe = /\b(struct|union)\s+([A-Za-z_]\w*)\s*(\*?)\s*([A-Za-z_]\w*)\s*(?=[;=,)[])/g;
  for (let m = recRe.exec(text); m; m = recRe.exec(text)) {
    out.push({ pos: m.index, name: m[4] ?? '', type: `${m[1] ?? 'struct'} ${m[2] ?? ''}`, pointer: m[3] === '*' });
  }
  if (typedefs.size) {
    const tdRe = /\b([A-Za-z_]\w*)\s*(\*?)\s*([A-Za-z_]\w*)\s*(?=[;=,)[])/g;
    for (let m = tdRe.exec(text); m; m = tdRe.exec(text)) {
      const t = m[1] ?? '';
      if (!typedefs.has(t)) {
        // Let the regex retry from the next word (the current "type" may be a qualifier).
        tdRe.lastIndex = m.index + t.length;
        continue;
      }
      const before = text.slice(Math.max(0, m.index - 8), m.index);
      if (/\b(struct|union|enum)\s+$/.test(before)) continue;
      out.push({ pos: m.index, name: m[3] ?? '', type: t, pointer: m[2] === '*' });
    }
  }
  return out.sort((a, b) => a.pos - b.pos);
}

/** Arguments of the call whose '(' is at `open`, split at top-level commas; undefined when unbalanced. */
function splitArgs(text: string, open: number): string[] | undefined {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i));
        return args;
      }
    } else if (c === ',' && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
  }
  return undefined;
}

function mapIdent(arg: string): string | undefined {
  return /^\s*\(?\s*&?\s*\(?\s*([A-Za-z_]\w*)\s*\)?\s*\)?\s*$/.exec(arg)?.[1];
}

/** `a + b + c` → `a` (split at the first top-level '+'). */
function firstTerm(expr: string): string {
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === '+' && depth === 0) return expr.slice(0, i);
  }
  return expr;
}

/** The operand of `sizeof(...)` / `sizeof x` when the whole argument is one sizeof. */
function sizeofOperand(arg: string): string | undefined {
  const a = stripParens(arg.trim());
  const m = /^sizeof\s*([^]*)$/.exec(a);
  if (!m) return undefined;
  const rest = (m[1] ?? '').trim();
  if (rest.startsWith('(')) {
    const args = splitArgs(rest, 0);
    if (!args || args.length !== 1) return undefined;
    const consumed = (args[0] ?? '').length + 2;
    if (rest.slice(consumed).trim() !== '') return undefined;
    return args[0];
  }
  return rest;
}

function stripParens(s: string): string {
  let t = s;
  for (let i = 0; i < 8 && t.startsWith('(') && t.endsWith(')'); i++) {
    const args = splitArgs(t, 0);
    if (!args || args.length !== 1 || (args[0] ?? '').length + 2 !== t.length) break;
    t = (args[0] ?? '').trim();
  }
  return t;
}

/**
 * Same length and line breaks as `src`, with comments, string/char literal contents
 * and `#if 0` … `#endif` blocks (nesting-aware; `#else` of an `#if 0` is kept) blanked.
 */
export function maskSource(src: string): string {
  const out = src.split('');
  const n = src.length;
  let i = 0;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to && k < n; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  while (i < n) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      let j = i;
      while (j < n && src[j] !== '\n') j++;
      blank(i, j);
      i = j;
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const j = end < 0 ? n : end + 2;
      blank(i, j);
      i = j;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      blank(i + 1, Math.min(j, n));
      i = j + 1;
    } else {
      i++;
    }
  }
  // #if 0 / #if 1 … #else blocks, on the comment-free text. Other conditions are unknown: both branches stay.
  const text = out.join('');
  const lines = text.split('\n');
  let pos = 0;
  const stack: Array<{ constant: 0 | 1 | undefined; skipping: boolean }> = [];
  for (const line of lines) {
    const pp = /^\s*#\s*(\w+)\s*(.*)$/.exec(line);
    const dir = pp?.[1];
    const arg = (pp?.[2] ?? '').trim();
    if (dir === 'if' || dir === 'ifdef' || dir === 'ifndef') {
      const constant = dir !== 'if' ? undefined : /^\(?\s*0\s*\)?$/.test(arg) ? 0 : /^\(?\s*1\s*\)?$/.test(arg) ? 1 : undefined;
      stack.push({ constant, skipping: constant === 0 });
    } else if ((dir === 'else' || dir === 'elif') && stack.length) {
      const top = stack[stack.length - 1];
      if (top) top.skipping = top.constant === 1;
    } else if (dir === 'endif' && stack.length) {
      stack.pop();
    }
    if (stack.some((f) => f.skipping)) blank(pos, pos + line.length);
    pos += line.length + 1;
  }
  return out.join('');
}
