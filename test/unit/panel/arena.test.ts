// The panel store's memory: lent batches are copied into blocks that are used again once
// every batch in them is evicted — a flood allocates nothing per batch, and what the store
// holds is never overwritten.
import { describe, expect, it } from 'vitest';
import { PanelModel } from '../../../core/panel/model';
import { BatchArena } from '../../../core/panel/arena';
import { PANEL_PROTOCOL_VERSION, parseHostMessage, type HostToWebview, type UpdateMessage } from '../../../core/protocol/panel';
import type { RecordBatch } from '../../../core/session/types';
import { loadRecording } from '../../panel/recording';

const rec = loadRecording();

/** A batch of `count` 48-byte records (8-byte ring headers in front), each filled with its own number, in memory that is reused afterwards. */
const lent = new Uint8Array(1 << 20);
function lentBatch(first: number, count: number): RecordBatch {
  const offsets = new Uint32Array(count);
  const lengths = new Uint32Array(count).fill(48);
  const view = new DataView(lent.buffer);
  for (let i = 0; i < count; i++) {
    view.setUint32(i * 56, 48, true);
    offsets[i] = i * 56 + 8;
    view.setUint32(i * 56 + 8, first + i, true);
  }
  return { host: 'local', map: 'rb', count, data: lent.subarray(0, count * 56), offsets, lengths, timeMs: first };
}
const numberAt = (b: { data: Uint8Array; offsets: Uint32Array }, i: number): number => new DataView(b.data.buffer, b.data.byteOffset).getUint32(b.offsets[i]!, true);

function model(maxEvents: number): PanelModel {
  return new PanelModel(rec.run, {}, { maxEvents });
}

describe('BatchArena', () => {
  it('keeps every held event intact while a flood refills the store many times over, in bounded memory', () => {
    const m = model(20_000);
    const arena = (m as unknown as { arena: BatchArena }).arena;
    let seq = 0;
    const capacities = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const count = 500 + (i % 7) * 300; // 500 … 2300 records per batch
      m.pushBatch(lentBatch(seq, count));
      lent.fill(0xee); // the session reuses its memory for the next frame
      seq += count;
      if (i >= 1000) capacities.add(arena.capacity);
    }
    expect(m.store.size).toBe(20_000);
    // Every held event reads back as the number it was given.
    m.store.forEachEvent(0, seq, (b, i, s) => expect(numberAt(b, i)).toBe(s));
    // 2.6 M events went through a store of 20 000: memory stopped growing after warm-up, and
    // stays within the held bytes plus a few blocks.
    expect(capacities.size).toBe(1);
    expect(arena.capacity).toBeLessThan(m.store.bytes + 3 * (4 << 20));
  });

  it('a batch larger than a block gets a block of its own', () => {
    const a = new BatchArena();
    const big = lentBatch(0, 18_000); // ~1 MiB of data; blocks start at 64 KiB
    const stored = a.store(big, 0, 0);
    expect([stored.count, numberAt(stored, 17_999), stored.data.length]).toEqual([18_000, 17_999, 18_000 * 56]);
  });

  it('a batch cut short by --count keeps only its first records', () => {
    const b = lentBatch(100, 10);
    const cut = { ...b, count: 4, offsets: b.offsets.subarray(0, 4), lengths: b.lengths.subarray(0, 4) };
    const stored = new BatchArena().store(cut, 7, 7);
    expect([stored.seq, stored.count, stored.data.length, numberAt(stored, 3)]).toEqual([7, 4, 3 * 56 + 8 + 48, 103]);
  });
});

describe('PanelModel with lent batches', () => {
  it('posts plain arrays of their own, and never a batch evicted (and maybe overwritten) before the post', async () => {
    const posted: HostToWebview[] = [];
    const m = new PanelModel(rec.run, {}, { maxEvents: 1000, now: () => 0 });
    m.attach((msg) => posted.push(parseHostMessage(msg)));
    await m.handleMessage({ type: 'ready', id: 1, protocol: PANEL_PROTOCOL_VERSION });
    // 5 000 events arrive between two posts into a store of 1 000: the first batches are gone.
    for (let i = 0; i < 10; i++) m.pushBatch(lentBatch(i * 500, 500));
    m.flush();
    const update = posted.find((x): x is UpdateMessage => x.type === 'update');
    expect(update?.batches.map((b) => b.seq)).toEqual([4000, 4500]);
    for (const b of update?.batches ?? []) {
      expect([b.data.constructor, b.data.byteOffset, b.data.buffer.byteLength]).toEqual([Uint8Array, 0, b.data.length]);
      for (let i = 0; i < b.count; i++) expect(numberAt(b, i)).toBe(b.seq + i);
    }
  });
});
