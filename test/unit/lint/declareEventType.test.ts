// "Declare the event type…": the edit must give the next build an object whose ring
// decodes with field names, for a program the inference cannot type.
import { describe, expect, it } from 'vitest';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { findDeclaredEventTypes } from '../../../core/decode/eventTypes';
import { declareEventTypeFix, eventTypeCandidates } from '../../../core/lint/declareEventType';
import { lintSource } from '../../../core/lint/index';
import { describeError } from '../../../core/util/errors';
import { applyEdits } from '../../../core/source/edits';
import { compileText, fixture } from './support';

describe('declare the event type of a ring', () => {
  it('offers the structs the file defines', () => {
    const { text, file } = fixture('untyped_event.bpf.c');
    expect(eventTypeCandidates(text, file)).toEqual(['struct event']);
  });

  it('before: the object carries no layout for the ring; after the edit it does, with field names', async () => {
    const { text, file } = fixture('untyped_event.bpf.c');
    const before = readBpfObject(await compileText(text, 'untyped-before'), { file });
    expect(findDeclaredEventTypes(before).get('events')).toBeUndefined();

    const fix = declareEventTypeFix(text, file, 'events', 'struct event');
    const fixed = applyEdits(text, fix.edits);
    expect(fixed).toContain('\t__uint(max_entries, 256 * 1024);\n\t__type(value, struct event);\n} events SEC(".maps");');
    expect(lintSource(fixed, file).filter((d) => d.severity === 'error')).toEqual([]);

    const after = readBpfObject(await compileText(fixed, 'untyped-after'), { file });
    const layout = findDeclaredEventTypes(after).get('events');
    expect(layout?.root.fields.map((f) => f.name)).toEqual(['pid', 'uid', 'comm']);
    expect(layout?.size).toBe(24);
  });

  it('refuses with the reason when the map is unknown, not a ring, or already declares a type', () => {
    const { text, file } = fixture('untyped_event.bpf.c');
    expect(() => declareEventTypeFix(text, file, 'nope', 'struct event')).toThrow(/map "nope" is not defined/);
    expect(() => declareEventTypeFix(text, file, 'events', 'int')).toThrow(/not a struct or union name/);
    const fixed = applyEdits(text, declareEventTypeFix(text, file, 'events', 'struct event').edits);
    try {
      declareEventTypeFix(fixed, file, 'events', 'struct event');
      expect.unreachable();
    } catch (err) {
      expect(describeError(err)).toMatch(/already declares struct event[\s\S]*Rebuild and run again/);
    }
  });
});
