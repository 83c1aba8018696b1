// Ask each target's kernel whether it accepts a program, without attaching anything:
// loadRun with the helper's verify LOAD (each program on its own, nothing attached) → per
// program: loaded or rejected, the verifier's figures, and the log placed on the source
// (line, category, explanation, fix, path, heat). Two passes per target on one connection:
//   1. statistics only (cheap: the figures of every program; a rejection comes with its
//      failing path, level 1);
//   2. level 2 (every path, the heat map) for the programs whose first pass says it is cheap
//      enough: a level 2 log costs ~30 µs and 60–600 bytes per instruction processed.
// No ring buffer lint: the point is to ask the kernel.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { programLineInfo, type BpfObjectInfo } from '../elf/bpfObject';
import type { LoadedProgram } from '../protocol/helper';
import { connectTarget, type ConnectTargetOptions } from '../transport/registry';
import type { TargetConnection } from '../transport/types';
import { StudioError, messageOf } from '../util/errors';
import { explainFailure, hintOf } from '../verifier/categories';
import { explainVerifierLog, type ExplainedError, type VerifierExplanation } from '../verifier/explain';
import { parseVerifierLog, type ParsedVerifierLog } from '../verifier/log';
import { SourceLocator, type SourceContext } from '../verifier/source';
import { loadRun } from './run';
import type { LoadedRun, RunOptions, RunProgram } from './types';

export interface ProgramVerdict {
  name: string;
  section: string;
  loaded: boolean;
  insnsProcessed: number | null;
  totalStates: number | null;
  peakStates: number | null;
  /** The kernel's own measure, when it printed one (`verification time N usec`). */
  verificationTimeUs?: number;
  error: ExplainedError | null;
  /** The log placed on the source (path, heat map), when there is a log of instructions. */
  explanation?: VerifierExplanation;
  /** The raw verifier log, when there is one. */
  log?: string;
  /** The verifier's log level behind `explanation`: 0 (statistics only: no heat map), 1 (one path) or 2 (every path). */
  logLevel?: 0 | 1 | 2;
}

export interface TargetVerdict {
  target: string;
  /** The target's kernel release and arch (from its HELLO). */
  kernel?: string;
  arch?: string;
  /** The source the positions refer to. */
  source: SourceContext;
  programs: ProgramVerdict[];
  /** The target could not be asked (connection, build or helper failure); `programs` is then empty. */
  failure?: StudioError;
  /** What went wrong without changing the verdicts (the level 2 pass failed: no heat map). */
  warnings?: string[];
}

/** When to take a level 2 log of a program that loads (its heat map). */
export type HeatMapPolicy = 'cheap' | 'always' | 'never';

export interface VerifyOptions {
  /** Target specs; default ["local"]. */
  targets?: readonly string[];
  /** A rejection's log: 1 (the failing path) or 2 (every path, when it processed at most LEVEL2_MAX_INSNS). Default 2. */
  logLevel?: 1 | 2;
  /** Heat maps of programs that load: 'cheap' (default: at most LEVEL2_MAX_INSNS processed), 'always' (near the limit: ~30 s), 'never'. */
  heatMap?: HeatMapPolicy;
  /** Only these programs (default: every program of the object). */
  programs?: readonly string[];
  clangPath?: string;
  helperPath?: string;
  connect?: ConnectTargetOptions;
  signal?: AbortSignal;
  /** Called as each target finishes (the CLI prints it at once). */
  onTarget?: (verdict: TargetVerdict) => void;
}

/**
 * The level 2 pass takes programs that processed at most this many instructions: ~3 s of
 * verification here and a log that fits the helper's 48 MiB (a larger one is cut, and the
 * heat map is then partial).
 */
export const LEVEL2_MAX_INSNS = 100_000;

/** What the verdicts are placed on: the object (its line info) and its source. */
interface Placed {
  object: BpfObjectInfo;
  source: SourceContext;
}

function lineInfoOpt(object: BpfObjectInfo, program: string): { lineInfo?: (insn: number) => { file: string; line: number } | undefined } {
  const lineInfo = programLineInfo(object, program);
  return lineInfo ? { lineInfo } : {};
}

const unknownFigures = { insnsProcessed: null, totalStates: null, peakStates: null } as const;

