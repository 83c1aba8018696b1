// The kernel's verifier log, structured. Works on level 1 (the failing path only) and
// level 2 (every path the verifier walked) logs of kernels 5.10 to 6.18:
//
//   ; e->pid = pid; @ prog.bpf.c:25              source annotation (6.2+; 5.10/6.1: `; e->pid = pid;`)
//   10: (63) *(u32 *)(r7 +0) = r6     ; R6=…      instruction, with the registers it touched (6.x)
//   10: R6=scalar() R7=ringbuf_mem(…) refs=3     state before an instruction (5.10 prints it for each)
//   from 14 to 18: R0=scalar() … refs=3          a branch the verifier comes back to (a new path)
//   18: safe / from 7 to 9: safe                 a path pruned: an equivalent state was already proven safe
//   Unreleased reference id=3 alloc_insn=6       the error, just before the summary
//   processed 21 insns (limit 1000000) max_states_per_insn 1 total_states 2 peak_states 2 mark_read 0
//
// The parser is incremental (`push` text as it arrives, `finish` once), linear in the
// log's size, and never throws: a line it does not understand is counted and kept.
import { parseState, type PrintedState } from './state';
import type { VerifierSummary } from '../protocol/helper';

export interface SourceRef {
  /** File name as the log (or line info) prints it; '' when the annotation names none (kernels before 6.2). */
  file: string;
  /** 1-based; 0 when unknown (compiler-generated code, or a bare annotation). */
  line: number;
  /** The source line's text as the compiler recorded it. */
  text: string;
}

/** One instruction the verifier processed, on the path that matters. */
export interface PathStep {
  insn: number;
  /** Opcode byte, e.g. 0x85 for a call. */
  code: number;
  /** The instruction as printed: `call bpf_ringbuf_reserve#131`, `if r7 == 0x0 goto pc+9`. */
  text: string;
  source?: SourceRef;
  /** Call frame the instruction runs in (0 = the program itself). */
  frame: number;
  /** Every register and stack slot known just before the instruction, carried along the path. */
  before: PrintedState;
  /** What the verifier printed after it: the registers and slots it touched, with their new values. */
  after: PrintedState;
}

/** The summary lines, as the helper's LOADED reports them too (protocol's VerifierSummary). */
export type VerifierStats = VerifierSummary;

export interface VerifierErrorText {
  /** The verifier's own words, without detail lines (e.g. "R7 invalid mem access 'ringbuf_mem_or_null'"). */
  message: string;
  /** Further lines that came with it ("cur state: …", "BPF_EXIT instruction … would lead to reference leak"). */
  details: string[];
  /** The instruction it is about: named in the message ("at insn 6"), else the last one processed. */
  insn?: number;
  /** For an unreleased reference: the instruction that acquired it (`alloc_insn=6`). */
  acquiredInsn?: number;
}

export interface ParsedVerifierLog {
  /** Level 2 (every path, visits complete) or level 1 (the failing path; the log was rewound at each branch). */
  level: 1 | 2;
  /** Instructions printed (the visits the heat map counts). */
  instructionsSeen: number;
  /** Visits per instruction index. */
  visits: Map<number, number>;
  /** Source of each instruction, from the annotations (the last one printed before it). */
  sources: Map<number, SourceRef>;
  /** Branches the verifier came back to: `from X to Y`, with how often. */
  branches: Map<string, { from: number; to: number; count: number }>;
  /** Paths that ended at an exit, and paths pruned as equivalent to one already checked. */
  pathEnds: { exits: number; pruned: number };
  /** The path that was being walked when the log ended (the failing path for a rejection). */
  path: PathStep[];
  /** Steps dropped from the start of a very long path (only the last ones are kept). */
  pathDropped: number;
  /** The path's start is not in the log (the log lost its head, or a branch could not be matched). */
  pathIncomplete: boolean;
  error?: VerifierErrorText;
  stats?: VerifierStats;
  /** The log does not start at instruction 0 (a size-limited buffer kept only its tail). */
  truncatedStart: boolean;
  /** Lines the parser did not recognise (they are kept, at most 50, for the raw view). */
  unknownLines: number;
  unknownSample: string[];
}

const MAX_LINE = 64 * 1024;
/** Steps of the current path kept with their text; older ones keep only what ancestry matching needs. */
const KEEP_PATH_TEXT = 20_000;

