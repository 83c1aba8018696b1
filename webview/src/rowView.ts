// The rows the table shows: every stored event, or the filter's matches (found
// incrementally, a time budget per frame), cut at the pause point.
import type { CompiledFilter } from '../../core/panel/filter';
import type { EventTyping } from '../../core/panel/rows';
import type { BatchStore } from '../../core/panel/store';
import type { RowSource } from './table';

/** Rows the table shows: all stored events, or the filter's matches; cut at the pause point. */
export class RowView implements RowSource {
  filter: CompiledFilter | null = null;
  endSeq: number | null = null;
  private matches = new Float64Array(1024);
  private mStart = 0;
  private mEnd = 0;
  private scannedTo = 0;

  constructor(
    public store: BatchStore,
    private typing: EventTyping,
  ) {}

  setFilter(f: CompiledFilter | null, typing: EventTyping): void {
    this.filter = f;
    this.typing = typing;
    this.mStart = this.mEnd = 0;
    this.scannedTo = this.store.firstSeq;
  }

  private end(): number {
    return this.endSeq === null ? this.store.nextSeq : Math.min(this.endSeq, this.store.nextSeq);
  }

  private trim(): void {
    const first = this.store.firstSeq;
    while (this.mStart < this.mEnd && (this.matches[this.mStart] as number) < first) this.mStart++;
  }

  count(): number {
    const end = this.end();
    if (!this.filter) return Math.max(0, end - this.store.firstSeq);
    this.trim();
    if (this.endSeq === null) return this.mEnd - this.mStart;
    let lo = this.mStart;
    let hi = this.mEnd;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.matches[mid] as number) < end) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.mStart;
  }

  seqAt(row: number): number {
    return this.filter ? (this.matches[this.mStart + row] as number) : this.store.firstSeq + row;
  }

  /** Tests new events against the filter for up to budgetMs; true when caught up. */
  scan(budgetMs: number): boolean {
    const f = this.filter;
    if (!f) return true;
    if (this.scannedTo < this.store.firstSeq) this.scannedTo = this.store.firstSeq;
    const deadline = performance.now() + budgetMs;
    let n = 0;
    let done = true;
    const target = this.store.nextSeq;
    this.store.forEachEvent(this.scannedTo, target, (batch, index, seq) => {
      if (!done) return;
      if (f.test(this.typing.getter(batch, index))) this.push(seq);
      this.scannedTo = seq + 1;
      if (++n % 256 === 0 && performance.now() > deadline) done = false;
    });
    return done && this.scannedTo >= target;
  }

  get pending(): number {
    return this.filter ? Math.max(0, this.store.nextSeq - Math.max(this.scannedTo, this.store.firstSeq)) : 0;
  }

  private push(seq: number): void {
    if (this.mEnd === this.matches.length) {
      if (this.mStart > this.matches.length / 2) {
        this.matches.copyWithin(0, this.mStart, this.mEnd);
        this.mEnd -= this.mStart;
        this.mStart = 0;
      } else {
        const grown = new Float64Array(this.matches.length * 2);
        grown.set(this.matches.subarray(this.mStart, this.mEnd));
        this.mEnd -= this.mStart;
        this.mStart = 0;
        this.matches = grown;
      }
    }
    this.matches[this.mEnd++] = seq;
  }
}