function figuresOf(p: LoadedProgram): Pick<ProgramVerdict, 'insnsProcessed' | 'totalStates' | 'peakStates' | 'verificationTimeUs'> {
  const v = p.verifier;
  if (v?.insnsProcessed === undefined) return { ...unknownFigures };
  return {
    insnsProcessed: v.insnsProcessed,
    totalStates: v.totalStates ?? null,
    peakStates: v.peakStates ?? null,
    ...(v.verificationTimeUs !== undefined ? { verificationTimeUs: v.verificationTimeUs } : {}),
  };
}

/**
 * The level of the instructions in a program's log: the helper's, except for a log that
 * outgrew the largest buffer — the helper then keeps it cut and adds the statistics of a
 * reload (`level: 0`): the cut log's own level counts.
 */
function levelOf(p: LoadedProgram, parsed: ParsedVerifierLog): 0 | 1 | 2 {
  if (parsed.instructionsSeen === 0) return 0;
  const said = p.verifier?.level;
  if (said === 1 || (said === 0 && !p.verifier?.truncated)) return said;
  return said === 0 ? parsed.level : 2;
}

/** A tracing program this kernel refuses at load (no trampolines, lockdown): not loaded, before any verification. */
function refusedVerdict(p: LoadedProgram & { error: NonNullable<LoadedProgram['error']> }, placed: Placed): ProgramVerdict {
  const why = explainFailure(p.error.reason);
  const locator = new SourceLocator(placed.source, { section: p.section });
  const at = { file: placed.source.file, ...(locator.programLine ?? { line: 1, column: 1, endColumn: 1 }) };
  return { name: p.name, section: p.section, loaded: false, ...unknownFigures, error: { ...why, message: `${p.error.message}: ${p.error.reason}`, hint: hintOf(why), at } };
}

/** One program's verdict from the helper's LOADED (with its verifier data). */
export function programVerdict(p: LoadedProgram, placed: Placed): ProgramVerdict {
  if (p.error && !p.verifier) return refusedVerdict({ ...p, error: p.error }, placed);
  const log = p.verifier?.log ?? '';
  const parsed = parseVerifierLog(log);
  const level = levelOf(p, parsed);
  const base = { name: p.name, section: p.section, ...figuresOf(p), ...(log ? { log, logLevel: level } : {}) };
  const locator = new SourceLocator(placed.source, { section: p.section, ...lineInfoOpt(placed.object, p.name) });
  if (p.rejected) {
    const explanation = explainVerifierLog(parsed, locator, { errno: p.rejected.errno, section: p.section });
    const s = parsed.stats;
    return {
      ...base,
      loaded: false,
      insnsProcessed: s?.insnsProcessed ?? base.insnsProcessed,
      totalStates: s?.totalStates ?? base.totalStates,
      peakStates: s?.peakStates ?? base.peakStates,
      error: explanation.error ?? null,
      explanation,
    };
  }
  // A statistics-only log has no instructions: no path, no heat map.
  const explanation = level > 0 ? explainVerifierLog(parsed, locator, { loaded: true }) : undefined;
  return { ...base, loaded: true, error: null, ...(explanation ? { explanation } : {}) };
}

/** The figures (and what else the helper sent) of every program of a run that asked for verifier data, per target. */
export function verdictsOfRun(run: RunProgram): TargetVerdict[] {
  const placed = { object: run.object, source: run.source };
  return run.targets.map((t) => ({
    target: t.name,
    kernel: t.hello.kernel,
    arch: t.hello.arch,
    source: run.source,
    programs: t.loaded.programs.filter((p) => p.verifier).map((p) => programVerdict(p, placed)),
  }));
}

/** Programs worth a level 2 log: rejections (every path) and programs that load (the heat map), when cheap enough or asked for. */
function wantsLevel2(p: ProgramVerdict, opts: VerifyOptions): boolean {
  if (p.insnsProcessed === null || (p.logLevel ?? 0) >= 2) return false;
  const cheap = p.insnsProcessed <= LEVEL2_MAX_INSNS;
  if (!p.loaded) return p.error !== null && (opts.logLevel ?? 2) === 2 && cheap && p.explanation !== undefined;
  const policy = opts.heatMap ?? 'cheap';
  return policy === 'always' || (policy === 'cheap' && cheap);
}

type VerifyRun = (o: Partial<RunOptions>) => Promise<LoadedRun>;

/** The verdicts of one verify LOAD; the run is closed (unloaded) before this returns. */
async function verifyPass(run: LoadedRun): Promise<{ programs: ProgramVerdict[]; placed: Placed }> {
  try {
    const placed = { object: run.object, source: run.source };
    const loaded = run.targets[0]?.loaded.programs ?? [];
    return { programs: loaded.filter((p) => p.loaded !== false || p.rejected || p.error).map((p) => programVerdict(p, placed)), placed };
  } finally {
    await run.close();
  }
}

