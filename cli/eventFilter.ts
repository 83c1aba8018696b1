// `run --filter EXPR`: only events matching the Live Events panel's filter language
// (core/panel/filter.ts) are printed. The expression is parsed before anything loads (a
// mistake is a usage error with a caret under its position) and checked against the
// program's field names once the layouts are known.
import { compileFilter, FilterError, type CompiledFilter } from '../core/panel/filter';
import { EventTyping } from '../core/panel/rows';
import type { EventLayout } from '../core/btf/layoutTypes';
import type { RecordBatch } from '../core/session/types';
import { CliUsageError } from './usageError';

/** The usage error for a filter mistake: the message, the expression and a caret under the position. */
export function filterUsageError(expr: string, err: FilterError, what = 'does not parse'): CliUsageError {
  const caret = `${' '.repeat(Math.min(err.position, expr.length))}${'^'.repeat(Math.max(1, Math.min(err.length, expr.length - err.position)))}`;
  return new CliUsageError(`--filter ${what}: ${err.message}\n    ${expr}\n    ${caret}`);
}

/** Parses EXPR without knowing the fields yet (they come with the program): syntax only. */
export function checkFilterSyntax(expr: string): void {
  try {
    compileFilter(expr);
  } catch (err) {
    if (err instanceof FilterError) throw filterUsageError(expr, err);
    throw err;
  }
}

/** Selects the records of a batch that match; built once the layouts are known. */
export class EventSelector {
  private readonly typing: EventTyping;
  private readonly filter: CompiledFilter | null;
  /** Records that matched so far. */
  matched = 0;

  /** Throws CliUsageError when EXPR names a field the program's events do not have. */
  constructor(expr: string, layouts: Map<string, EventLayout | null>, multiHost: boolean) {
    const eventTypes = [...layouts].map(([map, layout]) => ({ map, layout }));
    this.typing = new EventTyping(eventTypes, { multiHost, multiMap: eventTypes.length > 1 });
    try {
      this.filter = compileFilter(expr, this.typing.fieldNames);
    } catch (err) {
      if (err instanceof FilterError) throw filterUsageError(expr, err, 'does not fit the program');
      throw err;
    }
  }

  /** The batch with only its matching records (the same batch when all match; undefined when none do). */
  select(b: RecordBatch): RecordBatch | undefined {
    const filter = this.filter;
    if (!filter) {
      this.matched += b.count;
      return b;
    }
    const wire = { ...b, seq: 0 };
    const keep: number[] = [];
    for (let i = 0; i < b.count; i++) if (filter.test(this.typing.getter(wire, i))) keep.push(i);
    this.matched += keep.length;
    if (keep.length === b.count) return b;
    if (keep.length === 0) return undefined;
    const offsets = new Uint32Array(keep.length);
    const lengths = new Uint32Array(keep.length);
    keep.forEach((i, k) => {
      offsets[k] = b.offsets[i] ?? 0;
      lengths[k] = b.lengths[i] ?? 0;
    });
    return { ...b, count: keep.length, offsets, lengths };
  }
}
