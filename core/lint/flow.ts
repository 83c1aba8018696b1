// Reserve/submit pairing, per function, the way the verifier sees it (conservatively).
// The body is parsed into structured statements and walked with a small abstract
// state per tracked pointer: 'unchecked' (straight from bpf_ringbuf_reserve, may be
// NULL), 'live' (checked non-NULL, must be submitted or discarded), 'none' (NULL,
// released, or never reserved). Anything we cannot follow (goto, the pointer handed
// to a non-helper function or stored elsewhere) makes us stop tracking: no report
// rather than a false one.
import type { Finding } from './finding';
import { finding } from './finding';
import type { FunctionDef, SourceModel } from '../source/sourceModel';
import { matchClose, splitArgs, splitTopLevel, type Token } from '../source/text';

type VarState = 'none' | 'unchecked' | 'live';
type State = Map<string, Set<VarState>>;

type Stmt =
  | { kind: 'block'; body: Stmt[] }
  | { kind: 'if'; cond: [number, number]; then: Stmt; else?: Stmt }
  | { kind: 'loop'; init?: [number, number]; cond?: [number, number]; step?: [number, number]; body: Stmt; doWhile: boolean }
  | { kind: 'switch'; head: [number, number]; body: Stmt }
  | { kind: 'return'; expr: [number, number]; at: number }
  | { kind: 'break' }
  | { kind: 'continue' }
  | { kind: 'goto' }
  | { kind: 'case'; isDefault: boolean }
  | { kind: 'label' }
  | { kind: 'expr'; range: [number, number] };

const RESERVE = 'bpf_ringbuf_reserve';
const RELEASES = new Set(['bpf_ringbuf_submit', 'bpf_ringbuf_discard']);
const DYNPTR_RELEASES = new Set(['bpf_ringbuf_submit_dynptr', 'bpf_ringbuf_discard_dynptr']);
const NULL_WORDS = new Set(['NULL', '0', '((void*)0)']);

interface TrackedVar {
  reserveStart: number;
  reserveEnd: number;
  dynptr: boolean;
}

/** RB007, RB008, RB015 for one function (a function that throws here is reported as RB019 by the caller). */
export function analyzeReservePairing(model: SourceModel, fn: FunctionDef): Finding[] {
  if (!fn.calls.some((c) => c.name === RESERVE || c.name === 'bpf_ringbuf_reserve_dynptr' || RELEASES.has(c.name))) return [];
  if (fn.bodyClose >= model.tokens.length) return []; // unterminated while typing: judge it once it is complete
  return new FunctionFlow(model, fn).run();
}

class FunctionFlow {
  private readonly t: Token[];
  private readonly tracked = new Map<string, TrackedVar>();
  private readonly escaped = new Set<string>();
  private readonly releasedSomewhere = new Set<string>();
  private readonly reservedSomewhere: Set<string>;
  private readonly reportedUse = new Set<string>();
  private readonly reportedLeak = new Set<string>();
  private readonly findings: Finding[] = [];
  private bail = false;
  private readonly breakStack: Array<Array<State | null>> = [];
  private readonly continueStack: Array<Array<State | null>> = [];
  private readonly switchEntry: Array<State | null> = [];

  constructor(
    private readonly model: SourceModel,
    private readonly fn: FunctionDef,
  ) {
    this.t = model.tokens;
    this.reservedSomewhere = new Set();
    for (const c of fn.calls) {
      if (c.name === RESERVE) {
        const target = this.assignmentTarget(c.nameIndex);
        if (target) this.reservedSomewhere.add(target);
      }
      if (RELEASES.has(c.name)) {
        const v = this.plainIdent(c.args[0]);
        if (v) this.releasedSomewhere.add(v);
      }
      if (DYNPTR_RELEASES.has(c.name)) {
        const v = this.addressOf(c.args[0]);
        if (v) this.releasedSomewhere.add(v);
      }
    }
  }

