// A parsed verifier log placed on the user's source: the error on its line with a
// category, explanation and fix; the failing path line by line with the registers and
// stack slots each instruction touched; and visits per source line (the heat map).
// Editors, the CLI and tests all read this one model.
import { explainFailure, hintOf, type FailureExplanation } from './categories';
import { errorSummary, failingSource, type ParsedVerifierLog, type PathStep, type VerifierStats } from './log';
import type { SourceLocator} from './source';
import { type Located } from './source';
import { describeValue, slotsOfInstruction, type SlotValue } from './state';

export interface ExplainedError extends FailureExplanation {
  /** The verifier's words. */
  message: string;
  /** Explanation and fix in one string (the CLI's `hint`). */
  hint: string;
  /** Where it failed; the program's SEC line (or line 1) when the log names no source. */
  at: Located;
  /** The failing instruction. */
  insn?: number;
  /** The register the message names, with its value just before the failing instruction. */
  culprit?: SlotValue & { summary: string };
  /** For an unreleased reference: where the reference was acquired. */
  acquiredAt?: Located;
}

/** A register or stack slot as shown for one instruction. */
export interface ShownSlot {
  name: string;
  value: string;
  /** Plain words for the value. */
  summary: string;
  /** True when the instruction wrote it (the value is the one after the instruction). */
  written: boolean;
}

export interface ShownStep {
  insn: number;
  text: string;
  slots: ShownSlot[];
  /** The failing instruction (the last on the path). */
  failing: boolean;
}

/** A stretch of the path on one source line (a line the path returns to, in a loop, comes again). */
export interface PathLine {
  file: string;
  line: number;
  /** 1 for the path's first pass through this line, 2 for the second, … */
  pass: number;
  steps: ShownStep[];
}

export interface HeatLine {
  file: string;
  line: number;
  /** Instructions of this line the verifier processed, over every path. */
  visits: number;
}

export interface VerifierExplanation {
  error?: ExplainedError;
  /** The failing path (or the last path walked) by source line, in path order. */
  path: PathLine[];
  /** Visits per source line, hottest first. */
  heat: HeatLine[];
  stats?: VerifierStats;
  /** Level 2 logs count every visit; level 1 logs only the failing path's. */
  heatComplete: boolean;
  /** The path's start is not in the log. */
  pathIncomplete: boolean;
}

export interface ExplainOptions {
  /** The program's SEC("…") name, for the fallback position. */
  section?: string;
  /** Instruction → source from the object's .BTF.ext (for kernels whose annotations carry no line). */
  lineInfo?: (insn: number) => { file: string; line: number } | undefined;
  /** errno of the failed load (E2BIG tells "too complex" when the log lost its end). */
  errno?: number;
  /** The program loaded: the log has no error to explain, only complexity. */
  loaded?: boolean;
}

/**
 * The slots worth showing for a step: what it touched, with values after it, else before it.
 * A call shows its result; its argument registers only where it failed (how many arguments a
 * helper takes is not in the log, and leftovers in R1–R5 would mislead).
 */
export function shownSlots(step: PathStep, failing = false): ShownSlot[] {
  const after = new Map(step.after.slots.map((s) => [s.name, s.value]));
  const before = new Map(step.before.slots.map((s) => [s.name, s.value]));
  const touched = /^call /.test(step.text) && !failing ? ['R0'] : slotsOfInstruction(step.text);
  const names = [...new Set([...touched, ...after.keys()])];
  const out: ShownSlot[] = [];
  for (const name of names) {
    const written = after.get(name);
    const value = written ?? before.get(name);
    if (value === undefined) continue;
    out.push({ name, value, summary: describeValue(value).summary, written: written !== undefined });
  }
  return out;
}

function groupPath(log: ParsedVerifierLog, locator: SourceLocator, failingInsn: number | undefined): PathLine[] {
  const out: PathLine[] = [];
  const passes = new Map<string, number>();
  let failIndex = -1;
  if (log.error) {
    for (let i = log.path.length - 1; i >= 0 && failIndex < 0; i--) if (failingInsn === undefined || log.path[i]?.insn === failingInsn) failIndex = i;
  }
  let current: PathLine | undefined;
  log.path.forEach((step, i) => {
    const at = locator.locate(step.source, step.insn);
    if (!at) return;
    const shown: ShownStep = { insn: step.insn, text: step.text, slots: shownSlots(step, i === failIndex), failing: i === failIndex };
    if (current && current.file === at.file && current.line === at.line) {
      current.steps.push(shown);
      return;
    }
    const key = `${at.file}:${at.line}`;
    const pass = (passes.get(key) ?? 0) + 1;
    passes.set(key, pass);
    current = { file: at.file, line: at.line, pass, steps: [shown] };
    out.push(current);
  });
  return out;
}

