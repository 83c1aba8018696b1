// The object layer: the compiled object is authoritative (macros, -D flags and
// headers already expanded). With the source text it borrows positions and builds
// fixes from the real values; without it, findings sit on line 1 naming the map.
import type { BpfHelperCall, BpfMapInfo, BpfObjectInfo } from '../elf/bpfObject';
import { findTypeId } from '../btf/layout';
import type { SourceRange } from '../diagnostics';
import { finding, FIRST_LINE, type Finding } from './finding';
import { deleteFieldFix } from '../source/fixes';
import { kernelBefore, maxEntriesFindings, oldKernelDynptrFinding, oldKernelMapFinding, recordSizeFindings } from './mapRules';
import type { MapDef, MapField, SourceModel } from '../source/sourceModel';
import { DYNPTR_HELPERS, isEventTypeDeclaration, PERF_HELPERS, RINGBUF_MAP_HELPERS } from './sourceRules';

export interface ObjectLintOptions {
  pageSize: number;
  kernelRelease?: string;
}

const WRITERS = new Set(['bpf_ringbuf_output', 'bpf_ringbuf_reserve', 'bpf_ringbuf_reserve_dynptr']);

export function lintObjectInfo(obj: BpfObjectInfo, file: string, model: SourceModel | undefined, opts: ObjectLintOptions): Finding[] {
  const out: Finding[] = [];
  const mapsByName = new Map(obj.maps.map((m) => [m.name, m]));
  for (const map of obj.maps) {
    if (map.typeName !== 'ringbuf') continue;
    const def = model?.findMap(map.name);
    const mapRange = def && model ? model.src.range(def.nameStart, def.nameEnd) : FIRST_LINE;
    const sizeField = def?.fields.find((f) => f.name === 'max_entries');
    const sizeRange = sizeField && model ? model.src.range(sizeField.valueStart, sizeField.valueEnd) : undefined;
    // a bcc BPF_RINGBUF_OUTPUT(name, page_cnt) ring is sized in pages: RB005 speaks for it
    const bcc = model?.bccRingbufs.some((b) => b.name === map.name) ?? false;
    if (!bcc) out.push(...maxEntriesFindings(map.name, map.maxEntries, opts.pageSize, { file, mapRange, sizeRange, model, def }));
    out.push(...keyValueFindings(map, file, mapRange, model, def));
    if (opts.kernelRelease && kernelBefore(opts.kernelRelease, 5, 8)) {
      const typeField = def?.fields.find((f) => f.name === 'type');
      const range = typeField && model ? model.src.range(typeField.valueStart, typeField.valueEnd) : mapRange;
      out.push(oldKernelMapFinding(map.name, opts.kernelRelease, range, file));
    }
    out.push(...recordSizeFromObject(obj, map, file, model, def, opts));
  }
  const calls = obj.programs.flatMap((p) => p.helperCalls.map((c) => ({ program: p.name, call: c })));
  for (const { program, call } of calls) {
    const range = callRange(call, file, model);
    const map = call.mapName ? mapsByName.get(call.mapName) : undefined;
    if (map && PERF_HELPERS[call.name] !== undefined && map.typeName === 'ringbuf') {
      out.push(
        finding('RB006', file, range,
          `${call.name}() in program ${program} writes to a perf event array, but '${map.name}' is a BPF_MAP_TYPE_RINGBUF: the verifier rejects the program ("cannot pass map_type 27 into func ${call.name}"). Use bpf_ringbuf_output(&${map.name}, data, size, 0), or reserve/submit.`,
          `RB006 ${map.name} L${call.line ?? '?'}`),
      );
    }
    if (map && RINGBUF_MAP_HELPERS.has(call.name) && map.typeName === 'perf_event_array') {
      out.push(
        finding('RB006', file, range,
          `${call.name}() in program ${program} needs a BPF_MAP_TYPE_RINGBUF, but '${map.name}' is a BPF_MAP_TYPE_PERF_EVENT_ARRAY: the verifier rejects the program ("cannot pass map_type 4 into func ${call.name}"). Change '${map.name}' to a ringbuf map, or write with bpf_perf_event_output().`,
          `RB006 ${map.name} L${call.line ?? '?'}`),
      );
    }
    if (opts.kernelRelease && DYNPTR_HELPERS.has(call.name) && kernelBefore(opts.kernelRelease, 5, 19)) {
      out.push(oldKernelDynptrFinding(call.name, opts.kernelRelease, range, file, `RB012 ${call.name} L${call.line ?? '?'}`));
    }
  }
  // RB014: a ringbuf no program writes (only when every writer call's map is known)
  const writerCalls = calls.filter((c) => WRITERS.has(c.call.name));
  if (obj.programs.length > 0 && writerCalls.every((c) => c.call.mapName !== undefined)) {
    for (const map of obj.maps) {
      if (map.typeName !== 'ringbuf' || calls.some((c) => c.call.mapName === map.name)) continue;
      // a map only reached through a pointer the reader cannot follow still shows in the source
      if (model && model.functions.some((fn) => model.tokens.slice(fn.bodyOpen, fn.bodyClose).some((t) => t.text === map.name))) continue;
      const def = model?.findMap(map.name);
      out.push(
        finding('RB014', file, def && model ? model.src.range(def.nameStart, def.nameEnd) : FIRST_LINE,
          `Ringbuf map '${map.name}' is never written by any program in this object: readers will wait forever. Write records with bpf_ringbuf_reserve(&${map.name}, …)/bpf_ringbuf_submit() or bpf_ringbuf_output(&${map.name}, …), or remove the map.`,
          `RB014 ${map.name}`),
      );
    }
  }
  return out;
}