  run(): Finding[] {
    const body = this.parseBlock(this.fn.bodyOpen);
    const end = this.exec(body, new Map());
    if (this.bail) return this.findings.filter((f) => f.code !== 'RB008');
    if (end) this.checkLeaks(end, this.fn.bodyClose, 'falls off the end of the function');
    return this.findings;
  }

  // ---- parsing -------------------------------------------------------------------

  private parseBlock(open: number): Stmt {
    const close = matchClose(this.t, open);
    const body: Stmt[] = [];
    let i = open + 1;
    while (i < close) {
      const [s, next] = this.parseStmt(i, close);
      body.push(s);
      i = next;
    }
    return { kind: 'block', body };
  }

  /** Parses one statement starting at token i; returns it and the index after it. */
  private parseStmt(i: number, limit: number): [Stmt, number] {
    const t = this.t;
    const tok = t[i];
    if (!tok || i >= limit) return [{ kind: 'block', body: [] }, Math.max(limit, i + 1)];
    const text = tok.text;
    if (text === '{') return [this.parseBlock(i), matchClose(t, i) + 1];
    if (text === ';') return [{ kind: 'block', body: [] }, i + 1];
    if (text === 'if' && t[i + 1]?.text === '(') {
      const close = matchClose(t, i + 1);
      const [then, afterThen] = this.parseStmt(close + 1, limit);
      if (t[afterThen]?.text === 'else') {
        const [els, afterElse] = this.parseStmt(afterThen + 1, limit);
        return [{ kind: 'if', cond: [i + 2, close], then, else: els }, afterElse];
      }
      return [{ kind: 'if', cond: [i + 2, close], then }, afterThen];
    }
    if ((text === 'while' || text === 'switch') && t[i + 1]?.text === '(') {
      const close = matchClose(t, i + 1);
      const [body, after] = this.parseStmt(close + 1, limit);
      if (text === 'switch') return [{ kind: 'switch', head: [i + 2, close], body }, after];
      return [{ kind: 'loop', cond: [i + 2, close], body, doWhile: false }, after];
    }
    if (text === 'for' && t[i + 1]?.text === '(') {
      const close = matchClose(t, i + 1);
      const parts = splitTopLevel(t, i + 2, close, ';');
      const [body, after] = this.parseStmt(close + 1, limit);
      return [{ kind: 'loop', init: parts[0], cond: parts[1], step: parts[2], body, doWhile: false }, after];
    }
    if (text === 'do') {
      const [body, after] = this.parseStmt(i + 1, limit);
      if (t[after]?.text === 'while' && t[after + 1]?.text === '(') {
        const close = matchClose(t, after + 1);
        const end = t[close + 1]?.text === ';' ? close + 2 : close + 1;
        return [{ kind: 'loop', cond: [after + 2, close], body, doWhile: true }, end];
      }
      return [{ kind: 'loop', body, doWhile: true }, after];
    }
    if (text === 'return') {
      const end = this.statementEnd(i + 1, limit);
      return [{ kind: 'return', expr: [i + 1, end], at: i }, end + 1];
    }
    if (text === 'break' || text === 'continue') return [{ kind: text }, this.statementEnd(i, limit) + 1];
    if (text === 'goto') return [{ kind: 'goto' }, this.statementEnd(i, limit) + 1];
    if (text === 'case' || text === 'default') {
      let k = i + 1;
      while (k < limit && t[k]!.text !== ':') k++;
      return [{ kind: 'case', isDefault: text === 'default' }, k + 1];
    }
    if (tok.kind === 'ident' && t[i + 1]?.text === ':') return [{ kind: 'label' }, i + 2];
    const end = this.statementEnd(i, limit);
    return [{ kind: 'expr', range: [i, end] }, end + 1];
  }

