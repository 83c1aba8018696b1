// What the panel tests and the bench read through `window.ringbufPanel` (no behaviour depends on it).
export interface PanelDebug {
  lastRenderedSeq: number;
  renders: number;
  /** Time spent in the panel's frame work (ms, summed) and in handling messages. */
  frameMs: number;
  messageMs: number;
  messages: number;
  rejected: number;
  storedEvents: () => number;
  storedBytes: () => number;
  onRendered: ((newestSeq: number) => void) | undefined;
}
