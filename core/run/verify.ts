// Ask each target's kernel whether it accepts a program, without attaching anything:
// connect → build for that target (or read the .o) → LOAD with nothing to attach →
// per program: loaded or rejected, the verifier's figures, and for a rejection the
// structured log placed on the source (line, category, explanation, fix, path, heat).
// No ring buffer lint: the point is to ask the kernel.
import fs from 'node:fs';
import path from 'node:path';
import { compileBpf } from '../compile/build';
import { bpfArchOf } from '../compile/paths';
import { programLineInfo, readBpfObject, requireBtf, type BpfObjectInfo } from '../elf/bpfObject';
import type { HelperErrorInfo, Loaded, LoadedProgram } from '../protocol/helper';
import { HelperSession, LoadError } from '../session/helperSession';
import { connectTarget, type ConnectTargetOptions } from '../transport/registry';
import type { TargetConnection } from '../transport/types';
import { StudioError, messageOf } from '../util/errors';
import { explainFailure, hintOf } from '../verifier/categories';
import { loadErrorDiagnostic } from '../verifier/diagnostics';
import { explainVerifierLog, type ExplainedError, type VerifierExplanation } from '../verifier/explain';
import { parseVerifierLog } from '../verifier/log';
import { SourceLocator, type SourceContext } from '../verifier/source';
import { targetVmlinuxHeader } from '../compile/vmlinux';
import { RunError } from './run';

/**
 * What the helper reports about a program that loaded, once it can (issue 15, phase 2:
 * `Loaded.programs[i].verifier`, requested by a LOAD flag). Until then it is absent and the
 * figures of loaded programs are unknown.
 */
export interface ProgramVerifierReport {
  log: string;
  insnsProcessed: number;
  totalStates: number;
  peakStates: number;
}

/** The verifier report of a loaded program, when the helper sent one. */
export function verifierReportOf(p: LoadedProgram): ProgramVerifierReport | undefined {
  const v = (p as LoadedProgram & { verifier?: Partial<ProgramVerifierReport> }).verifier;
  if (!v || typeof v.insnsProcessed !== 'number') return undefined;
  return { log: typeof v.log === 'string' ? v.log : '', insnsProcessed: v.insnsProcessed, totalStates: v.totalStates ?? 0, peakStates: v.peakStates ?? 0 };
}

export interface ProgramVerdict {
  name: string;
  section: string;
  loaded: boolean;
  insnsProcessed: number | null;
  totalStates: number | null;
  peakStates: number | null;
  error: ExplainedError | null;
  /** The log placed on the source (path, heat map), when the target sent a log. */
  explanation?: VerifierExplanation;
  /** The raw verifier log, when there is one. */
  log?: string;
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
}

export interface VerifyOptions {
  /** Target specs; default ["local"]. */
  targets?: readonly string[];
  /** Verifier log level for a rejection: 1 (the failing path; fast) or 2 (every path: the heat map). Default 2. */
  logLevel?: 1 | 2;
  clangPath?: string;
  helperPath?: string;
  connect?: ConnectTargetOptions;
  signal?: AbortSignal;
  /** Called as each target finishes (the CLI prints it at once). */
  onTarget?: (verdict: TargetVerdict) => void;
}

interface Built {
  bytes: Uint8Array;
  object: BpfObjectInfo;
  source: SourceContext;
}