  /** Index of the `;` ending the statement that starts at i (nested brackets skipped). */
  private statementEnd(i: number, limit: number): number {
    let depth = 0;
    for (let k = i; k < limit; k++) {
      const x = this.t[k]!.text;
      if (x === '(' || x === '[' || x === '{') depth++;
      else if (x === ')' || x === ']' || x === '}') depth--;
      else if (x === ';' && depth === 0) return k;
    }
    return limit;
  }

  // ---- interpretation --------------------------------------------------------------

  private exec(s: Stmt, st: State | null): State | null {
    if (!st) return null;
    switch (s.kind) {
      case 'block': {
        let cur: State | null = st;
        for (const inner of s.body) {
          if (inner.kind === 'case' && this.switchEntry.length > 0) {
            cur = merge(cur, this.switchEntry[this.switchEntry.length - 1]!);
            continue;
          }
          cur = this.exec(inner, cur);
        }
        return cur;
      }
      case 'expr':
        return this.events(s.range, st);
      case 'if': {
        const { whenTrue, whenFalse } = this.condition(s.cond, st);
        const a = this.exec(s.then, whenTrue);
        const b = s.else ? this.exec(s.else, whenFalse) : whenFalse;
        return merge(a, b);
      }
      case 'loop': {
        let cur: State | null = st;
        if (s.init) cur = this.events(s.init, cur);
        this.breakStack.push([]);
        this.continueStack.push([]);
        let entry: State | null = cur;
        let skip: State | null = null;
        if (!s.doWhile && s.cond && s.cond[1] > s.cond[0] && cur) {
          const c = this.condition(s.cond, cur);
          entry = c.whenTrue;
          skip = c.whenFalse;
        }
        let end = this.exec(s.body, entry);
        for (const c of this.continueStack.pop()!) end = merge(end, c);
        if (s.step && end) end = this.events(s.step, end);
        if (s.doWhile && s.cond && end) end = this.condition(s.cond, end).whenFalse;
        let out = merge(skip, end);
        if (!s.doWhile && !s.cond) out = end; // for (;;) leaves only through break/return … or its end, approximated
        for (const b of this.breakStack.pop()!) out = merge(out, b);
        return out;
      }
      case 'switch': {
        const head = this.events(s.head, st);
        this.breakStack.push([]);
        this.switchEntry.push(head);
        let out = this.exec(s.body, head);
        this.switchEntry.pop();
        for (const b of this.breakStack.pop()!) out = merge(out, b);
        const hasDefault = s.body.kind === 'block' && s.body.body.some((x) => x.kind === 'case' && x.isDefault);
        return hasDefault ? out : merge(out, head); // no matching case
      }
      case 'return': {
        const after = this.events(s.expr, st);
        if (after) this.checkLeaks(after, s.at, 'returns');
        return null;
      }
      case 'break':
        this.breakStack[this.breakStack.length - 1]?.push(st);
        return null;
      case 'continue':
        this.continueStack[this.continueStack.length - 1]?.push(st);
        return null;
      case 'goto':
      case 'label':
        this.bail = true;
        return st;
      case 'case':
        return st;
    }
  }

