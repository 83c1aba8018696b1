// A test's window: the batches that arrived between the test's start and the drain (the
// helper's FLUSH) after its trigger exited. Batches are copied (they are lent: the session
// reuses their memory) and bounded in bytes so a flooding program cannot exhaust memory.
import type { WireBatch } from '../protocol/panel';
import { copyBatch, type RecordBatch } from '../session/types';
import type { WindowEvent } from './judge';

/** Bytes of records one window keeps before it gives up (the test is then an error). */
export const WINDOW_MAX_BYTES = 256 << 20;

export class EventWindow {
  private readonly batches: WireBatch[] = [];
  private bytes = 0;
  /** Records that arrived but were not kept because the window was full. */
  overflowed = 0;
  received = 0;

  constructor(private readonly maxBytes = WINDOW_MAX_BYTES) {}

  add(batch: RecordBatch): void {
    this.received += batch.count;
    if (this.overflowed || this.bytes + batch.data.byteLength > this.maxBytes) {
      this.overflowed += batch.count;
      return;
    }
    const kept = copyBatch({ ...batch, seq: this.batches.length });
    this.bytes += kept.data.byteLength;
    this.batches.push(kept);
  }

  /** Every kept event in arrival order. */
  events(): WindowEvent[] {
    const out: WindowEvent[] = [];
    for (const batch of this.batches) for (let index = 0; index < batch.count; index++) out.push({ batch, index });
    return out;
  }
}
