// Migration (a): a perf event array written with bpf_perf_event_output() becomes a
// BPF ring buffer.
//   map:   __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY) + key_size/value_size
//          → __uint(type, BPF_MAP_TYPE_RINGBUF) + __uint(max_entries, 256 * 1024)
//   calls: struct X v = {}; …fill v…; bpf_perf_event_output(ctx, &map, F, &v, sizeof(v));
//          → struct X *v = bpf_ringbuf_reserve(&map, sizeof(*v), 0); if (!v) return 0; …; bpf_ringbuf_submit(v, 0);
//          anything else → bpf_ringbuf_output(&map, data, size, 0), which is always equivalent.
// Offered only when every use of the map is such a call (a map that is also read,
// pinned by name for a reader, or passed elsewhere is left alone).
import type { QuickFix, TextEdit } from '../diagnostics';
import { sortEdits } from '../source/edits';
import { DEFAULT_RING_SIZE_TEXT } from '../source/fixes';
import type { CallSite, FunctionDef, MapDef, SourceModel } from '../source/sourceModel';
import { rewriteToReserve } from './outputToReserve';

export interface PerfMigration {
  map: MapDef;
  /** The bpf_perf_event_output calls on the map. */
  calls: Array<{ fn: FunctionDef; call: CallSite }>;
  /** Empty when the migration is not safe; `reason` says why. */
  fixes: QuickFix[];
  reason?: string;
}

/** Keys a perf event array has and a ring buffer must not (they make the load fail). */
const PERF_ONLY_FIELDS = new Set(['key_size', 'value_size', 'key', 'value', 'max_entries', 'map_flags']);

export function perfBufferMigrations(model: SourceModel): PerfMigration[] {
  const out: PerfMigration[] = [];
  for (const map of model.maps) {
    if (map.kind !== 'perf_event_array') continue;
    const calls: PerfMigration['calls'] = [];
    let otherUse = false;
    for (const fn of model.functions) {
      const inCalls = new Set<number>();
      for (const call of fn.calls) {
        if (call.name !== 'bpf_perf_event_output' || model.mapArg(call.args[1]) !== map.name) continue;
        calls.push({ fn, call });
        const arg = call.args[1]!;
        for (let i = arg[0]; i < arg[1]; i++) inCalls.add(i);
      }
      for (let i = fn.bodyOpen + 1; i < fn.bodyClose; i++) {
        const tok = model.tokens[i]!;
        if (tok.kind === 'ident' && tok.text === map.name && !inCalls.has(i)) otherUse = true;
      }
    }
    if (calls.length === 0) continue;
    const migration: PerfMigration = { map, calls, fixes: [] };
    if (map.sharedType) migration.reason = `'${map.name}' uses a struct type shared with other maps`;
    else if (otherUse) migration.reason = `'${map.name}' is used other than by bpf_perf_event_output()`;
    else if (calls.some(({ call }) => call.args.length !== 5)) migration.reason = 'a bpf_perf_event_output() call does not have 5 arguments';
    else {
      const mapEdit = ringbufMapEdit(model, map);
      const rewrites = calls.map(({ fn, call }) => reserveEdits(model, fn, call, map.name));
      const inPlace = rewrites.map((r, i) => r ?? [outputEdit(model, calls[i]!.call, map.name)]);
      const copying = calls.map(({ call }) => outputEdit(model, call, map.name));
      const reserved = rewrites.filter((r) => r !== undefined).length;
      const n = calls.length === 1 ? 'its call' : `its ${calls.length} calls`;
      if (reserved > 0) {
        migration.fixes.push({
          title: `Migrate '${map.name}' to a BPF ring buffer: reserve → fill → submit${reserved < calls.length ? ` (bpf_ringbuf_output where the record is not a simple local)` : ''}`,
          edits: sortEdits([mapEdit, ...inPlace.flat()]),
          preferred: true,
        });
      }
      migration.fixes.push({
        title: `Migrate '${map.name}' to a BPF ring buffer: bpf_ringbuf_output() for ${n}`,
        edits: sortEdits([mapEdit, ...copying]),
        preferred: reserved === 0,
      });
    }
    out.push(migration);
  }
  return out;
}

/** The map body rewritten as a ring buffer; other fields (e.g. pinning) are kept. */
function ringbufMapEdit(model: SourceModel, map: MapDef): TextEdit {
  const text = model.src.text;
  const typeField = map.fields.find((f) => f.name === 'type');
  const indent = typeField ? model.src.indentOf(typeField.stmtStart) || '\t' : '\t';
  const kept = map.fields.filter((f) => f.name !== 'type' && !PERF_ONLY_FIELDS.has(f.name)).map((f) => text.slice(f.stmtStart, f.stmtEnd));
  const body = [
    '__uint(type, BPF_MAP_TYPE_RINGBUF);',
    `__uint(max_entries, ${DEFAULT_RING_SIZE_TEXT}); /* bytes shared by all CPUs: a power of two, a page multiple */`,
    ...kept,
  ];
  const newText = `\n${body.map((l) => `${indent}${l}`).join('\n')}\n`;
  return { file: model.src.file, range: model.src.range(map.bodyOpen + 1, map.bodyClose), newText };
}

function outputEdit(model: SourceModel, call: CallSite, mapName: string): TextEdit {
  const arg = (i: number): string => {
    const a = call.args[i]!;
    return model.textOf(a[0], a[1]).replace(/\s+/g, ' ').trim();
  };
  return { file: model.src.file, range: model.src.range(call.start, call.end), newText: `bpf_ringbuf_output(&${mapName}, ${arg(3)}, ${arg(4)}, 0)` };
}

function reserveEdits(model: SourceModel, fn: FunctionDef, call: CallSite, mapName: string): TextEdit[] | undefined {
  return rewriteToReserve(model, fn, call, { mapName, dataArg: call.args[3], sizeArg: call.args[4], submitFlags: '0' });
}
