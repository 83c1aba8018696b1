// Bytes as lower-case hex, two digits a byte: raw records in the panel, its exports and
// the CLI, nonces. One lookup table, no per-byte toString (records can be large).

const PAIRS: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The two hex digits of a byte (0–255). */
export function hexByte(b: number): string {
  return PAIRS[b & 0xff]!;
}

/** `length` bytes of `data` from `start` as hex; past `max` bytes the rest is cut and "…" says so. */
export function hexOf(data: Uint8Array, start = 0, length = data.length - start, max = Infinity): string {
  const end = start + Math.min(length, max);
  let s = '';
  for (let i = start; i < end; i++) s += PAIRS[data[i] ?? 0];
  return length > max ? `${s}…` : s;
}
