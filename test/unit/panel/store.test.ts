// The bounded batch store both sides keep: eviction by events, lookup, snapshot restore.
import { describe, expect, it } from 'vitest';
import { BatchStore } from '../../../core/panel/store';
import { copyBatch } from '../../../core/session/types';
import type { WireBatch } from '../../../core/protocol/panel';

function batch(seq: number, count: number): WireBatch {
  const data = new Uint8Array(count * 4);
  const dv = new DataView(data.buffer);
  for (let i = 0; i < count; i++) dv.setUint32(i * 4, seq + i, true);
  return { seq, host: 'h', map: 'm', count, timeMs: 0, data, offsets: Uint32Array.from({ length: count }, (_, i) => i * 4), lengths: new Uint32Array(count).fill(4) };
}
const valueAt = (s: BatchStore, seq: number): number | undefined => {
  const r = s.locate(seq);
  return r ? new DataView(r.batch.data.buffer).getUint32(r.batch.offsets[r.index]!, true) : undefined;
};

describe('BatchStore', () => {
  it('keeps the newest maxEvents events, dropping whole batches once fully evicted', () => {
    const s = new BatchStore(25);
    for (let i = 0; i < 10; i++) s.append(batch(i * 10, 10));
    expect(s.size).toBe(25);
    expect(s.firstSeq).toBe(75);
    expect(s.batchCount).toBe(3); // 70–79 (partly), 80–89, 90–99
    expect(valueAt(s, 74)).toBeUndefined();
    expect(valueAt(s, 75)).toBe(75);
    expect(valueAt(s, 99)).toBe(99);
    const seen: number[] = [];
    s.forEachEvent(0, 1000, (_b, _i, seq) => seen.push(seq));
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 75 + i));
  });

  it('keeps at most maxBytes of batches: big records evict by memory, not only by count', () => {
    const s = new BatchStore(1_000_000, 500); // a 10-event batch here is 120 bytes
    for (let i = 0; i < 10; i++) s.append(batch(i * 10, 10));
    expect([s.bytes, s.batchCount, s.firstSeq, s.size]).toEqual([480, 4, 60, 40]);
    expect(valueAt(s, 59)).toBeUndefined();
    expect(valueAt(s, 60)).toBe(60);
    s.setLimits(1_000_000, 250);
    expect([s.bytes, s.firstSeq, s.size]).toEqual([240, 80, 20]);
    // A single batch over the bound stays: the newest events are always shown.
    s.setLimits(1_000_000, 50);
    expect([s.batchCount, s.firstSeq, valueAt(s, 99)]).toEqual([1, 90, 99]);
    s.clear();
    expect(s.bytes).toBe(0);
  });

  it('restores a snapshot whose oldest batch is partly evicted', () => {
    const host = new BatchStore(25);
    for (let i = 0; i < 10; i++) host.append(batch(i * 10, 10));
    const view = new BatchStore(25);
    view.restore(host.snapshotBatches(), host.firstSeq);
    expect([view.firstSeq, view.nextSeq, view.size]).toEqual([75, 100, 25]);
    expect(valueAt(view, 75)).toBe(75);
    view.append(batch(100, 5));
    expect([view.firstSeq, view.size, valueAt(view, 104)]).toEqual([80, 25, 104]);
  });

  it('clear forgets everything but keeps numbering', () => {
    const s = new BatchStore(100);
    s.append(batch(0, 10));
    s.clear();
    expect([s.size, s.firstSeq, s.nextSeq]).toEqual([0, 10, 10]);
    s.append(batch(10, 3));
    expect([s.size, valueAt(s, 12)]).toEqual([3, 12]);
    const empty = new BatchStore(10);
    empty.restore([], 42);
    expect([empty.firstSeq, empty.nextSeq]).toEqual([42, 42]);
  });
});

describe('copyBatch', () => {
  it('turns a lent Node Buffer view into plain, independent arrays (what VS Code postMessage can carry)', () => {
    const frame = Buffer.from([9, 9, 1, 2, 3, 4, 9, 9]);
    const view = frame.subarray(2, 8);
    const index = new Uint32Array([0, 0, 4, 9]);
    const out = copyBatch({ count: 1, data: view, offsets: index.subarray(1, 2), lengths: index.subarray(2, 3) });
    expect([out.data.constructor, out.offsets.constructor]).toEqual([Uint8Array, Uint32Array]);
    // Cut to the end of its last record; offsets and lengths of their own.
    expect([[...out.data], [...out.offsets], [...out.lengths], out.offsets.buffer.byteLength]).toEqual([[1, 2, 3, 4], [0], [4], 4]);
    frame[2] = 77; // the session reuses the frame's memory: the kept batch must not change
    index[1] = 3;
    expect([out.data[0], out.offsets[0]]).toEqual([1, 0]);
  });
});

describe('BatchStore after a gap', () => {
  it('takes a batch after a gap in the sequence as "everything before it is gone" (the host evicted it before posting)', () => {
    const s = new BatchStore(1000);
    s.append(batch(0, 10));
    s.append(batch(50, 10));
    expect([s.firstSeq, s.nextSeq, s.size, s.batchCount, valueAt(s, 5), valueAt(s, 55)]).toEqual([50, 60, 10, 1, undefined, 55]);
  });
});