  private checkLeaks(st: State, at: number, how: string): void {
    for (const [name, states] of st) {
      if (this.escaped.has(name)) continue;
      if (!states.has('live') && !states.has('unchecked')) continue;
      const info = this.tracked.get(name);
      if (!info) continue;
      const reserveLine = this.model.src.position(info.reserveStart).line;
      if (!this.releasedSomewhere.has(name)) {
        const key = `never ${name} ${info.reserveStart}`;
        if (this.reportedLeak.has(key)) continue;
        this.reportedLeak.add(key);
        const what = info.dynptr
          ? `The dynptr '${name}' reserved here is never released with bpf_ringbuf_submit_dynptr() or bpf_ringbuf_discard_dynptr() in ${this.fn.name}() (needed even when the reservation fails)`
          : `The record '${name}' reserved here is never submitted or discarded in ${this.fn.name}()`;
        this.findings.push(
          finding('RB008', this.model.src.file, this.model.src.range(info.reserveStart, info.reserveEnd),
            `${what}; the verifier rejects the program with "Unreleased reference". Call ${info.dynptr ? 'bpf_ringbuf_submit_dynptr(&' + name + ', 0)' : 'bpf_ringbuf_submit(' + name + ', 0)'} once it is filled, or the matching discard on paths that drop it.`,
            `RB008 ${this.fn.name} ${name} never`),
        );
        continue;
      }
      const tok = this.t[at]!;
      const key = `path ${name} ${tok.start}`;
      if (this.reportedLeak.has(key)) continue;
      this.reportedLeak.add(key);
      const end = tok.text === 'return' ? this.statementEnd(at, this.fn.bodyClose) : at;
      const release = info.dynptr ? `bpf_ringbuf_discard_dynptr(&${name}, 0)` : `bpf_ringbuf_discard(${name}, 0)`;
      this.findings.push(
        finding('RB008', this.model.src.file, this.model.src.range(tok.start, this.t[end]?.end ?? tok.end),
          `On this path ${this.fn.name}() ${how} while the ${info.dynptr ? 'dynptr' : 'record'} '${name}' reserved on line ${reserveLine} is neither submitted nor discarded; the verifier rejects the program with "Unreleased reference". Call ${release} (or submit it) before this point.`,
          `RB008 ${this.fn.name} ${name} ${tok.start}`),
      );
    }
  }

  /** Splits a condition on && / || / ! and refines the state for each outcome. */
  private condition(range: [number, number], st: State): { whenTrue: State | null; whenFalse: State | null } {
    let [a, b] = range;
    while (this.t[a]?.text === '(' && matchClose(this.t, a) === b - 1) {
      a++;
      b--;
    }
    const ors = splitTopLevel(this.t, a, b, '||');
    if (ors.length > 1) {
      let whenTrue: State | null = null;
      let cur: State | null = st;
      for (const part of ors) {
        if (!cur) break;
        const c = this.condition(part, cur);
        whenTrue = merge(whenTrue, c.whenTrue);
        cur = c.whenFalse;
      }
      return { whenTrue, whenFalse: cur };
    }
    const ands = splitTopLevel(this.t, a, b, '&&');
    if (ands.length > 1) {
      let whenFalse: State | null = null;
      let cur: State | null = st;
      for (const part of ands) {
        if (!cur) break;
        const c = this.condition(part, cur);
        whenFalse = merge(whenFalse, c.whenFalse);
        cur = c.whenTrue;
      }
      return { whenTrue: cur, whenFalse };
    }
    if (this.t[a]?.text === '!' && b > a + 1) {
      const c = this.condition([a + 1, b], st);
      return { whenTrue: c.whenFalse, whenFalse: c.whenTrue };
    }
    const after = this.events([a, b], st);
    if (!after) return { whenTrue: null, whenFalse: null };
    const test = this.nullTest(a, b);
    if (!test || !this.tracked.has(test.name) || this.tracked.get(test.name)!.dynptr) return { whenTrue: after, whenFalse: clone(after) };
    return {
      whenTrue: refine(after, test.name, test.trueMeansNull),
      whenFalse: refine(after, test.name, !test.trueMeansNull),
    };
  }

  /** Recognises `X`, `X == NULL`, `X != 0`, `NULL == X`, `(X = …)` forms. */
  private nullTest(a: number, b: number): { name: string; trueMeansNull: boolean } | undefined {
    const t = this.t;
    while (t[a]?.text === '(' && matchClose(t, a) === b - 1) {
      a++;
      b--;
    }
    const eq = splitTopLevel(t, a, b, '==');
    const ne = splitTopLevel(t, a, b, '!=');
    const pair = eq.length === 2 ? eq : ne.length === 2 ? ne : undefined;
    if (pair) {
      const [l, r] = pair as [[number, number], [number, number]];
      const ln = this.operandName(l);
      const rn = this.operandName(r);
      const isNull = (x: [number, number]): boolean => NULL_WORDS.has(this.model.textOf(x[0], x[1]).replace(/\s+/g, ''));
      const name = ln && isNull(r) ? ln : rn && isNull(l) ? rn : undefined;
      return name ? { name, trueMeansNull: eq.length === 2 } : undefined;
    }
    const name = this.operandName([a, b]);
    return name ? { name, trueMeansNull: false } : undefined;
  }

