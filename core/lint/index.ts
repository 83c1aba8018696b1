// The ringbuf linter: one rule table, two layers (see docs/lint-rules.md).
//   lintSource — text only, fast, used while typing; positions and quick fixes.
//   lintObject — the compiled object, authoritative values (macros expanded).
//   lintFile   — both, merged: the object layer wins on values, the source layer
//                gives position and fix.
import type { Diagnostic } from '../diagnostics';
import { readBpfObject, type BpfObjectInfo } from '../elf/bpfObject';
import { DEFAULT_PAGE_SIZE } from '../util/pages';
import { toDiagnostic, type Finding } from './finding';
import { lintObjectInfo } from './objectRules';
import { ruleOf, type RuleCode } from './rules';
import { SourceModel } from '../source/sourceModel';
import { lintSourceModel } from './sourceRules';

export { RULES, RULE_TABLE } from './rules';
export type { LintRule } from './rules';
export { effectiveRingSize, isValidRingSize } from './ringSize';
export { evaluateConstant } from '../source/constExpr';

export interface LintOptions {
  /** Target page size; 4096 by default (arm64 kernels may use 16384 or 65536). */
  pageSize?: number;
  /** Target kernel release, e.g. '5.4.0-150-generic', when known. */
  kernelRelease?: string;
}

function resolved(opts: LintOptions | undefined): { pageSize: number; kernelRelease?: string } {
  const pageSize = opts?.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(Math.log2(pageSize)) || pageSize < 1024) {
    throw new RangeError(`page size ${pageSize} is not a power of two ≥ 1024`);
  }
  return opts?.kernelRelease ? { pageSize, kernelRelease: opts.kernelRelease } : { pageSize };
}

function sortFindings(findings: Finding[]): Diagnostic[] {
  return findings
    .sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code))
    .map(toDiagnostic);
}

/** Source layer only: fast, no compiler. */
export function lintSource(text: string, file: string, opts?: LintOptions): Diagnostic[] {
  return sortFindings(lintSourceModel(new SourceModel(text, file), resolved(opts)));
}

/**
 * Object layer: authoritative values. With `source.text`, diagnostics sit on the
 * definition in the source and carry fixes; without it, on line 1 of `source.file`.
 */
export function lintObject(obj: BpfObjectInfo, source: { file: string; text?: string }, opts?: LintOptions): Diagnostic[] {
  const model = source.text !== undefined ? new SourceModel(source.text, source.file) : undefined;
  return sortFindings(lintObjectInfo(obj, source.file, model, resolved(opts)));
}

/** Both layers merged and de-duplicated. Throws the object reader's typed error for a malformed object. */
export function lintFile(input: { file: string; text?: string; object?: Uint8Array }, opts?: LintOptions): Diagnostic[] {
  const o = resolved(opts);
  const model = input.text !== undefined ? new SourceModel(input.text, input.file) : undefined;
  const fromSource = model ? lintSourceModel(model, o) : [];
  if (!input.object) return sortFindings(fromSource);
  const obj = readBpfObject(input.object, { file: input.file });
  const fromObject = lintObjectInfo(obj, input.file, model, o);
  return sortFindings(mergeLayers(fromSource, fromObject, new Set(obj.maps.map((m) => m.name))));
}

/** Map-definition rules the object decides alone whenever it has the map (its values are the real ones). */
const OBJECT_DECIDES = new Set(['RB001', 'RB002', 'RB003', 'RB004', 'RB012', 'RB014']);

/** Keeps one finding per identity: per rule, the layer the rule table names. */
export function mergeLayers(fromSource: Finding[], fromObject: Finding[], objectMaps: ReadonlySet<string>): Finding[] {
  const sourceByKey = new Map(fromSource.map((f) => [f.key, f]));
  const objectKeys = new Set(fromObject.map((f) => f.key));
  const subject = (f: Finding): string => f.key.split(' ').slice(0, 2).join(' ');
  const sourceSubjects = new Set(fromSource.map(subject));
  const out: Finding[] = [];
  for (const f of fromObject) {
    const rule = ruleOf(f.code as RuleCode);
    const twin = sourceByKey.get(f.key);
    if (rule.merge === 'source' && (twin || sourceSubjects.has(subject(f)))) continue;
    if (twin && !f.fixes && twin.fixes && twin.message === f.message) out.push({ ...f, fixes: twin.fixes });
    else out.push(f);
  }
  for (const f of fromSource) {
    const rule = ruleOf(f.code as RuleCode);
    if (rule.merge === 'object' && objectKeys.has(f.key)) continue;
    const [code, mapName] = f.key.split(' ');
    if (OBJECT_DECIDES.has(code ?? '') && objectMaps.has(mapName ?? '')) continue;
    out.push(f);
  }
  return out;
}