const NOISE: RegExp[] = [
  /^func#\d+ @\d+/,
  /^Live regs before insn:/,
  /^\s+(\d+\s+)?\d+: [.0-9]{4,}\s/,
  /^arg#\d+ reference type/,
  /^reg type unsupported for arg#/,
  /^Validating /,
  /^Func#\d+ /,
  /^mark_precise: /,
  /^\(\d+\) (frame \d+ insn|live stack update)/,
  /^SCC (enter|exit)/,
  /^(frame \d{1,2}: )?propagating /,
  /^parent (didn't|already) /,
  /^last_idx /,
  /^regs=/,
  /^returning from callee:/,
  /^to caller at \d+:/,
  /^(caller|callee):$/,
  /^-- (BEGIN|END) PROG LOAD LOG --/,
  /^libbpf: /,
  /^verification time /,
  /^stack depth /,
  /^\s*$/,
];

/** Lines that follow an error and belong to it (state dumps, second sentences). */
const ERROR_DETAIL = /^(cur state:|old state:|BPF_EXIT instruction .*would lead to reference leak|\s)/;

interface ChainEntry {
  insn: number;
  code: number;
  /** Taken target of a conditional jump (`goto pc+N`), undefined otherwise. */
  target?: number;
  /** A pending branch from here was already explored. */
  popped: boolean;
  /** The printed line (instruction and its `; …` comment); dropped for old steps of very long paths. */
  line?: string;
  source?: SourceRef;
  /** State printed just before this instruction: a full state (`from X to Y: …`) or the touched registers (`N: …`). */
  pre?: { full: boolean; text: string };
}

interface OpenStep {
  pos: number;
  entry: ChainEntry;
}

const CONDITIONAL_JUMP_CLASSES = new Set([0x05, 0x06]);

/** An instruction whose text has a known end (a jump, a call, exit) followed by words of the verifier's. */
const GLUED_AFTER_INSN = /^((?:if .* )?goto pc[+-]\d{1,7}|call [\w.]{1,128}#\d{1,7}|exit) ([a-zA-Z].*)$/;

function isConditional(code: number, text: string): boolean {
  return CONDITIONAL_JUMP_CLASSES.has(code & 0x07) && (code & 0xf0) !== 0x80 && (code & 0xf0) !== 0x90 && /^(if |may_goto)/.test(text);
}

function jumpTarget(insn: number, text: string): number | undefined {
  const m = /goto pc([+-]\d{1,7})\s*$/.exec(text);
  return m ? insn + Number(m[1]) + 1 : undefined;
}

/** Where an instruction's `; R0=…` comment starts (a `;` outside parentheses), else the text's length. */
function commentStart(rest: string): number {
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) depth = Math.max(0, depth - 1);
    else if (c === 59 && depth === 0) return i;
  }
  return rest.length;
}

/** `; text @ file:LINE` → SourceRef; `; text` (kernels before 6.2) → text only. */
function annotation(line: string): SourceRef {
  const body = line.slice(2);
  const at = body.lastIndexOf(' @ ');
  if (at >= 0) {
    const where = body.slice(at + 3);
    const colon = where.lastIndexOf(':');
    const num = where.slice(colon + 1);
    if (colon > 0 && /^\d{1,9}$/.test(num)) return { file: where.slice(0, colon), line: Number(num), text: body.slice(0, at).trim() };
  }
  return { file: '', line: 0, text: body.trim() };
}

