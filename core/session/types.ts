// What a helper session delivers: ring records in batches, never one call per event.

/**
 * A batch of ring records as the helper shipped them (many per frame; we never
 * cross into JS per event). `data` holds `count` records; record i's payload is
 * data.subarray(offsets[i], offsets[i] + lengths[i]).
 *
 * A batch is lent, not given: its arrays are valid only while the listener runs (the
 * session assembles the next frame into the same memory, so a flood allocates nothing
 * per batch). A listener that keeps records copies them — `copyBatch`, or into its
 * own storage as the panel's store does.
 */
export interface RecordBatch {
  /** Target name the batch came from (the `host` column when several run). */
  host: string;
  /** Ringbuf map name in the object. */
  map: string;
  count: number;
  data: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  /** Wall-clock time (ms since epoch, target clock) when the helper drained the batch. */
  timeMs: number;
}

/**
 * A copy of a lent batch that is the caller's to keep: plain typed arrays of their own
 * (a Node Buffer does not cross VS Code's postMessage as a typed array), `data` cut to
 * the end of the last of its `count` records.
 */
export function copyBatch<T extends { data: Uint8Array; offsets: Uint32Array; lengths: Uint32Array; count: number }>(b: T): T {
  const last = b.count - 1;
  const end = last >= 0 ? (b.offsets[last] ?? 0) + (b.lengths[last] ?? 0) : 0;
  const data = new Uint8Array(end);
  data.set(b.data.subarray(0, end));
  return { ...b, data, offsets: b.offsets.slice(0, b.count), lengths: b.lengths.slice(0, b.count) };
}
