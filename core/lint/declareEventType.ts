// "Declare the event type…" (the panel's link under records shown as hex): the edit that
// adds `__type(value, struct X);` to a ringbuf map definition. That declaration puts X's
// layout into the object's BTF whatever the program does with its pointers, and the
// decoder reads it first (design.md "Event types"); our helper loads such maps.
import type { QuickFix } from '../diagnostics';
import { StudioError } from '../util/errors';
import { isEventTypeDeclaration } from './sourceRules';
import { SourceModel } from '../source/sourceModel';

/** Struct and union names defined in `text`, in source order: the candidates to offer. */
export function eventTypeCandidates(text: string, file = 'prog.bpf.c'): string[] {
  const model = new SourceModel(text, file);
  // Keys already read "struct event" / "union value".
  return [...model.structs.entries()].sort((a, b) => a[1].bodyOpen - b[1].bodyOpen).map(([name]) => name);
}

/**
 * The edit declaring `typeText` ("struct event") as the event type of ringbuf map `mapName`
 * in the file's text. Throws a StudioError that names the cause when the map cannot be found,
 * is not a ringbuf, already declares a type, or the type text is not a struct/union name.
 */
export function declareEventTypeFix(text: string, file: string, mapName: string, typeText: string): QuickFix {
  const wanted = typeText.trim().replace(/\s+/g, ' ');
  if (!isEventTypeDeclaration('__type', wanted)) {
    throw new StudioError(`"${typeText}" is not a struct or union name`, { hint: 'Pick a type written as "struct name" (or "union name").' });
  }
  const model = new SourceModel(text, file);
  const map = model.findMap(mapName);
  if (!map) {
    throw new StudioError(`map "${mapName}" is not defined in ${file}`, {
      hint: 'Open the file that defines the map (struct { … } NAME SEC(".maps")) and run the action from its run.',
    });
  }
  if (map.kind !== 'ringbuf') throw new StudioError(`map "${mapName}" in ${file} is not a BPF_MAP_TYPE_RINGBUF map`);
  const existing = map.fields.find((f) => f.name === 'value');
  if (existing) {
    throw new StudioError(`map "${mapName}" already declares ${existing.valueText.trim()} as its value type`, {
      hint: 'Rebuild and run again: a declared type is used on the next run. If it is the wrong type, edit that line.',
    });
  }
  if (map.sharedType) {
    throw new StudioError(`map "${mapName}" uses a struct type shared with other maps; adding a field there would change all of them`, {
      hint: `Add __type(value, ${wanted}); to a map definition of its own.`,
    });
  }
  const stmt = `__type(value, ${wanted});`;
  const last = map.fields.reduce((end, f) => Math.max(end, f.stmtEnd), -1);
  const after = last >= 0 ? last : map.bodyOpen + 1;
  const lineEnd = model.src.lineEndOf(after);
  const restIsBlank = /^\s*$/.test(text.slice(after, lineEnd)) && lineEnd > after && last >= 0;
  const first = map.fields[0];
  const insertAt = restIsBlank ? lineEnd : after;
  const newText = restIsBlank
    ? `${text.slice(after, lineEnd).endsWith('\n') ? '' : '\n'}${first ? model.src.indentOf(first.stmtStart) : '\t'}${stmt}${text.slice(after, lineEnd).endsWith('\n') ? '\n' : ''}`
    : ` ${stmt}`;
  return {
    title: `Declare ${wanted} as the event type of ${mapName}`,
    edits: [{ file, range: model.src.range(insertAt, insertAt), newText }],
    preferred: true,
  };
}