function numberAfter(text: string, word: string): number | undefined {
  const m = new RegExp(`\\b${word} (\\d{1,12})\\b`).exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The summary lines (`processed …`, and with BPF_LOG_STATS `verification time …`, `stack depth …`). */
function parseStats(line: string, into: Partial<VerifierStats>): Partial<VerifierStats> | undefined {
  const processed = /^processed (\d{1,12}) insns/.exec(line);
  if (processed) {
    const s: Partial<VerifierStats> = { ...into, insnsProcessed: Number(processed[1]) };
    const limit = /\(limit (\d{1,12})\)/.exec(line);
    if (limit) s.insnLimit = Number(limit[1]);
    const fields: Array<[keyof VerifierStats, string]> = [['maxStatesPerInsn', 'max_states_per_insn'], ['totalStates', 'total_states'], ['peakStates', 'peak_states'], ['markRead', 'mark_read']];
    for (const [key, word] of fields) {
      const n = numberAfter(line, word);
      if (n !== undefined) (s as unknown as Record<string, number>)[key] = n;
    }
    return s;
  }
  const time = /^verification time (\d{1,12}) usec/.exec(line);
  if (time) return { ...into, verificationTimeUs: Number(time[1]) };
  const depth = /^stack depth ([\d+]{1,64})/.exec(line);
  if (depth) return { ...into, stackDepth: depth[1] ?? '' };
  return undefined;
}

/**
 * The summary of a whole log without reading the rest of it (the BPF_LOG_STATS lines:
 * `processed …`, `verification time …`, `stack depth …`, the last of each), or undefined
 * when there is none. Older kernels print fewer fields; absent ones stay undefined.
 */
export function parseVerifierSummary(log: string): VerifierStats | undefined {
  let stats: Partial<VerifierStats> = {};
  for (const m of log.matchAll(/^(?:processed \d|verification time \d|stack depth \d).*$/gm)) stats = parseStats(m[0], stats) ?? stats;
  return stats.insnsProcessed === undefined ? undefined : (stats as VerifierStats);
}

/** Incremental parser: `push` chunks of log text in order, then `finish`. */
export class VerifierLogParser {
  private carry = '';
  private chain: ChainEntry[] = [];
  private readonly openByInsn = new Map<number, OpenStep[]>();
  private readonly openByTarget = new Map<number, OpenStep[]>();
  private indexed = 0;
  private keptFrom = 0;
  private source: SourceRef | undefined;
  private pendingPre: ChainEntry['pre'];
  /** The walk reached an exit or a pruned state: the next instruction starts another path. */
  private pathEnded = false;
  private exitPending = false;
  private rewound = false;
  private sawLevel2 = false;
  private firstInsn: number | undefined;
  private sawInitialState = false;
  private dropped = 0;
  private incomplete = false;
  /** Lines since the last instruction/state that are neither noise nor known: the error candidates. */
  private trailing: string[] = [];
  /** Words printed on an instruction's line after it (level 1 on a loop: `7: (15) if … goto pc-2 infinite loop detected at insn 6`). */
  private glued: string | undefined;
  private lastInsn: number | undefined;
  private stats: Partial<VerifierStats> = {};
  private readonly out: ParsedVerifierLog = {
    level: 1,
    instructionsSeen: 0,
    visits: new Map(),
    sources: new Map(),
    branches: new Map(),
    pathEnds: { exits: 0, pruned: 0 },
    path: [],
    pathDropped: 0,
    pathIncomplete: false,
    truncatedStart: false,
    unknownLines: 0,
    unknownSample: [],
  };

  push(text: string): void {
    const data = this.carry + text;
    let start = 0;
    for (let nl = data.indexOf('\n', start); nl >= 0; nl = data.indexOf('\n', start)) {
      this.line(data.slice(start, nl));
      start = nl + 1;
    }
    this.carry = data.slice(start);
    if (this.carry.length > MAX_LINE) {
      this.line(this.carry);
      this.carry = '';
    }
  }

  finish(): ParsedVerifierLog {
    if (this.carry) this.line(this.carry);
    this.carry = '';
    const out = this.out;
    out.level = this.sawLevel2 || (!this.rewound && out.branches.size === 0) ? 2 : 1;
    out.truncatedStart = this.firstInsn !== undefined && this.firstInsn !== 0 && !this.sawInitialState;
    out.pathDropped = this.dropped;
    out.pathIncomplete = this.incomplete || out.truncatedStart;
    out.path = buildPath(this.chain.slice(this.keptFrom));
    out.pathDropped += this.keptFrom;
    if (this.stats.insnsProcessed !== undefined) out.stats = { ...this.stats, insnsProcessed: this.stats.insnsProcessed };
    const err = errorOf(this.trailing, this.lastInsn);
    if (err) out.error = err;
    return out;
  }

  private line(raw: string): void {
    const line = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // Dispatch on the first character: level 2 logs run to millions of lines.
    const c = line.charCodeAt(0);
    if ((c >= 48 && c <= 57) || (c === 102 && line.startsWith('from '))) {
      if (this.instruction(line) || this.stateOrBranch(line)) {
        this.clearTrailing();
        if (this.glued) this.trailing.push(this.glued);
        this.glued = undefined;
        return;
      }
    } else if (c === 59 && (line.length === 1 || line.charCodeAt(1) === 32)) {
      this.source = annotation(line.length === 1 ? '; ' : line);
      this.clearTrailing();
      return;
    } else if (c === 109 && line.startsWith('mark_precise: ')) {
      this.sawLevel2 = true;
      return;
    }
    // A state without an index: 5.10 after a conditional jump, 6.x after `to caller at N:`.
    if (/^\s*(frame\d{1,2}: )?R\d{1,2}(_[rwD]{1,3})?=/.test(line)) {
      this.pendingPre = this.pendingPre?.full ? this.pendingPre : { full: false, text: line.trim() };
      this.clearTrailing();
      return;
    }
    const stats = parseStats(line, this.stats);
    if (stats) {
      this.stats = stats;
      return;
    }
    if (/^(returning from callee:|to caller at \d+:)/.test(line)) this.exitPending = false;
    if (NOISE.some((re) => re.test(line))) {
      if (/^(Live regs before insn:|mark_precise: )/.test(line)) this.sawLevel2 = true;
      return;
    }
    this.trailing.push(line);
    if (this.trailing.length > 200) this.trailing.splice(0, this.trailing.length - 200);
  }

  /** Words followed by more log were not the error: they are lines this parser does not know. */
  private clearTrailing(): void {
    for (const l of this.trailing) {
      this.out.unknownLines++;
      if (this.out.unknownSample.length < 50) this.out.unknownSample.push(l.slice(0, 500));
    }
    this.trailing = [];
  }

  /** `N: (op) text [; state]` — an instruction being processed. */
  private instruction(line: string): boolean {
    const m = /^(\d{1,7}): \(([0-9a-f]{2})\) ?/.exec(line);
    if (!m) return false;
    // Level 1 only: the popped branch's state, on the line of the instruction the log was rewound to.
    const insn = Number(m[1]);
    const code = parseInt(m[2] ?? '0', 16);
    let rest = line.slice(m[0].length);
    let rewoundTo: { insn: number; state: string } | undefined;
    const comment = commentStart(rest);
    const tail = comment === rest.length ? /\s(\d{1,7}): ((?:frame\d{1,2}: )?(?:R\d{1,2}|fp-?\d|refs=).*)$/.exec(rest) : null;
    if (tail) {
      rewoundTo = { insn: Number(tail[1]), state: tail[2] ?? '' };
      rest = rest.slice(0, tail.index);
    } else if (comment === rest.length) {
      const glued = GLUED_AFTER_INSN.exec(rest);
      if (glued) {
        this.glued = glued[2];
        rest = glued[1] ?? rest;
      }
    }
    this.startPathIfEnded(insn);
    this.firstInsn ??= insn;
    this.count(insn);
    const entry: ChainEntry = { insn, code, popped: false, line: rest };
    if (CONDITIONAL_JUMP_CLASSES.has(code & 0x07)) {
      const textOnly = rest.slice(0, tail ? rest.length : comment).trim();
      if (isConditional(code, textOnly)) entry.target = jumpTarget(insn, textOnly);
    }
    if (this.source) entry.source = this.source;
    if (this.pendingPre) entry.pre = this.pendingPre;
    this.pendingPre = undefined;
    this.pushChain(entry);
    this.lastInsn = insn;
    if (code === 0x95) {
      this.exitPending = true;
      this.out.pathEnds.exits++;
    }
    if (rewoundTo) {
      this.rewound = true;
      entry.popped = true;
      this.noteBranch(insn, rewoundTo.insn);
      // A state forked at this very instruction (6.18 splits `r &= K` on [-1, 0]) runs it again.
      if (rewoundTo.insn === insn) this.chain.pop();
      this.pendingPre = { full: true, text: rewoundTo.state };
    }
    return true;
  }

  /** `N: state`, `N: safe`, `from X to Y: state|safe`. */
  private stateOrBranch(line: string): boolean {
    const from = /^from (\d{1,7}) to (\d{1,7})( \(speculative execution\))?: ?(.*)$/.exec(line);
    if (from) {
      const x = Number(from[1]);
      const y = Number(from[2]);
      // After an exit or a pruned state the log goes on: level 2 (level 1 rewinds over the finished path).
      if (this.exitPending || this.pathEnded) this.sawLevel2 = true;
      this.noteBranch(x, y);
      this.backTo(x, y);
      const rest = from[4] ?? '';
      if (rest === 'safe') this.endPath(true);
      else this.pendingPre = { full: true, text: rest };
      return true;
    }
    const m = /^(\d{1,7}): (.*)$/.exec(line);
    if (!m) return false;
    const rest = m[2] ?? '';
    if (rest === 'safe') {
      this.endPath(true);
      return true;
    }
    if (!/^(frame\d{1,2}: )?(R\d{1,2}|fp-?\d|refs=)/.test(rest)) return false;
    if (Number(m[1]) === 0 && this.firstInsn === undefined) this.sawInitialState = true;
    this.firstInsn ??= Number(m[1]);
    // 5.10 at level 2 prints the whole state before every instruction; 6.x only what changed.
    this.pendingPre = this.pendingPre?.full ? this.pendingPre : { full: false, text: rest };
    return true;
  }

  private count(insn: number): void {
    this.out.instructionsSeen++;
    this.out.visits.set(insn, (this.out.visits.get(insn) ?? 0) + 1);
    if (this.source && !this.out.sources.has(insn)) this.out.sources.set(insn, this.source);
  }

  private noteBranch(from: number, to: number): void {
    const key = `${from}>${to}`;
    const b = this.out.branches.get(key);
    if (b) b.count++;
    else if (this.out.branches.size < 100_000) this.out.branches.set(key, { from, to, count: 1 });
  }

  private endPath(pruned: boolean): void {
    if (pruned) this.out.pathEnds.pruned++;
    this.pathEnded = true;
    this.exitPending = false;
  }

  /** After an exit or a pruned state, the next instruction comes from the branch stack. */
  private startPathIfEnded(insn: number): void {
    if (this.exitPending) {
      this.exitPending = false;
      this.pathEnded = true;
    }
    if (!this.pathEnded) return;
    this.pathEnded = false;
    this.sawLevel2 = true;
    // 5.10 at level 2 prints no `from X to Y`: the branch is the latest open one that jumps here.
    this.backTo(undefined, insn);
  }

  /** Truncates the current path to the branch point it resumes from (the latest open one). */
  private backTo(from: number | undefined, to: number): void {
    this.pathEnded = false;
    this.exitPending = false;
    const jumpsThere = (e: ChainEntry): boolean => e.target !== undefined && (e.target === to || e.insn + 1 === to);
    // A conditional jump first; else (callbacks, iterators) any open instruction the log names.
    const at =
      from !== undefined
        ? (this.latestOpen(this.openByInsn, from, jumpsThere) ?? this.latestOpen(this.openByInsn, from, () => true))
        : (this.latestOpen(this.openByTarget, to, jumpsThere) ?? this.latestOpen(this.openByInsn, to - 1, jumpsThere));
    if (at !== undefined) {
      const e = this.chain[at];
      if (e) e.popped = true;
      // A state forked at an instruction runs that instruction again: the fork point is not a step.
      this.chain.length = e?.insn === to ? at : at + 1;
      this.keptFrom = Math.min(this.keptFrom, this.chain.length);
      return;
    }
    // Level 1 rewinds the log to the branch itself: nothing to cut. Otherwise the ancestry is lost.
    const last = this.chain[this.chain.length - 1];
    if (last && from !== undefined && last.insn === from) return;
    if (this.chain.length) this.incomplete = true;
    this.dropped += this.chain.length;
    this.chain = [];
    this.keptFrom = 0;
    this.openByInsn.clear();
    this.openByTarget.clear();
  }

  /**
   * The position of the latest open (not yet resumed) step on the current path that `key`
   * indexes and `match` accepts. Index entries of steps cut off the path are dropped lazily,
   * so a pop costs about the steps it removes, not the path's length.
   */
  private latestOpen(index: Map<number, OpenStep[]>, key: number, match: (e: ChainEntry) => boolean): number | undefined {
    const list = index.get(key);
    if (!list) return undefined;
    const live = (o: OpenStep): boolean => o.pos < this.chain.length && this.chain[o.pos] === o.entry && !o.entry.popped;
    while (list.length && !live(list[list.length - 1] as OpenStep)) list.pop();
    for (let i = list.length - 1, tries = 0; i >= 0 && tries < 64; i--, tries++) {
      const o = list[i] as OpenStep;
      if (live(o) && match(o.entry)) return o.pos;
    }
    return undefined;
  }

  private pushChain(entry: ChainEntry): void {
    // Index entries of steps no longer on the path pile up: rebuild from the path now and then.
    if (this.indexed > 4 * this.chain.length + 10_000) this.reindex();
    this.index({ pos: this.chain.length, entry });
    this.chain.push(entry);
    if (this.chain.length - this.keptFrom > 2 * KEEP_PATH_TEXT) {
      const until = this.chain.length - KEEP_PATH_TEXT;
      for (let i = this.keptFrom; i < until; i++) {
        const e = this.chain[i];
        if (e) {
          e.line = undefined;
          e.pre = undefined;
        }
      }
      this.keptFrom = until;
    }
  }

  private reindex(): void {
    this.openByInsn.clear();
    this.openByTarget.clear();
    this.indexed = 0;
    this.chain.forEach((entry, pos) => {
      if (!entry.popped) this.index({ pos, entry });
    });
  }

  private index(open: OpenStep): void {
    const entry = open.entry;
    this.indexed++;
    const byInsn = this.openByInsn.get(entry.insn);
    if (byInsn) byInsn.push(open);
    else this.openByInsn.set(entry.insn, [open]);
    if (entry.target !== undefined) {
      const byTarget = this.openByTarget.get(entry.target);
      if (byTarget) byTarget.push(open);
      else this.openByTarget.set(entry.target, [open]);
    }
  }
}

/** Replays the states along the kept steps of a path: full states replace, printed changes overlay. */
function buildPath(entries: ChainEntry[]): PathStep[] {
  const frames = new Map<number, Map<string, string>>();
  let frame = 0;
  let refs: string | undefined;
  const apply = (s: PrintedState, replace: boolean): void => {
    frame = s.frame;
    let regs = frames.get(frame);
    if (!regs || replace) {
      regs = new Map();
      frames.set(frame, regs);
    }
    for (const slot of s.slots) regs.set(slot.name, slot.value);
    if (s.refs !== undefined) refs = s.refs;
  };
  const snapshot = (): PrintedState => ({
    frame,
    slots: [...(frames.get(frame) ?? new Map<string, string>())].map(([name, value]) => ({ name, value })),
    ...(refs !== undefined ? { refs } : {}),
  });
  const steps: PathStep[] = [];
  entries.forEach((e, i) => {
    if (e.pre) apply(parseState(e.pre.text), e.pre.full);
    const line = e.line ?? '';
    const semi = commentStart(line);
    const text = line.slice(0, semi).trim();
    let after: PrintedState = semi < line.length ? parseState(line.slice(semi + 1).trim()) : { frame, slots: [] };
    // No comment (precision tracking interrupted it): the changes print as the next instruction's state.
    const next = entries[i + 1]?.pre;
    if (semi === line.length && next && !next.full) after = parseState(next.text);
    if (after.slots.length === 0) after.frame = frame;
    const before = snapshot();
    if (after.slots.length) apply(after, false);
    steps.push({ insn: e.insn, code: e.code, text, frame: before.frame, before, after, ...(e.source ? { source: e.source } : {}) });
  });
  return steps;
}

function errorOf(trailing: string[], lastInsn: number | undefined): VerifierErrorText | undefined {
  const lines = trailing.map((l) => l.trim()).filter((l) => l !== '');
  if (!lines.length) return undefined;
  const firstDetail = lines.findIndex((l, i) => i > 0 && ERROR_DETAIL.test(l));
  const messageLines = firstDetail > 0 ? lines.slice(0, firstDetail) : lines;
  const message = messageLines.join('\n');
  const named = /\b(?:at|from) insn (\d{1,7})\b/.exec(message);
  const insn = named ? Number(named[1]) : lastInsn;
  const alloc = /alloc_insn=(\d{1,7})/.exec(message);
  return {
    message,
    details: firstDetail > 0 ? lines.slice(firstDetail) : [],
    ...(insn !== undefined ? { insn } : {}),
    ...(alloc ? { acquiredInsn: Number(alloc[1]) } : {}),
  };
}

/** The source annotation of the failing instruction: the last step on the path that ran it. */
export function failingSource(log: ParsedVerifierLog): SourceRef | undefined {
  const insn = log.error?.insn;
  const steps = log.path;
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    if (step && (insn === undefined || step.insn === insn)) return step.source ?? (insn !== undefined ? log.sources.get(insn) : undefined);
  }
  return insn !== undefined ? log.sources.get(insn) : undefined;
}

/** The verifier's message with the sentences that belong to it (state dumps left out). */
export function errorSummary(log: ParsedVerifierLog): string | undefined {
  const e = log.error;
  if (!e) return undefined;
  return [e.message, ...e.details.filter((d) => !/^(cur|old) state:/.test(d))].join('\n');
}

/** Parses a whole log at once. */
export function parseVerifierLog(text: string): ParsedVerifierLog {
  const p = new VerifierLogParser();
  p.push(text);
  return p.finish();
}