  /** `X`, `(X)`, or `X = …` (assignment used as a value) → X. */
  private operandName([a, b]: [number, number]): string | undefined {
    const t = this.t;
    while (t[a]?.text === '(' && matchClose(t, a) === b - 1) {
      a++;
      b--;
    }
    if (t[a]?.kind !== 'ident') return undefined;
    if (b === a + 1) return t[a]!.text;
    if (t[a + 1]?.text === '=') return t[a]!.text;
    return undefined;
  }

  /** Applies the reserve/release/use events in tokens [a, b) in order. */
  private events([a, b]: [number, number], st: State | null): State | null {
    if (!st) return null;
    const t = this.t;
    let cur = st;
    for (let i = a; i < b; i++) {
      const tok = t[i]!;
      if (tok.kind !== 'ident') continue;
      if (tok.text === 'sizeof') {
        if (t[i + 1]?.text === '(') i = matchClose(t, i + 1);
        else while (i + 1 < b && (t[i + 1]!.text === '*' || t[i + 1]!.kind === 'ident')) i++;
        continue;
      }
      const prev = t[i - 1]?.text;
      if (prev === '.' || prev === '->') continue;
      if (tok.text === RESERVE && t[i + 1]?.text === '(') {
        const target = this.assignmentTarget(i);
        if (target && !this.escaped.has(target)) {
          const close = matchClose(t, i + 1);
          cur = set(cur, target, 'unchecked');
          this.tracked.set(target, { reserveStart: tok.start, reserveEnd: t[close]?.end ?? tok.end, dynptr: false });
        }
        continue;
      }
      if (tok.text === 'bpf_ringbuf_reserve_dynptr' && t[i + 1]?.text === '(') {
        const close = matchClose(t, i + 1);
        const args = splitArgs(t, i + 2, close);
        const d = this.addressOf(args[3]);
        if (d && !this.escaped.has(d)) {
          cur = set(cur, d, 'live');
          this.tracked.set(d, { reserveStart: tok.start, reserveEnd: t[close]?.end ?? tok.end, dynptr: true });
        }
        i = close;
        continue;
      }
      if ((RELEASES.has(tok.text) || DYNPTR_RELEASES.has(tok.text)) && t[i + 1]?.text === '(') {
        const close = matchClose(t, i + 1);
        cur = this.release(tok, i, close, cur);
        i = close;
        continue;
      }
      const info = this.tracked.get(tok.text);
      if (!info || this.escaped.has(tok.text) || info.dynptr) continue;
      cur = this.pointerUse(i, b, cur);
    }
    return cur;
  }