/** Builds the source for this target (its arch and vmlinux.h), or reads the .o. Throws RunError with clang's diagnostics. */
async function objectFor(file: string, conn: TargetConnection, hello: { arch: string; kernel: string }, opts: VerifyOptions): Promise<Built> {
  let bytes: Uint8Array;
  let sourceFile = file;
  if (/\.o$/.test(file)) {
    bytes = new Uint8Array(await fs.promises.readFile(file));
  } else {
    const headerDir = conn.capabilities.sharesHostKernel ? undefined : (await targetVmlinuxHeader(conn, opts.signal ? { signal: opts.signal } : {})).dir;
    const arch = bpfArchOf(hello.arch);
    const built = await compileBpf({
      file,
      ...(opts.clangPath ? { clangPath: opts.clangPath } : {}),
      ...(arch ? { arch } : {}),
      ...(headerDir ? { vmlinuxHeaderDir: headerDir } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (!built.ok || !built.object) {
      const errors = built.diagnostics.filter((d) => d.severity === 'error');
      throw new RunError(`${path.basename(file)} does not compile (${errors.length} error${errors.length === 1 ? '' : 's'})`, 'build', built.diagnostics, {
        hint: 'fix the errors shown at their lines',
        detail: built.stderr,
      });
    }
    bytes = built.object;
  }
  const object = readBpfObject(bytes, { file, targetEndian: 'little' });
  requireBtf(object);
  if (/\.o$/.test(file)) {
    const named = object.programs.find((p) => p.file)?.file;
    const candidates = [...(named ? [path.resolve(path.dirname(file), named), path.resolve(path.dirname(file), path.basename(named))] : []), file.replace(/\.o$/, '.c')];
    sourceFile = candidates.find((c) => fs.existsSync(c)) ?? file;
  }
  let text: string | undefined;
  try {
    text = sourceFile === file && /\.o$/.test(file) ? undefined : await fs.promises.readFile(sourceFile, 'utf8');
  } catch {
    text = undefined; // positions then fall back to line numbers without columns
  }
  return { bytes, object, source: text !== undefined ? { file: sourceFile, text } : { file: sourceFile } };
}

const unknownFigures = { insnsProcessed: null, totalStates: null, peakStates: null } as const;

/** A program that loaded: figures and heat map when the helper reports them (phase 2). */
function loadedVerdict(p: LoadedProgram, built: Built): ProgramVerdict {
  const base = { name: p.name, section: p.section };
  if (p.error) {
    // Refused at load before verification (fentry/lsm on a kernel without trampolines): not loaded.
    const why = explainFailure(p.error.reason);
    const locator = new SourceLocator(built.source, { section: p.section });
    const at = { file: built.source.file, ...(locator.programLine ?? { line: 1, column: 1, endColumn: 1 }) };
    return { ...base, loaded: false, ...unknownFigures, error: { ...why, message: `${p.error.message}: ${p.error.reason}`, hint: hintOf(why), at } };
  }
  const report = verifierReportOf(p);
  if (!report) return { ...base, loaded: true, ...unknownFigures, error: null };
  const locator = new SourceLocator(built.source, { section: p.section, ...lineInfoOpt(built.object, p.name) });
  const explanation = report.log ? explainVerifierLog(parseVerifierLog(report.log), locator, { loaded: true }) : undefined;
  return {
    ...base,
    loaded: true,
    insnsProcessed: report.insnsProcessed,
    totalStates: report.totalStates,
    peakStates: report.peakStates,
    error: null,
    ...(explanation ? { explanation } : {}),
    ...(report.log ? { log: report.log } : {}),
  };
}

function lineInfoOpt(object: BpfObjectInfo, program: string): { lineInfo?: (insn: number) => { file: string; line: number } | undefined } {
  const lineInfo = programLineInfo(object, program);
  return lineInfo ? { lineInfo } : {};
}

/** The verdicts when LOAD failed: the rejected program explained, the ones libbpf loaded before it, and the rest unverified. */
function rejectedVerdicts(err: HelperErrorInfo, built: Built): ProgramVerdict[] {
  const programs = built.object.programs;
  const rejectedAt = err.code === 'verifier' ? programs.findIndex((p) => p.name === err.program) : -1;
  return programs.map((p, i): ProgramVerdict => {
    const base = { name: p.name, section: p.section };
    if (rejectedAt >= 0 && i < rejectedAt) return { ...base, loaded: true, ...unknownFigures, error: null };
    if (i === rejectedAt) return rejectedProgram(err, built, p.name, p.section);
    const locator = new SourceLocator(built.source, { section: p.section });
    const at = { file: built.source.file, ...(locator.programLine ?? { line: 1, column: 1, endColumn: 1 }) };
    const message = rejectedAt >= 0
      ? `not verified: loading stopped at the rejected program '${err.program ?? '?'}' (programs load in order)`
      : loadErrorDiagnostic(err, built.source, programs).message;
    const why = explainFailure(message, err.errno);
    const fix = rejectedAt >= 0 ? `Fix '${err.program ?? '?'}' first, then verify again.` : why.fix;
    return { ...base, loaded: false, ...unknownFigures, error: { ...why, fix, message, hint: `${why.explanation} ${fix}`, at } };
  });
}

function rejectedProgram(err: HelperErrorInfo, built: Built, name: string, section: string): ProgramVerdict {
  const log = err.log ?? '';
  const parsed = parseVerifierLog(log);
  const locator = new SourceLocator(built.source, { section, ...lineInfoOpt(built.object, name) });
  const explanation = explainVerifierLog(parsed, locator, { ...(err.errno !== undefined ? { errno: err.errno } : {}), section });
  const s = parsed.stats;
  return {
    name,
    section,
    loaded: false,
    insnsProcessed: s?.insnsProcessed ?? null,
    totalStates: s?.totalStates ?? null,
    peakStates: s?.peakStates ?? null,
    error: explanation.error ?? null,
    explanation,
    log,
  };
}

/**
 * Verbose (level 2) logs run to ~230 bytes per processed instruction; the helper keeps at most
 * 48 MiB of log. Above this many instructions the level 1 log (the failing path) is kept.
 */
export const LEVEL2_MAX_INSNS = 150_000;

type LoadOutcome = { loaded: Loaded } | { rejected: HelperErrorInfo };

/** One LOAD with nothing to attach, in a helper session of its own (a rejected LOAD ends the helper). */
async function loadOnce(conn: TargetConnection, spec: string, built: Built, logLevel: 1 | 2, opts: VerifyOptions): Promise<LoadOutcome> {
  const session = await HelperSession.open(await conn.spawnHelper(['serve'], opts.signal ? { signal: opts.signal } : {}), { target: spec });
  try {
    const loaded = await session.load({
      object: built.bytes,
      attachAll: false,
      attach: [],
      overrides: {},
      logLevel,
      source: built.source,
      programs: built.object.programs.map((p) => ({ name: p.name, section: p.section })),
    });
    return { loaded };
  } catch (err) {
    if (err instanceof LoadError && err.helperError) return { rejected: err.helperError };
    throw err;
  } finally {
    await session.detach().catch(() => undefined);
  }
}

/** The first LOAD is at level 1 (fast; the failing path). A rejection small enough is loaded again at level 2 for every path. */
async function verdictsOn(conn: TargetConnection, spec: string, built: Built, opts: VerifyOptions): Promise<ProgramVerdict[]> {
  const first = await loadOnce(conn, spec, built, 1, opts);
  if ('loaded' in first) {
    const byName = new Map(first.loaded.programs.map((p) => [p.name, p]));
    return built.object.programs.map((p) => {
      const lp = byName.get(p.name);
      return lp ? loadedVerdict(lp, built) : { name: p.name, section: p.section, loaded: false, ...unknownFigures, error: null };
    });
  }
  let rejected = first.rejected;
  const processed = rejected.log ? parseVerifierLog(rejected.log).stats?.insnsProcessed : undefined;
  if ((opts.logLevel ?? 2) === 2 && rejected.code === 'verifier' && processed !== undefined && processed <= LEVEL2_MAX_INSNS) {
    const verbose = await loadOnce(conn, spec, built, 2, opts);
    if ('rejected' in verbose && verbose.rejected.program === rejected.program && verbose.rejected.log) rejected = verbose.rejected;
  }
  return rejectedVerdicts(rejected, built);
}

async function verifyOn(spec: string, file: string, opts: VerifyOptions): Promise<TargetVerdict> {
  let conn: TargetConnection | undefined;
  try {
    conn = await connectTarget(spec, { ...opts.connect, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.helperPath ? { helperPath: opts.helperPath } : {}) });
    // The build needs the target's arch and kernel: ask a helper first (its HELLO), then build.
    const hello = conn.info ?? (await helloOf(conn, spec, opts));
    const built = await objectFor(file, conn, hello, opts);
    const programs = await verdictsOn(conn, spec, built, opts);
    return { target: spec, kernel: hello.kernel, arch: hello.arch, source: built.source, programs };
  } catch (err) {
    const failure = err instanceof StudioError ? err : new StudioError(messageOf(err), { cause: err });
    return { target: spec, source: { file }, programs: [], failure };
  } finally {
    await conn?.close().catch(() => undefined);
  }
}

async function helloOf(conn: TargetConnection, spec: string, opts: VerifyOptions): Promise<{ arch: string; kernel: string }> {
  const session = await HelperSession.open(await conn.spawnHelper(['serve'], opts.signal ? { signal: opts.signal } : {}), { target: spec });
  await session.detach().catch(() => undefined);
  return { arch: session.hello.arch, kernel: session.hello.kernel };
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
