// The bounded event store shared by both sides of the panel: raw batches as they
// arrived (never one object per event), numbered by a global event sequence. The
// oldest events are dropped first once more than maxEvents are held, or more than
// maxBytes of batches (records are up to 256 KiB each: a count alone does not bound
// memory); a batch that is only partly evicted by count stays until all of its
// events are gone (firstSeq says which of its events still count).
import type { WireBatch } from '../protocol/panel';

export interface EventRef {
  batch: WireBatch;
  /** Record index inside the batch. */
  index: number;
}

export class BatchStore {
  private batches: WireBatch[] = [];
  private head = 0;
  /** Seq of the oldest event still held. */
  firstSeq = 0;
  /** Seq the next event gets. */
  nextSeq = 0;

  /** Bytes of the held batches (data + offsets + lengths). */
  bytes = 0;

  constructor(
    public maxEvents: number,
    public maxBytes = Infinity,
  ) {}

  get size(): number {
    return this.nextSeq - this.firstSeq;
  }

  get batchCount(): number {
    return this.batches.length - this.head;
  }

  /** Seq of the oldest batch held (it may be partly evicted: see firstSeq); nextSeq when none is. */
  get oldestBatchSeq(): number {
    return this.batches[this.head]?.seq ?? this.nextSeq;
  }

  /**
   * Appends a batch that already carries its seq (webview side, snapshot restore). A batch
   * after a gap means the events in the gap were evicted before they were sent (the host's
   * store went past its bounds between two posts): everything before it is gone too.
   */
  append(batch: WireBatch): void {
    if (batch.count === 0) return;
    if (this.batchCount === 0 && this.size === 0) this.firstSeq = Math.max(this.firstSeq, batch.seq);
    if (batch.seq < this.nextSeq) return; // already held (duplicate delivery)
    if (batch.seq > this.nextSeq) {
      this.nextSeq = batch.seq;
      this.clear();
    }
    this.batches.push(batch);
    this.bytes += batchBytes(batch);
    this.nextSeq = batch.seq + batch.count;
    this.evict();
  }

  private evict(): void {
    const min = this.nextSeq - this.maxEvents;
    if (this.firstSeq < min) this.firstSeq = min;
    while (this.head < this.batches.length) {
      const b = this.batches[this.head] as WireBatch;
      // Over the byte bound, whole batches go (never the newest one).
      const overBytes = this.bytes > this.maxBytes && this.head < this.batches.length - 1;
      if (b.seq + b.count > this.firstSeq && !overBytes) break;
      if (overBytes) this.firstSeq = Math.max(this.firstSeq, b.seq + b.count);
      this.bytes -= batchBytes(b);
      this.batches[this.head] = undefined as unknown as WireBatch;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches = this.batches.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.batches.length) {
      const oldest = this.batches[this.head] as WireBatch;
      if (oldest.seq > this.firstSeq) this.firstSeq = oldest.seq;
    }
  }

  /**
   * Replaces the content with a snapshot's batches (oldest first; the oldest may be
   * partly evicted: events before `firstSeq` do not count).
   */
  restore(batches: readonly WireBatch[], firstSeq: number): void {
    this.batches = [];
    this.head = 0;
    this.bytes = 0;
    const start = batches[0]?.seq ?? firstSeq;
    this.firstSeq = start;
    this.nextSeq = start;
    for (const b of batches) this.append(b);
    this.firstSeq = Math.max(this.firstSeq, firstSeq);
    if (this.nextSeq < firstSeq) this.nextSeq = firstSeq;
  }

  /** Forgets every event (seq numbering continues). */
  clear(): void {
    this.batches = [];
    this.head = 0;
    this.bytes = 0;
    this.firstSeq = this.nextSeq;
  }

  /** Changes the bounds (e.g. the settings changed); evicts at once when smaller. */
  setLimits(maxEvents: number, maxBytes = this.maxBytes): void {
    this.maxEvents = Math.max(1, maxEvents);
    this.maxBytes = Math.max(1, maxBytes);
    this.evict();
  }

  /** The batch and record holding event `seq`, or undefined when not held. */
  locate(seq: number): EventRef | undefined {
    if (seq < this.firstSeq || seq >= this.nextSeq) return undefined;
    let lo = this.head;
    let hi = this.batches.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const b = this.batches[mid] as WireBatch;
      if (seq < b.seq) hi = mid - 1;
      else if (seq >= b.seq + b.count) lo = mid + 1;
      else return { batch: b, index: seq - b.seq };
    }
    return undefined;
  }

  /** Held batches, oldest first. */
  *eachBatch(): IterableIterator<WireBatch> {
    for (let i = this.head; i < this.batches.length; i++) yield this.batches[i] as WireBatch;
  }

  /** Calls fn for every held event with seq in [from, to), oldest first. */
  forEachEvent(from: number, to: number, fn: (batch: WireBatch, index: number, seq: number) => void): void {
    const start = Math.max(from, this.firstSeq);
    const end = Math.min(to, this.nextSeq);
    if (start >= end) return;
    for (let i = this.head; i < this.batches.length; i++) {
      const b = this.batches[i] as WireBatch;
      if (b.seq + b.count <= start) continue;
      if (b.seq >= end) break;
      const lo = Math.max(start, b.seq) - b.seq;
      const hi = Math.min(end, b.seq + b.count) - b.seq;
      for (let r = lo; r < hi; r++) fn(b, r, b.seq + r);
    }
  }

  /** Batches for a snapshot: every held batch, oldest first. */
  snapshotBatches(): WireBatch[] {
    return this.batches.slice(this.head);
  }
}

function batchBytes(b: WireBatch): number {
  return b.data.byteLength + b.offsets.byteLength + b.lengths.byteLength;
}