/** Pass 2: level 2 logs for the programs that pass 1 says are worth it; replaces their explanations. */
async function level2Pass(load: VerifyRun, objectFile: string, programs: ProgramVerdict[], placed: Placed, opts: VerifyOptions): Promise<ProgramVerdict[]> {
  const again = programs.filter((p) => wantsLevel2(p, opts)).map((p) => p.name);
  if (!again.length) return programs;
  const run = await load({ file: objectFile, verify: again, verifierLevel: 2 });
  let verbose: ProgramVerdict[];
  try {
    verbose = (run.targets[0]?.loaded.programs ?? []).filter((p) => again.includes(p.name)).map((p) => programVerdict(p, placed));
  } finally {
    await run.close();
  }
  return programs.map((p) => {
    const v = verbose.find((x) => x.name === p.name);
    // A kernel is deterministic: the same verdict, now with every path (and its words read from them).
    if (!v?.explanation || v.loaded !== p.loaded) return p;
    return { ...p, ...(v.log ? { log: v.log } : {}), logLevel: 2, explanation: v.explanation, ...(v.error ? { error: v.error } : {}) };
  });
}

async function verifyOn(spec: string, file: string, opts: VerifyOptions): Promise<TargetVerdict> {
  let conn: TargetConnection | undefined;
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'rbs-verify-'));
  try {
    conn = await connectTarget(spec, { ...opts.connect, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.helperPath ? { helperPath: opts.helperPath } : {}) });
    const target = conn;
    const load: VerifyRun = (o) => loadRun({
      file,
      targets: [target],
      lint: false,
      // Per target (each builds against its own vmlinux.h and arch), so the second pass reads this one's object.
      outFile: path.join(work, `${path.basename(file).replace(/\.(bpf\.)?[co]$/, '')}.bpf.o`),
      ...(opts.clangPath ? { clangPath: opts.clangPath } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...o,
    });
    const first = await load({ verify: opts.programs ?? 'all', verifierLevel: 0 });
    const hello = first.targets[0]?.hello;
    const objectFile = first.objectPath ?? file;
    const { programs, placed } = await verifyPass(first);
    const out: TargetVerdict = { target: spec, ...(hello ? { kernel: hello.kernel, arch: hello.arch } : {}), source: placed.source, programs };
    try {
      out.programs = await level2Pass(load, objectFile, programs, placed, opts);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      out.warnings = [`the every-path (level 2) log could not be taken, so there is no heat map: ${messageOf(err)}`];
    }
    return out;
  } catch (err) {
    const failure = err instanceof StudioError ? err : new StudioError(messageOf(err), { cause: err });
    return { target: spec, source: { file }, programs: [], failure };
  } finally {
    await conn?.close().catch(() => undefined);
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

/** Verifies every program of `file` on each target (in parallel); resolves with one verdict per target, in order. */
export async function verifyProgram(file: string, opts: VerifyOptions = {}): Promise<TargetVerdict[]> {
  const full = path.resolve(file);
  if (!fs.existsSync(full)) throw new StudioError(`${file} does not exist`, { code: 'ENOENT', hint: 'give a .bpf.c source or a compiled .o' });
  const targets = opts.targets?.length ? opts.targets : ['local'];
  if (new Set(targets).size !== targets.length) throw new StudioError(`target listed twice: ${targets.join(', ')}`, { code: 'EUSAGE' });
  return Promise.all(
    targets.map(async (t) => {
      const verdict = await verifyOn(t, full, opts);
      opts.onTarget?.(verdict);
      return verdict;
    }),
  );
}

/** The fixed JSON shape of `ringbuf-studio verify --format json`, one object per target. */
export interface VerifyJson {
  target: string;
  programs: Array<{
    name: string;
    loaded: boolean;
    insns_processed: number | null;
    total_states: number | null;
    peak_states: number | null;
    error: { line: number; column: number; message: string; category: string; hint: string } | null;
  }>;
}

export function toVerifyJson(v: TargetVerdict): VerifyJson {
  return {
    target: v.target,
    programs: v.programs.map((p) => ({
      name: p.name,
      loaded: p.loaded,
      insns_processed: p.insnsProcessed,
      total_states: p.totalStates,
      peak_states: p.peakStates,
      error: p.error ? { line: p.error.at.line, column: p.error.at.column, message: p.error.message, category: p.error.category, hint: p.error.hint } : null,
    })),
  };
}
