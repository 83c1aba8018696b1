// What a helper session delivers: ring records in batches, never one call per event.

/**
 * A batch of ring records as the helper shipped them (many per frame; we never
 * cross into JS per event). `data` holds `count` records; record i's payload is
 * data.subarray(offsets[i], offsets[i] + lengths[i]).
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