  private release(tok: Token, i: number, close: number, st: State): State {
    const t = this.t;
    const args = splitArgs(t, i + 2, close);
    const callRange = this.model.src.range(tok.start, t[close]!.end);
    if (DYNPTR_RELEASES.has(tok.text)) {
      const d = this.addressOf(args[0]);
      return d && this.tracked.has(d) ? set(st, d, 'none') : st;
    }
    const name = this.plainIdent(args[0]);
    if (!name) {
      const argText = args[0] ? this.model.textOf(args[0][0], args[0][1]) : '';
      if (argText.replace(/^\(\s*void\s*\*\s*\)\s*/, '').startsWith('&')) {
        this.findings.push(
          finding('RB015', this.model.src.file, callRange,
            `${tok.text}() is given '${argText}', the address of a variable, not a record from bpf_ringbuf_reserve(); the verifier rejects it. Reserve the record with bpf_ringbuf_reserve() and pass that pointer, or use bpf_ringbuf_output() to copy '${argText.replace(/^&\s*/, '')}'.`,
            `RB015 ${this.fn.name} ${tok.start}`),
        );
      }
      return st;
    }
    if (!this.tracked.has(name)) {
      const local = this.fn.locals.get(name);
      const fromElsewhere = this.fn.params.has(name) || this.reservedSomewhere.has(name) || this.escaped.has(name);
      // a pointer local may come from a wrapper of the user's (e = my_reserve()): quiet; an array or struct is stack memory for sure
      if (local && !local.pointer && !fromElsewhere) {
        this.findings.push(
          finding('RB015', this.model.src.file, callRange,
            `${tok.text}() is given '${name}', a ${local.typeText} on the stack, not a record from bpf_ringbuf_reserve(); only a reserved record can be submitted or discarded (the verifier rejects anything else). Reserve the record with bpf_ringbuf_reserve() and fill it in place, or copy '${name}' with bpf_ringbuf_output().`,
            `RB015 ${this.fn.name} ${tok.start}`),
        );
      }
      return st;
    }
    if (this.escaped.has(name)) return st;
    if (st.get(name)?.has('unchecked')) this.reportUnchecked(name, tok.start, t[close]!.end, `is passed to ${tok.text}()`);
    return set(st, name, 'none');
  }

  /** A tracked pointer appears at token i: dereference, call argument, alias or comparison. */
  private pointerUse(i: number, limit: number, st: State): State {
    const t = this.t;
    const name = t[i]!.text;
    const next = t[i + 1]?.text;
    const prev = t[i - 1];
    const derefByStar = prev?.text === '*' && isUnaryContext(t[i - 2]);
    if (next === '->' || next === '[' || derefByStar) {
      if (st.get(name)?.has('unchecked')) {
        let end = i + 1;
        if (next === '->') end = i + 3;
        this.reportUnchecked(name, derefByStar ? prev.start : t[i]!.start, t[Math.min(end, limit) - 1]!.end, 'is dereferenced');
      }
      return st;
    }
    if (next === '=' ) {
      // overwritten with something other than a reserve (handled earlier): stop following it
      this.escaped.add(name);
      return st;
    }
    // the pointer as a whole value: alias, return value, or call argument
    const call = this.enclosingCall(i);
    if (call) {
      if (/^(bpf_|__builtin_|mem(set|cpy|move)$)/.test(call.name)) {
        if (st.get(name)?.has('unchecked')) this.reportUnchecked(name, t[i]!.start, t[i]!.end, `is passed to ${call.name}()`);
        return st;
      }
      if (['if', 'while', 'for', 'switch', 'return'].includes(call.name)) return st;
      this.escaped.add(name); // a helper of the user's may submit it
      return st;
    }
    const p = prev?.text;
    const isComparison = ['==', '!=', '!', '&&', '||', '?'].includes(p ?? '') || ['==', '!=', '&&', '||', '?', ')'].includes(next ?? '');
    if (isComparison) return st;
    if (p === '=' || p === 'return' || p === ',' || p === '(') this.escaped.add(name);
    return st;
  }

  private reportUnchecked(name: string, start: number, end: number, how: string): void {
    if (this.reportedUse.has(name)) return;
    this.reportedUse.add(name);
    const info = this.tracked.get(name)!;
    const line = this.model.src.position(info.reserveStart).line;
    this.findings.push(
      finding('RB007', this.model.src.file, this.model.src.range(start, end),
        `'${name}' from bpf_ringbuf_reserve() on line ${line} ${how} before it is checked for NULL; reserve returns NULL when the ring is full, and the verifier rejects this with "invalid mem access 'ringbuf_mem_or_null'". Add 'if (!${name}) return 0;' right after the reserve.`,
        `RB007 ${this.fn.name} ${name}`),
    );
  }

