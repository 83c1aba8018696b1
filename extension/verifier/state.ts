// What the Verifier explorer knows about each program file: the verdicts of the last
// verification per target, which rejected program is shown on the source, and the figures
// of the build before (for "+12 % instructions processed"). VS Code glue reads it.
import type { ProgramVerdict, TargetVerdict } from '../../core/run/verify';
import { lastPassByLine, type PathLine, type VerifierExplanation } from '../../core/verifier/explain';

export interface FileResult {
  /** fsPath of the source. */
  file: string;
  /** The document version the verdicts belong to (an edit makes lines move: the result is dropped). */
  version: number;
  verdicts: TargetVerdict[];
  /** The program shown on the source: its target and name. */
  focus?: { target: string; program: string };
}

export interface Focused {
  target: TargetVerdict;
  program: ProgramVerdict;
  explanation: VerifierExplanation;
  /** Per `file:line`, the path's last pass through it. */
  byLine: Map<string, PathLine>;
  /** Per `file:line`, how many passes the path made through it. */
  passes: Map<string, number>;
}

/**
 * Newer verdicts over older ones: a target verified again replaces its programs of the same
 * name (a heat map for one program keeps the others' verdicts); new targets are added.
 */
export function mergeVerdicts(older: readonly TargetVerdict[], newer: readonly TargetVerdict[]): TargetVerdict[] {
  const out = older.map((t) => ({ ...t, programs: [...t.programs] }));
  for (const fresh of newer) {
    const at = out.findIndex((t) => t.target === fresh.target);
    const old = out[at];
    if (!old || fresh.failure || old.failure) {
      if (old) out[at] = fresh;
      else out.push(fresh);
      continue;
    }
    const names = new Set(fresh.programs.map((p) => p.name));
    out[at] = { ...fresh, programs: [...old.programs.filter((p) => !names.has(p.name)), ...fresh.programs].sort((a, b) => order(old, a.name) - order(old, b.name)) };
  }
  return out;
}

/** A program's place in a target's verdict (unknown ones last). */
function order(t: TargetVerdict, name: string): number {
  const i = t.programs.findIndex((p) => p.name === name);
  return i < 0 ? Number.MAX_SAFE_INTEGER : i;
}

/** The rejected program to show first: the first rejected program on the first target that has one. */
export function defaultFocus(verdicts: readonly TargetVerdict[]): FileResult['focus'] {
  for (const t of verdicts) {
    const p = t.programs.find((x) => !x.loaded && x.explanation) ?? t.programs.find((x) => x.explanation);
    if (p) return { target: t.target, program: p.name };
  }
  return undefined;
}

export function focused(r: FileResult | undefined): Focused | undefined {
  if (!r?.focus) return undefined;
  const target = r.verdicts.find((t) => t.target === r.focus?.target);
  const program = target?.programs.find((p) => p.name === r.focus?.program);
  if (!target || !program?.explanation) return undefined;
  // A program that loads has no failing path to show (its log's last path proves nothing): its heat map only.
  const path = program.loaded ? [] : program.explanation.path;
  const passes = new Map<string, number>();
  for (const l of path) passes.set(`${l.file}:${l.line}`, l.pass);
  return { target, program, explanation: program.explanation, byLine: lastPassByLine(path), passes };
}

/** Figures of the previous verification, per file, program and target (kept in workspace state). */
export class FigureHistory {
  static readonly key = 'ringbufStudio.verifier.figures';
  private previous = new Map<string, number>();

  constructor(private readonly store: { get<T>(key: string): T | undefined; update(key: string, value: unknown): PromiseLike<void> }) {}

  private static id(file: string, target: string, program: string): string {
    return `${file}\u0000${target}\u0000${program}`;
  }

  /** The figure before the latest verification (what the CodeLens compares with). */
  before(file: string, target: string, program: string): number | undefined {
    return this.previous.get(FigureHistory.id(file, target, program));
  }

  /** Records a verification's figures; the ones they replace become "before". */
  async record(file: string, verdicts: readonly TargetVerdict[]): Promise<void> {
    const saved = { ...(this.store.get<Record<string, number>>(FigureHistory.key) ?? {}) };
    for (const t of verdicts) {
      for (const p of t.programs) {
        if (p.insnsProcessed === null) continue;
        const id = FigureHistory.id(file, t.target, p.name);
        const old = saved[id];
        if (old !== undefined) this.previous.set(id, old);
        else this.previous.delete(id);
        saved[id] = p.insnsProcessed;
      }
    }
    await this.store.update(FigureHistory.key, saved);
  }
}
