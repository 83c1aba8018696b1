// The verdict on a window of events: counts, `$trigger` (the trigger's process tree grown
// through ppid, whatever the arrival order), `order: true`, and which events a failure
// shows. Records are laid out with the execve template's real BTF layout (clang-built).
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileBpf } from '../../../core/compile/build';
import type { EventLayout, LayoutField } from '../../../core/btf/layoutTypes';
import { inferEventTypesFromSource, resolveEventLayouts } from '../../../core/decode/eventTypes';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { judgeWindow, processFieldsByMap, type WindowEvent } from '../../../core/livetest/judge';
import { parseLiveTestFile } from '../../../core/livetest/parse';
import { markTriggerEvents, processFieldsOf } from '../../../core/livetest/triggerTree';
import { compileFilter } from '../../../core/panel/filter';
import { EventTyping } from '../../../core/panel/rows';
import { repoRoot } from '../../support/compile';

let layout: EventLayout;
beforeAll(async () => {
  const file = path.join(repoRoot, 'bpf-templates/execve/execve.bpf.c');
  const built = await compileBpf({ file });
  const obj = readBpfObject(built.object!);
  const found = resolveEventLayouts(obj, inferEventTypesFromSource(fs.readFileSync(file, 'utf8'))).get('events');
  if (!found) throw new Error('no layout for events');
  layout = found;
}, 120_000);

interface Exec {
  pid: number;
  ppid: number;
  comm: string;
  filename?: string;
}

/** One batch with the records laid out at the layout's field offsets. */
function window(events: Exec[]): WindowEvent[] {
  const size = layout.size;
  const data = new Uint8Array(size * events.length);
  const dv = new DataView(data.buffer);
  const field = (name: string): LayoutField => layout.root.fields.find((f) => f.name === name)!;
  events.forEach((e, i) => {
    const base = i * size;
    dv.setInt32(base + field('pid').offset, e.pid, true);
    dv.setInt32(base + field('ppid').offset, e.ppid, true);
    data.set(new TextEncoder().encode(e.comm), base + field('comm').offset);
    data.set(new TextEncoder().encode(e.filename ?? `/bin/${e.comm}`), base + field('filename').offset);
  });
  const batch = {
    seq: 0,
    host: 'local',
    map: 'events',
    count: events.length,
    timeMs: 0,
    data,
    offsets: Uint32Array.from(events.map((_, i) => i * size)),
    lengths: Uint32Array.from(events.map(() => size)),
  };
  return events.map((_, index) => ({ batch, index }));
}

/** Judges `expect` lines (as a user writes them in YAML) over the events. */
function judge(expect: string, events: Exec[], opts: { roots?: number[]; order?: boolean } = {}): ReturnType<typeof judgeWindow> {
  const yaml = `program: p.o\ntests:\n  - name: t\n    run: [/bin/true]\n${opts.order ? '    order: true\n' : ''}    expect:\n${expect}`;
  const parsed = parseLiveTestFile(yaml, '/t/x.rbtest.yaml');
  const test = parsed.file?.tests[0];
  if (!test) throw new Error(JSON.stringify(parsed.diagnostics));
  const typing = new EventTyping([{ map: 'events', layout }], { multiHost: false, multiMap: false });
  const layouts = new Map([['events', layout]]);
  return judgeWindow({
    events: window(events),
    expectations: test.expect.map((spec) => ({ spec, filter: compileFilter(spec.where, [...typing.fieldNames, '$trigger'], { pseudoFields: ['$trigger'] }) })),
    order: test.order,
    typing,
    processFields: processFieldsByMap(layouts),
    roots: opts.roots ?? [100],
  });
}

// The trigger is pid 100 (a shell); 101 is its child, 102 a grandchild whose event arrives
// first; 200 is another user's `true` running at the same time.
const busy: Exec[] = [
  { pid: 102, ppid: 101, comm: 'echo' },
  { pid: 200, ppid: 1, comm: 'true' },
  { pid: 100, ppid: 50, comm: 'sh' },
  { pid: 101, ppid: 100, comm: 'true' },
];