/** The last pass of the path through each line (what a hover on that line shows), with the number of passes. */
export function lastPassByLine(path: readonly PathLine[]): Map<string, PathLine> {
  const out = new Map<string, PathLine>();
  for (const p of path) out.set(`${p.file}:${p.line}`, p);
  return out;
}

function heatOf(log: ParsedVerifierLog, locator: SourceLocator): HeatLine[] {
  const byLine = new Map<string, HeatLine>();
  for (const [insn, visits] of log.visits) {
    const at = locator.locate(log.sources.get(insn), insn);
    if (!at) continue;
    const key = `${at.file}:${at.line}`;
    const entry = byLine.get(key);
    if (entry) entry.visits += visits;
    else byLine.set(key, { file: at.file, line: at.line, visits });
  }
  return [...byLine.values()].sort((a, b) => b.visits - a.visits || a.line - b.line);
}

function culpritOf(message: string, log: ParsedVerifierLog, failingInsn: number | undefined): ExplainedError['culprit'] {
  const name = /\b(R\d{1,2})\b/.exec(message)?.[1];
  if (!name) return undefined;
  for (let i = log.path.length - 1; i >= 0; i--) {
    const step = log.path[i];
    if (!step || (failingInsn !== undefined && step.insn !== failingInsn)) continue;
    const value = step.before.slots.find((s) => s.name === name)?.value;
    return value === undefined ? undefined : { name, value, summary: describeValue(value).summary };
  }
  return undefined;
}

/**
 * Every return of a function shares one exit instruction, so "reference leak at the exit"
 * says little: the leaking path is told apart by the last branch it took after acquiring.
 */
function leakingBranch(log: ParsedVerifierLog, locator: SourceLocator): Located | undefined {
  const acquired = log.error?.acquiredInsn;
  let from = 0;
  if (acquired !== undefined) for (let i = log.path.length - 1; i >= 0; i--) if (log.path[i]?.insn === acquired) {
    from = i;
    break;
  }
  for (let i = log.path.length - 1; i > from; i--) {
    const step = log.path[i];
    if (step && /^if /.test(step.text)) return locator.locate(step.source, step.insn);
  }
  return undefined;
}

function explainError(log: ParsedVerifierLog, locator: SourceLocator, opts: ExplainOptions): ExplainedError | undefined {
  const message = errorSummary(log);
  if (!message && opts.errno === undefined) return undefined;
  const words = message ?? 'the verifier rejected the program';
  const why = explainFailure(words, opts.errno);
  const insn = log.error?.insn;
  const fallback: Located = { file: locator.src.file, ...(locator.programLine ?? { line: 1, column: 1, endColumn: 1 }) };
  const acquiredInsn = log.error?.acquiredInsn;
  const acquiredAt = acquiredInsn !== undefined ? locator.locate(log.sources.get(acquiredInsn), acquiredInsn) : undefined;
  const culprit = culpritOf(words, log, insn);
  const at = (why.category === 'unreleased-reference' ? leakingBranch(log, locator) : undefined) ?? locator.locate(failingSource(log), insn) ?? fallback;
  return {
    ...why,
    message: words.split('\n').join('; '),
    hint: hintOf(why),
    at,
    ...(insn !== undefined ? { insn } : {}),
    ...(culprit ? { culprit } : {}),
    ...(acquiredAt ? { acquiredAt } : {}),
  };
}

/** Places a parsed log on the source. */
export function explainVerifierLog(log: ParsedVerifierLog, locator: SourceLocator, opts: ExplainOptions = {}): VerifierExplanation {
  const error = opts.loaded ? undefined : explainError(log, locator, opts);
  return {
    ...(error ? { error } : {}),
    path: groupPath(log, locator, error?.insn),
    heat: heatOf(log, locator),
    ...(log.stats ? { stats: log.stats } : {}),
    heatComplete: log.level === 2 && !log.truncatedStart,
    pathIncomplete: log.pathIncomplete,
  };
}