  /** Name of the function whose argument list directly contains token i, or undefined. */
  private enclosingCall(i: number): { name: string } | undefined {
    const t = this.t;
    let depth = 0;
    for (let k = i - 1; k > this.fn.bodyOpen; k--) {
      const x = t[k]!.text;
      if (x === ')' || x === ']' || x === '}') depth++;
      else if (x === '[' || x === '{') {
        if (depth === 0) return undefined;
        depth--;
      } else if (x === '(') {
        if (depth === 0) {
          const before = t[k - 1];
          // a cast `(type *)X` is not a call: keep looking outward
          if (before?.kind === 'ident') return { name: before.text };
          continue;
        }
        depth--;
      } else if ((x === ';') && depth === 0) return undefined;
    }
    return undefined;
  }

  /** For `X = bpf_ringbuf_reserve(` / `X = (T *)bpf_ringbuf_reserve(`: X. */
  private assignmentTarget(reserveIndex: number): string | undefined {
    const t = this.t;
    let k = reserveIndex - 1;
    if (t[k]?.text === ')') {
      // a cast in front of the call
      let depth = 0;
      for (; k > 0; k--) {
        if (t[k]!.text === ')') depth++;
        else if (t[k]!.text === '(' && --depth === 0) break;
      }
      k--;
    }
    if (t[k]?.text !== '=') return undefined;
    const target = t[k - 1];
    const before = t[k - 2]?.text;
    if (target?.kind !== 'ident' || before === '.' || before === '->') return undefined;
    return target.text;
  }

  /** The identifier of an argument like `e`, `(e)`, `(void *)e`. */
  private plainIdent(range: [number, number] | undefined): string | undefined {
    if (!range) return undefined;
    const text = this.model.textOf(range[0], range[1]).replace(/^\(\s*void\s*\*\s*\)\s*/, '').replace(/^\((.*)\)$/, '$1').trim();
    return /^[A-Za-z_]\w*$/.test(text) ? text : undefined;
  }

  /** The identifier of an argument like `&d`. */
  private addressOf(range: [number, number] | undefined): string | undefined {
    if (!range) return undefined;
    const text = this.model.textOf(range[0], range[1]).replace(/\s+/g, '');
    const m = /^&([A-Za-z_]\w*)$/.exec(text);
    return m?.[1];
  }
}

function isUnaryContext(tok: Token | undefined): boolean {
  if (!tok) return true;
  if (tok.kind === 'ident') return tok.text === 'return';
  if (tok.kind === 'number' || tok.kind === 'string' || tok.kind === 'char') return false;
  return tok.text !== ')' && tok.text !== ']';
}

function clone(st: State): State {
  const out: State = new Map();
  for (const [k, v] of st) out.set(k, new Set(v));
  return out;
}

function set(st: State, name: string, v: VarState): State {
  const out = clone(st);
  out.set(name, new Set([v]));
  return out;
}

function merge(a: State | null, b: State | null): State | null {
  if (!a) return b ? clone(b) : null;
  if (!b) return clone(a);
  const out = clone(a);
  for (const [k, v] of b) {
    const s = out.get(k) ?? new Set<VarState>(['none']);
    for (const x of v) s.add(x);
    out.set(k, s);
  }
  for (const [k, s] of out) if (!b.has(k)) s.add('none');
  return out;
}

/** The path where `name` is NULL (isNull) or not. Null when that path cannot happen. */
function refine(st: State, name: string, isNull: boolean): State | null {
  const cur = st.get(name);
  if (!cur) return clone(st);
  const next = new Set<VarState>();
  for (const v of cur) {
    if (isNull) {
      if (v === 'unchecked' || v === 'none') next.add('none');
    } else {
      if (v === 'unchecked') next.add('live');
      else next.add(v);
    }
  }
  if (next.size === 0) return null;
  const out = clone(st);
  out.set(name, next);
  return out;
}