describe('$trigger', () => {
  it("finds the trigger's children and grandchildren through ppid, whatever order their events came in", () => {
    const v = judge('      - where: $trigger\n        count: 3\n      - where: $trigger && comm == "true"\n        count: 1\n', busy);
    expect(v.expectations.map((e) => [e.seen, e.ok])).toEqual([
      [3, true],
      [1, true],
    ]);
    expect(v.triggerEvents).toBe(3);
  });

  it("without $trigger, another process's event counts too", () => {
    const v = judge('      - where: comm == "true"\n        count: 1\n', busy);
    expect(v.expectations[0]).toMatchObject({ seen: 2, ok: false });
    expect(v.expectations[0]?.message).toBe(
      "expectation 1: `comm == \"true\"` expected count 1, saw 2 (4 events in the window, 3 from the trigger's process tree)",
    );
    // Too many: the failure shows the matching events, the trigger's one marked.
    expect(v.closestKind).toBe('too-many-matches');
    expect(v.closest.map((e) => [(JSON.parse(e.text) as Exec).pid, e.trigger])).toEqual([
      [200, false],
      [101, true],
    ]);
  });

  it('matches nothing when the transport could not tell the trigger pid', () => {
    expect(judge('      - where: $trigger\n        count: 0\n', busy, { roots: [] }).expectations[0]?.ok).toBe(true);
  });

  it('takes tgid as the process when an event has both tgid and pid (a thread id)', () => {
    // thread 301 of process 300 (a child of the trigger 100) forks 302
    const marks = markTriggerEvents(
      [
        { ids: [302, 302], parent: 300 },
        { ids: [300, 301], parent: 100 },
        { ids: [999, 999], parent: 301 },
      ],
      [100],
    );
    expect(marks).toEqual([true, true, false]);
    const withTgid: EventLayout = {
      ...layout,
      root: { ...layout.root, fields: [{ name: 'tgid', offset: 0, type: { kind: 'int', size: 4, signed: true } }, ...layout.root.fields] },
    };
    expect(processFieldsOf(withTgid)).toEqual({ ids: ['tgid', 'pid'], parents: ['ppid'] });
  });
});

describe('counts and order', () => {
  it('reads every count form the format allows', () => {
    const forms: Array<[string, boolean]> = [
      ['3', true],
      ['2', false],
      ['">= 3"', true],
      ['">= 4"', false],
      ['"<= 3"', true],
      ['"< 3"', false],
      ['"> 2"', true],
      ['0', false],
    ];
    for (const [count, ok] of forms) {
      expect(judge(`      - where: $trigger\n        count: ${count}\n`, busy).expectations[0]?.ok, count).toBe(ok);
    }
  });

  it('order: true — met in sequence passes, reversed fails naming both expectations', () => {
    const inOrder = judge('      - where: comm == "sh"\n      - where: $trigger && comm == "true"\n', busy, { order: true });
    expect(inOrder.expectations.every((e) => e.ok)).toBe(true);
    const reversed = judge('      - where: $trigger && comm == "true"\n      - where: comm == "echo"\n', busy, { order: true });
    expect(reversed.expectations[0]?.ok).toBe(true);
    expect(reversed.expectations[1]).toMatchObject({ ok: false, seen: 1 });
    expect(reversed.expectations[1]?.message).toBe(
      'expectation 2: `comm == "echo"` was not met after expectation 1 (order: true): its 1 match came before event #4 of the window',
    );
  });

  it("too few: the failure shows the trigger's events (not other processes')", () => {
    const v = judge('      - where: $trigger && comm == "cat"\n', busy);
    expect(v.expectations[0]?.message).toMatch(/expected count >= 1, saw 0/);
    expect(v.closestKind).toBe('trigger');
    expect(v.closest.map((e) => (JSON.parse(e.text) as Exec).comm)).toEqual(['echo', 'sh', 'true']);
  });
});