function keyValueFindings(map: BpfMapInfo, file: string, mapRange: SourceRange, model: SourceModel | undefined, def: MapDef | undefined): Finding[] {
  const out: Finding[] = [];
  const fieldOf = (names: string[]): MapField | undefined => def?.fields.find((f) => names.includes(f.name));
  if (map.hasKeyField || (map.keySize ?? 0) > 0) {
    const f = fieldOf(['key', 'key_size']);
    out.push(
      finding('RB003', file, f && model ? model.src.range(f.stmtStart, f.stmtEnd) : mapRange,
        `Ringbuf map '${map.name}' declares a key (key size ${map.keySize ?? '?'}), but a ringbuf's key and value sizes must be 0: libbpf prints "Retrying without BTF" and still fails with EINVAL. Remove the key line from the map definition.`,
        `RB003 ${map.name} key`, f && model ? [deleteFieldFix(model, f, `Remove ${f.macro}(${f.name}, …) from ringbuf map '${map.name}'`)] : undefined),
    );
  }
  if (map.hasValueField || (map.valueSize ?? 0) > 0) {
    const f = fieldOf(['value', 'value_size']);
    const declared = map.declaredValueType !== undefined || (f !== undefined && isEventTypeDeclaration(f.macro, f.valueText));
    if (declared) {
      const typeName = map.declaredValueType?.typeName ?? f?.valueText ?? 'the value type';
      out.push(
        finding('RB004', file, f && model ? model.src.range(f.stmtStart, f.stmtEnd) : mapRange,
          `${typeName} is declared as the event type of ringbuf map '${map.name}' (cilium/ebpf ≥ 0.17 style). Ringbuf Studio decodes records with it and strips it before loading; plain libbpf loaders would fail with EINVAL ("Retrying without BTF"), so keep this only if your loader handles it.`,
          `RB004 ${map.name}`),
      );
    } else {
      out.push(
        finding('RB003', file, f && model ? model.src.range(f.stmtStart, f.stmtEnd) : mapRange,
          `Ringbuf map '${map.name}' declares a value (value size ${map.valueSize ?? '?'}), but a ringbuf's key and value sizes must be 0: libbpf prints "Retrying without BTF" and still fails with EINVAL. Remove the value line from the map definition.`,
          `RB003 ${map.name} value`, f && model ? [deleteFieldFix(model, f, `Remove ${f.macro}(${f.name}, …) from ringbuf map '${map.name}'`)] : undefined),
      );
    }
  }
  return out;
}

function callRange(call: BpfHelperCall, file: string, model: SourceModel | undefined): SourceRange {
  if (call.line === undefined || (call.file && model && !sameFile(call.file, file))) return FIRST_LINE;
  const column = call.column && call.column > 0 ? call.column : 1;
  if (model) {
    // widen to the call expression on that line when the source has it
    const site = model.functions.flatMap((f) => f.calls).find((c) => c.name === call.name && model.src.position(c.start).line === call.line);
    if (site) return model.src.range(site.start, site.end);
  }
  return { line: call.line, column, endLine: call.line, endColumn: column };
}

function sameFile(a: string, b: string): boolean {
  const base = (p: string): string => p.split(/[\\/]/).pop() ?? p;
  return base(a) === base(b);
}

/**
 * Record sizes the object knows: the declared event type, or — with the source — the
 * type named in sizeof() at the map's reserve/output calls, sized from the object's BTF.
 */
function recordSizeFromObject(obj: BpfObjectInfo, map: BpfMapInfo, file: string, model: SourceModel | undefined, def: MapDef | undefined, opts: ObjectLintOptions): Finding[] {
  if (!map.maxEntries) return [];
  let size: number | undefined;
  let typeName: string | undefined;
  let range: SourceRange = def && model ? model.src.range(def.nameStart, def.nameEnd) : FIRST_LINE;
  if (model && obj.btf) {
    for (const fn of model.functions) {
      for (const call of fn.calls) {
        if (!WRITERS.has(call.name) || model.mapArg(call.args[0]) !== map.name) continue;
        const sizeArg = call.args[call.name === 'bpf_ringbuf_output' ? 2 : 1];
        const text = sizeArg ? model.textOf(sizeArg[0], sizeArg[1]) : '';
        const m = /^sizeof\s*\(\s*(\*?)\s*([^)]*?)\s*\)$/.exec(text.trim());
        if (!m) continue;
        const local = fn.locals.get(m[2]!);
        const candidate = local ? local.typeText : m[1] ? undefined : m[2]!;
        if (!candidate) continue;
        const id = findTypeId(obj.btf, candidate);
        const s = id === undefined ? undefined : obj.btf.sizeOf(id);
        if (s && (size === undefined || s > size)) {
          size = s;
          typeName = candidate;
          range = model.src.range(call.start, call.end);
        }
      }
    }
  }
  if (size === undefined && map.declaredValueType) {
    size = map.declaredValueType.size;
    typeName = map.declaredValueType.typeName;
  }
  if (size === undefined || !typeName) return [];
  return recordSizeFindings(map.name, map.maxEntries, size, typeName, opts.pageSize, range, file, model, def);
}
