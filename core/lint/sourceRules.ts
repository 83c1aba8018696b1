// The source layer: rules that need only the text. Quiet whenever a value cannot be
// evaluated here (an identifier from a header, a -D macro): the object layer decides.
import type { QuickFix } from '../diagnostics';
import { isPowerOfTwo, nextPowerOfTwo } from '../util/pages';
import type { EvalContext } from '../source/constExpr';
import { evaluateNumber } from '../source/constExpr';
import { finding, type Finding } from './finding';
import { deleteFieldFix, replaceFix } from '../source/fixes';
import { CheckRunner } from './checkRunner';
import { analyzeReservePairing } from './flow';
import { kernelBefore, maxEntriesFindings, oldKernelDynptrFinding, oldKernelMapFinding, recordSizeFindings } from './mapRules';
import { analyzeOutputCalls } from './outputRewrite';
import { migrationFindings } from './migrationRules';
import type { CallSite, FunctionDef, MapDef, SourceModel } from '../source/sourceModel';

export interface SourceLintOptions {
  pageSize: number;
  kernelRelease?: string;
}

/** Helpers that take a perf event array (argument index of the map). */
export const PERF_HELPERS: Readonly<Record<string, number>> = {
  bpf_perf_event_output: 1,
  bpf_skb_output: 1,
  bpf_xdp_output: 1,
  bpf_perf_event_read: 0,
  bpf_perf_event_read_value: 0,
};
/** Ring buffer helpers that take the map as their first argument. */
export const RINGBUF_MAP_HELPERS = new Set(['bpf_ringbuf_output', 'bpf_ringbuf_reserve', 'bpf_ringbuf_query', 'bpf_ringbuf_reserve_dynptr']);
export const DYNPTR_HELPERS = new Set(['bpf_ringbuf_reserve_dynptr', 'bpf_ringbuf_submit_dynptr', 'bpf_ringbuf_discard_dynptr']);

export function lintSourceModel(model: SourceModel, opts: SourceLintOptions): Finding[] {
  const out: Finding[] = [];
  const file = model.src.file;
  const checks = new CheckRunner(file);
  for (const map of model.maps) {
    if (map.kind !== 'ringbuf') continue;
    out.push(...checks.run('ring buffer map definition', `map '${map.name}'`, () => mapFieldFindings(model, map, opts)));
  }
  for (const rb of model.bccRingbufs) {
    const n = model.evaluate(rb.pageCntText);
    if (n === undefined || (n > 0 && isPowerOfTwo(n))) continue;
    const fixed = Math.max(1, nextPowerOfTwo(n));
    out.push(
      finding('RB005', file, model.src.range(rb.pageCntStart, rb.pageCntEnd),
        `BPF_RINGBUF_OUTPUT(${rb.name}, ${rb.pageCntText}): the page count must be a power of two — bcc creates a ring of page_cnt × page size bytes and the kernel rejects any other size with EINVAL. Use ${fixed}.`,
        `RB005 ${rb.name}`, [replaceFix(model, rb.pageCntStart, rb.pageCntEnd, String(fixed), `Change the page count to ${fixed}`)]),
    );
    if (opts.kernelRelease && kernelBefore(opts.kernelRelease, 5, 8)) {
      out.push(oldKernelMapFinding(rb.name, opts.kernelRelease, model.src.range(rb.nameStart, rb.nameEnd), file));
    }
  }
  for (const fn of model.functions) {
    for (const call of fn.calls) out.push(...checks.run('helper call', `${call.name}() in function ${fn.name}`, () => callFindings(model, fn, call, opts)));
  }
  out.push(...checks.run('ring never written', 'the file', () => neverWrittenFindings(model)));
  for (const fn of model.functions) out.push(...checks.run('reserve/submit pairing', `function ${fn.name}`, () => analyzeReservePairing(model, fn)));
  out.push(...checks.run('bpf_ringbuf_output rewrite', 'the file', () => analyzeOutputCalls(model)));
  out.push(...checks.run('migrations', 'the file', () => migrationFindings(model, opts)));
  out.push(...checks.failureFindings());
  return dedupe(out);
}

