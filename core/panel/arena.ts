// Memory for the host-side panel store: lent record batches (core/session/types.ts) are
// copied into large blocks that are used again once every batch in them is evicted, so a
// flood of events allocates nothing per batch. Fresh memory per batch (page faults,
// zeroing, the garbage collector tracking it) cost Node more than the copy: with a
// store of ~1 M events refilled several times a second, V8 spent about half of Node's
// time collecting garbage. Blocks are filled in order and batches are evicted oldest
// first, so blocks free up oldest first: a queue, reused from its head.
import type { WireBatch } from '../protocol/panel';
import type { RecordBatch } from '../session/types';

/** Largest block; a batch bigger than this gets a block of its own (never reused). */
const MAX_BLOCK = 4 << 20;
const MIN_BLOCK = 64 << 10;

interface Block {
  buf: ArrayBuffer;
  bytes: Uint8Array;
  used: number;
  /** Seq just past the last batch placed in this block (it is free once the store's oldest batch starts there or later). */
  endSeq: number;
}

export class BatchArena {
  private blocks: Block[] = [];
  /** Bytes of every block held (in use or waiting to be reused). */
  capacity = 0;
  /** Size of the next new block: doubles from MIN_BLOCK to MAX_BLOCK (a few events take little memory). */
  private blockSize = MIN_BLOCK;

  /**
   * Copies the first `batch.count` records of a lent batch into the arena and returns it as
   * a stored batch numbered from `seq`. `oldestSeq` is the seq of the oldest batch the store
   * still holds (what is before it may be overwritten).
   */
  store(batch: RecordBatch, seq: number, oldestSeq: number): WireBatch {
    const count = batch.count;
    const last = count - 1;
    const dataLength = last >= 0 ? (batch.offsets[last] ?? 0) + (batch.lengths[last] ?? 0) : 0;
    const indexAt = (dataLength + 3) & ~3;
    const need = ((indexAt + 8 * count + 7) & ~7) || 8;
    const block = this.blockFor(need, oldestSeq);
    const at = block.used;
    block.used += need;
    block.endSeq = seq + count;
    const data = new Uint8Array(block.buf, at, dataLength);
    data.set(batch.data.subarray(0, dataLength));
    const offsets = new Uint32Array(block.buf, at + indexAt, count);
    offsets.set(batch.offsets.subarray(0, count));
    const lengths = new Uint32Array(block.buf, at + indexAt + 4 * count, count);
    lengths.set(batch.lengths.subarray(0, count));
    return { seq, host: batch.host, map: batch.map, count, timeMs: batch.timeMs, data, offsets, lengths };
  }

  /** Gives back the blocks no held batch uses any more (the store's bounds shrank). */
  trim(oldestSeq: number): void {
    const tail = this.blocks[this.blocks.length - 1];
    while (this.blocks[0] !== tail && this.isFree(this.blocks[0], oldestSeq)) this.drop();
  }

  /** Forgets every block (the store was emptied): the memory goes back to the runtime. */
  reset(): void {
    this.blocks = [];
    this.capacity = 0;
    this.blockSize = MIN_BLOCK;
  }

  /** The last block when it has room; else the oldest block once free, else a new one. */
  private blockFor(need: number, oldestSeq: number): Block {
    const tail = this.blocks[this.blocks.length - 1];
    if (tail && tail.bytes.length - tail.used >= need) return tail;
    const head = this.blocks[0];
    if (head && head !== tail && this.isFree(head, oldestSeq) && head.bytes.length >= need && head.bytes.length <= MAX_BLOCK) {
      this.blocks.shift();
      head.used = 0;
      this.blocks.push(head);
      return head;
    }
    if (head && head !== tail && this.isFree(head, oldestSeq)) this.drop();
    const size = Math.max(need, this.blockSize);
    this.blockSize = Math.min(MAX_BLOCK, this.blockSize * 2);
    const buf = new ArrayBuffer(size);

    const block: Block = { buf, bytes: new Uint8Array(buf), used: 0, endSeq: 0 };
    this.blocks.push(block);
    this.capacity += size;
    return block;
  }

  private isFree(block: Block | undefined, oldestSeq: number): boolean {
    return block !== undefined && block.endSeq <= oldestSeq;
  }

  private drop(): void {
    const b = this.blocks.shift();
    if (b) this.capacity -= b.bytes.length;
  }
}
