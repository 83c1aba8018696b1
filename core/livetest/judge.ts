// The verdict on one test's window: each expectation's count over the window's events
// (the Live Events filter language, plus `$trigger`), the order when `order: true`, and
// the events to show next to a failure.
import type { EventLayout } from '../btf/layoutTypes';
import type { CompiledFilter, FieldGetter } from '../panel/filter';
import type { EventTyping } from '../panel/rows';
import { hexOf } from '../util/hex';
import type { WireBatch } from '../protocol/panel';
import { countHolds, countNeedsEvents, describeCount, type Expectation, type ExpectationResult, type ShownEvent } from './model';
import { TRIGGER_FIELD } from './parse';
import { markTriggerEvents, processFieldsOf, type EventProcess, type ProcessFields } from './triggerTree';

/** How many decoded events a failure shows. */
export const SHOWN_EVENTS = 5;
const SHOWN_EVENT_CHARS = 400;

export interface WindowEvent {
  batch: WireBatch;
  index: number;
}

export interface Verdict {
  expectations: ExpectationResult[];
  triggerEvents: number;
  closest: ShownEvent[];
  /**
   * What `closest` shows: the last matches of an expectation that matched too often, else
   * the last events of the trigger's process tree, else the last events of the window.
   */
  closestKind: 'too-many-matches' | 'trigger' | 'window';
}

export interface JudgeInput {
  events: readonly WindowEvent[];
  expectations: ReadonlyArray<{ spec: Expectation; filter: CompiledFilter | null }>;
  order: boolean;
  typing: EventTyping;
  /** Process fields per ring map. */
  processFields: ReadonlyMap<string, ProcessFields>;
  /** The trigger's pid(s) on the target; empty when the transport could not tell. */
  roots: readonly number[];
}

export function processFieldsByMap(layouts: ReadonlyMap<string, EventLayout | null>): Map<string, ProcessFields> {
  return new Map([...layouts].map(([map, layout]) => [map, processFieldsOf(layout)]));
}

export function judgeWindow(x: JudgeInput): Verdict {
  const trigger = markTriggerEvents(
    x.events.map((e) => processOf(e, x)),
    x.roots,
  );
  const getters: FieldGetter[] = x.events.map((e, i) => {
    const fields = x.typing.getter(e.batch, e.index);
    const mine = trigger[i] ?? false;
    return (name) => (name === TRIGGER_FIELD ? mine : fields(name));
  });
  const matches = x.expectations.map(({ filter }) => getters.flatMap((g, i) => (!filter || filter.test(g) ? [i] : [])));
  const results: ExpectationResult[] = x.expectations.map(({ spec }, k) => {
    const seen = matches[k]?.length ?? 0;
    const ok = countHolds(spec.count, seen);
    return {
      index: spec.index,
      where: spec.where,
      count: spec.count,
      seen,
      ok,
      range: spec.range,
      ...(ok ? {} : { message: countMessage(spec, seen, x.events.length, trigger) }),
    };
  });
  if (x.order) checkOrder(x.expectations.map((e) => e.spec), matches, results);
  const firstFailing = results.findIndex((r) => !r.ok);
  const failing = results[firstFailing];
  // Too many matches: show those; otherwise what the trigger's processes emitted, or else the window's last events.
  const tooMany = failing !== undefined && failing.seen > 0 && tooManySeen(failing);
  const fromTrigger = x.events.flatMap((_, i) => (trigger[i] ? [i] : []));
  const closestKind: Verdict['closestKind'] = tooMany ? 'too-many-matches' : fromTrigger.length ? 'trigger' : 'window';
  const pool = tooMany ? (matches[firstFailing] ?? []) : fromTrigger.length ? fromTrigger : x.events.map((_, i) => i);
  const closest = pool.slice(-SHOWN_EVENTS).map((i) => showEvent(x.events[i] as WindowEvent, x.typing, trigger[i] ?? false, multiMap(x)));
  return { expectations: results, triggerEvents: trigger.filter(Boolean).length, closest, closestKind };
}

/** The count failed because more events matched than allowed. */
function tooManySeen(r: ExpectationResult): boolean {
  const { op, n } = r.count;
  return op === '==' ? r.seen > n : op === '<=' ? r.seen > n : op === '<' ? r.seen >= n : false;
}

function processOf(e: WindowEvent, x: JudgeInput): EventProcess {
  const fields = x.processFields.get(e.batch.map);
  if (!fields || (fields.ids.length === 0 && fields.parents.length === 0)) return { ids: [], parent: undefined };
  const get = x.typing.getter(e.batch, e.index);
  const num = (name: string): number | undefined => {
    const v = get(name);
    return typeof v === 'number' ? v : undefined;
  };
  const ids = fields.ids.map(num).filter((v): v is number => v !== undefined);
  const parentName = fields.parents[0];
  return { ids, parent: parentName === undefined ? undefined : num(parentName) };
}

function countMessage(spec: Expectation, seen: number, total: number, trigger: boolean[]): string {
  const where = spec.where.trim() === '' ? 'any event' : spec.where;
  const fromTrigger = trigger.filter(Boolean).length;
  return `expectation ${spec.index + 1}: \`${where}\` expected count ${describeCount(spec.count)}, saw ${seen} (${total} event${total === 1 ? '' : 's'} in the window, ${fromTrigger} from the trigger's process tree)`;
}

/**
 * `order: true`: the expectations that need events must be met in sequence — there is a
 * match of the first, then a later match of the second, and so on (arrival order; across
 * rings that is the helper's drain order).
 */
function checkOrder(specs: readonly Expectation[], matches: number[][], results: ExpectationResult[]): void {
  let after = -1;
  let previous: Expectation | undefined;
  specs.forEach((spec, k) => {
    const r = results[k];
    if (!r || !countNeedsEvents(spec.count)) return;
    const next = (matches[k] ?? []).find((i) => i > after);
    if (next === undefined) {
      if (r.ok && previous) {
        r.ok = false;
        r.message = `expectation ${spec.index + 1}: \`${spec.where}\` was not met after expectation ${previous.index + 1} (order: true): its ${r.seen} match${r.seen === 1 ? '' : 'es'} came before event #${after + 1} of the window`;
      }
      return;
    }
    after = next;
    previous = spec;
  });
}

function multiMap(x: JudgeInput): boolean {
  return x.processFields.size > 1;
}

function showEvent(e: WindowEvent, typing: EventTyping, trigger: boolean, withMap: boolean): ShownEvent {
  const json = typing.json(e.batch, e.index);
  const off = e.batch.offsets[e.index] ?? 0;
  const len = e.batch.lengths[e.index] ?? 0;
  let text = json === null ? `raw ${hexOf(e.batch.data, off, len, 64)}` : JSON.stringify(json);
  if (text.length > SHOWN_EVENT_CHARS) text = `${text.slice(0, SHOWN_EVENT_CHARS)}…`;
  if (withMap) text = `${e.batch.map}: ${text}`;
  return { text, map: e.batch.map, timeMs: e.batch.timeMs, trigger };
}
