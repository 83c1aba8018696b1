// The filter's per-field reads must give exactly what the table shows (the full decode),
// for every column of a real compiler-made record with nested structs, anonymous
// members, bitfields, enums, arrays, 64-bit and signed values, and of the recorded run.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBtf } from '../../../core/btf/btf';
import { layoutOf } from '../../../core/btf/layout';
import { parseElf } from '../../../core/elf/elf';
import { EventTyping } from '../../../core/panel/rows';
import type { WireBatch } from '../../../core/protocol/panel';
import type { PanelEventType } from '../../../core/protocol/panel';
import { compileFixture, repoRoot, runNativeProgram } from '../../support/compile';
import { loadRecording, toRecordBatch } from '../../panel/recording';

function checkParity(typing: EventTyping, batch: WireBatch): number {
  let checked = 0;
  for (let i = 0; i < batch.count; i++) {
    const decoded = typing.decode(batch, i);
    const get = typing.getter(batch, i);
    for (const c of typing.columns) {
      const col = c.byMap?.get(batch.map);
      if (!col || !decoded) continue;
      expect(get(c.name), `${c.name} of record ${i}`).toEqual(col.get(decoded));
      checked++;
    }
  }
  return checked;
}

describe('EventTyping field reads', () => {
  it('match the full decode for every column of struct record (kinds.bpf.c + record_dump.c)', async () => {
    const dir = path.join(repoRoot, 'test/fixtures/objects');
    const obj = await compileFixture(path.join(dir, 'kinds.bpf.c'), { name: 'kinds' });
    const layout = layoutOf(parseBtf(parseElf(obj.bytes).section('.BTF')!.data), 'struct record');
    const bytes = await runNativeProgram(path.join(dir, 'record_dump.c'));
    const n = bytes.length / layout.size;
    const types: PanelEventType[] = [{ map: 'rb', layout }];
    const typing = new EventTyping(types, { multiHost: false, multiMap: false });
    const batch: WireBatch = {
      seq: 0, host: 'local', map: 'rb', count: n, timeMs: 0, data: bytes,
      offsets: Uint32Array.from({ length: n }, (_, i) => i * layout.size),
      lengths: Uint32Array.from({ length: n }, () => layout.size),
    };
    expect(typing.fieldNames).toContain('in.port');
    expect(typing.fieldNames).toContain('as_u32'); // lifted from the anonymous union
    expect(checkParity(typing, batch)).toBeGreaterThan(n * 20);
    // A truncated record: fields that do not fit are undefined on both paths.
    const short = { ...batch, count: 1, lengths: Uint32Array.of(20) };
    checkParity(typing, short);
    expect(typing.getter(short, 0)('comm')).toBeUndefined();
  });

  it('match the full decode for the recorded run', () => {
    const rec = loadRecording();
    const typing = new EventTyping(rec.run.eventTypes, { multiHost: false, multiMap: true });
    let checked = 0;
    for (const f of rec.frames) if (f.kind === 'batch') checked += checkParity(typing, { ...toRecordBatch(f), seq: 0 });
    expect(checked).toBeGreaterThan(1000);
    expect(typing.recordSlot('events')).toBe(128);
    expect(typing.recordSlot('raw_events')).toBeUndefined();
  });

  it('adds host and map columns when several targets or rings run', () => {
    const rec = loadRecording();
    const names = (multiHost: boolean, multiMap: boolean) => new EventTyping(rec.run.eventTypes, { multiHost, multiMap }).columns.slice(0, 3).map((c) => c.label);
    expect(names(true, true)).toEqual(['time', 'host', 'map']);
    expect(names(false, false)).toEqual(['time', 'pid', 'ret']);
  });
});