function mapFieldFindings(model: SourceModel, map: MapDef, opts: SourceLintOptions): Finding[] {
  const out: Finding[] = [];
  const file = model.src.file;
  const mapRange = model.src.range(map.nameStart, map.nameEnd);
  const field = map.fields.find((f) => f.name === 'max_entries');
  if (!field) {
    out.push(...maxEntriesFindings(map.name, undefined, opts.pageSize, { file, mapRange, model, def: map }));
  } else {
    const value = model.evaluate(field.valueText);
    if (value !== undefined) {
      out.push(...maxEntriesFindings(map.name, value, opts.pageSize, { file, mapRange, sizeRange: model.src.range(field.valueStart, field.valueEnd), model, def: map }));
    }
  }
  for (const f of map.fields) {
    const range = model.src.range(f.stmtStart, f.stmtEnd);
    if (f.name === 'key_size' || f.name === 'value_size' || f.name === 'key' || (f.name === 'value' && !isEventTypeDeclaration(f.macro, f.valueText))) {
      const fixes: QuickFix[] = [deleteFieldFix(model, f, `Remove ${f.macro}(${f.name}, …) from ringbuf map '${map.name}'`)];
      out.push(
        finding('RB003', file, range,
          `Ringbuf map '${map.name}' declares ${f.macro}(${f.name}, ${f.valueText}), but a ringbuf's key and value sizes must be 0: libbpf prints "Retrying without BTF" and still fails with EINVAL. Remove this line (records are sized by bpf_ringbuf_reserve()/bpf_ringbuf_output(), not by the map).`,
          `RB003 ${map.name} ${f.name === 'key' || f.name === 'key_size' ? 'key' : 'value'}`, fixes),
      );
    } else if (f.name === 'value') {
      out.push(
        finding('RB004', file, range,
          `${f.valueText} is declared as the event type of ringbuf map '${map.name}' (cilium/ebpf ≥ 0.17 style). Ringbuf Studio decodes records with it and strips it before loading; plain libbpf loaders would fail with EINVAL ("Retrying without BTF"), so keep this only if your loader handles it.`,
          `RB004 ${map.name}`),
      );
    }
  }
  if (opts.kernelRelease && kernelBefore(opts.kernelRelease, 5, 8)) {
    const typeField = map.fields.find((f) => f.name === 'type');
    const range = typeField ? model.src.range(typeField.valueStart, typeField.valueEnd) : mapRange;
    out.push(oldKernelMapFinding(map.name, opts.kernelRelease, range, file));
  }
  return out;
}

/** `__type(value, struct X)` (or union) on a ringbuf map: the recognised event-type declaration. */
export function isEventTypeDeclaration(macro: string, valueText: string): boolean {
  return macro === '__type' && /^(struct|union)\s+[A-Za-z_]\w*$/.test(valueText.trim());
}

/** Per-function sizeof resolver: `sizeof(*e)` with `struct event *e`, `sizeof(v)`, `sizeof(struct event)`. */
export function functionEvalContext(model: SourceModel, fn: FunctionDef): EvalContext {
  return {
    macro: (name) => model.macro(name),
    sizeofType: (text) => {
      const deref = /^\*\s*([A-Za-z_]\w*)$/.exec(text.trim());
      const plain = /^([A-Za-z_]\w*)$/.exec(text.trim());
      const varName = deref?.[1] ?? plain?.[1];
      const local = varName ? fn.locals.get(varName) : undefined;
      if (local) {
        if (deref) return local.pointer ? model.sizeofType(local.typeText) : undefined;
        return local.pointer ? 8 : model.sizeofType(local.typeText);
      }
      return model.sizeofType(text);
    },
  };
}

/** The type a record-size expression names, for messages: "struct event". */
function recordTypeName(model: SourceModel, fn: FunctionDef, sizeText: string): string {
  const m = /^sizeof\s*\(\s*(\*?)\s*([^)]*?)\s*\)$/.exec(sizeText.trim());
  if (!m) return sizeText.trim();
  const local = fn.locals.get(m[2]!);
  if (local) return local.typeText;
  return m[2]!;
}

function callFindings(model: SourceModel, fn: FunctionDef, call: CallSite, opts: SourceLintOptions): Finding[] {
  const out: Finding[] = [];
  const file = model.src.file;
  const t = model.tokens;
  const callRange = model.src.range(call.start, call.end);
  const argText = (i: number): string | undefined => {
    const a = call.args[i];
    return a ? model.textOf(a[0], a[1]) : undefined;
  };
  const argRange = (i: number): [number, number] | undefined => {
    const a = call.args[i];
    return a && a[1] > a[0] ? [t[a[0]]!.start, t[a[1] - 1]!.end] : undefined;
  };
  // RB006: helper/map type mismatch
  const perfArg = PERF_HELPERS[call.name];
  if (perfArg !== undefined) {
    const mapName = model.mapArg(call.args[perfArg]);
    const map = mapName ? model.findMap(mapName) : undefined;
    if (map?.kind === 'ringbuf') {
      const fixes: QuickFix[] = [];
      const [data, size] = [argText(3), argText(4)];
      if (call.name === 'bpf_perf_event_output' && data && size) {
        fixes.push(replaceFix(model, call.start, call.end, `bpf_ringbuf_output(&${map.name}, ${data}, ${size}, 0)`, `Use bpf_ringbuf_output(&${map.name}, …)`));
      }
      out.push(
        finding('RB006', file, callRange,
          `${call.name}() writes to a perf event array, but '${map.name}' is a BPF_MAP_TYPE_RINGBUF: the verifier rejects the program ("cannot pass map_type 27 into func ${call.name}"). Use bpf_ringbuf_output(&${map.name}, data, size, 0), or reserve/submit.`,
          `RB006 ${map.name} L${callRange.line}`, fixes),
      );
    }
  }
  if (RINGBUF_MAP_HELPERS.has(call.name)) {
    const mapName = model.mapArg(call.args[0]);
    const map = mapName ? model.findMap(mapName) : undefined;
    if (map?.kind === 'perf_event_array') {
      out.push(
        finding('RB006', file, callRange,
          `${call.name}() needs a BPF_MAP_TYPE_RINGBUF, but '${map.name}' is a BPF_MAP_TYPE_PERF_EVENT_ARRAY: the verifier rejects the program ("cannot pass map_type 4 into func ${call.name}"). Change '${map.name}' to __uint(type, BPF_MAP_TYPE_RINGBUF) with a max_entries size, or write with bpf_perf_event_output(ctx, &${map.name}, BPF_F_CURRENT_CPU, data, size).`,
          `RB006 ${map.name} L${callRange.line}`),
      );
    }
    // RB010/RB011: record size vs ring size
    if (map?.kind === 'ringbuf' && call.name !== 'bpf_ringbuf_query') {
      const sizeIdx = call.name === 'bpf_ringbuf_output' ? 2 : 1;
      const sizeText = argText(sizeIdx);
      const maxField = map.fields.find((f) => f.name === 'max_entries');
      const ringSize = maxField ? model.evaluate(maxField.valueText) : undefined;
      const recordSize = sizeText ? evaluateNumber(sizeText, functionEvalContext(model, fn)) : undefined;
      if (ringSize && recordSize) {
        out.push(...recordSizeFindings(map.name, ringSize, recordSize, recordTypeName(model, fn, sizeText!), opts.pageSize, callRange, file, model, map));
      }
    }
  }
  // RB016: reserve flags must be 0
  if (call.name === 'bpf_ringbuf_reserve') {
    const flags = argText(2);
    const r = argRange(2);
    const v = flags ? model.evaluate(flags) : undefined;
    if (v !== undefined && v !== 0 && r) {
      out.push(
        finding('RB016', file, model.src.range(r[0], r[1]),
          `bpf_ringbuf_reserve() is called with flags ${flags}; it accepts only 0 and returns NULL for anything else, so every reservation fails and no event is sent. Pass 0 (wakeup flags such as BPF_RB_NO_WAKEUP belong to bpf_ringbuf_submit()).`,
          `RB016 ${call.start}`, [replaceFix(model, r[0], r[1], '0', 'Pass 0 as the flags')]),
      );
    }
  }
  // RB013: forced wakeup on every record
  const flagsIdx = call.name === 'bpf_ringbuf_output' ? 3 : call.name === 'bpf_ringbuf_submit' || call.name === 'bpf_ringbuf_submit_dynptr' ? 1 : undefined;
  if (flagsIdx !== undefined) {
    const flags = argText(flagsIdx);
    const r = argRange(flagsIdx);
    if (flags && r && /\bBPF_RB_FORCE_WAKEUP\b/.test(flags)) {
      out.push(
        finding('RB013', file, model.src.range(r[0], r[1]),
          `BPF_RB_FORCE_WAKEUP wakes the consumer for every record; at high event rates that costs a wakeup per event. Pass 0 (the kernel wakes the reader only when it has caught up) unless each record must be seen immediately.`,
          `RB013 ${call.start}`, [replaceFix(model, r[0], r[1], '0', 'Use adaptive wakeup (flags 0)', false)]),
      );
    }
  }
  // RB012: dynptr helpers on an old kernel
  if (opts.kernelRelease && DYNPTR_HELPERS.has(call.name) && kernelBefore(opts.kernelRelease, 5, 19)) {
    out.push(oldKernelDynptrFinding(call.name, opts.kernelRelease, callRange, file, `RB012 ${call.name} L${callRange.line}`));
  }
  return out;
}

/** RB014: a ringbuf map no code in this file ever names (only when the file has programs). */
function neverWrittenFindings(model: SourceModel): Finding[] {
  if (!model.functions.some((f) => f.isProgram)) return [];
  const out: Finding[] = [];
  for (const map of model.maps) {
    if (map.kind !== 'ringbuf') continue;
    const used = model.functions.some((fn) => {
      for (let i = fn.bodyOpen + 1; i < fn.bodyClose; i++) if (model.tokens[i]!.text === map.name) return true;
      return false;
    });
    if (used) continue;
    out.push(
      finding('RB014', model.src.file, model.src.range(map.nameStart, map.nameEnd),
        `Ringbuf map '${map.name}' is never written by any program in this file: readers will wait forever. Write records with bpf_ringbuf_reserve(&${map.name}, …)/bpf_ringbuf_submit() or bpf_ringbuf_output(&${map.name}, …), or remove the map.`,
        `RB014 ${map.name}`),
    );
  }
  return out;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    if (seen.has(f.key)) return false;
    seen.add(f.key);
    return true;
  });
}
