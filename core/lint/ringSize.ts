// What the kernel accepts as a ringbuf size and what libbpf silently turns an
// invalid one into (libbpf >= 0.8 adjusts BPF_MAP_TYPE_RINGBUF max_entries).
import { isPowerOfTwo } from '../util/pages';

/** max_entries is a u32; the largest power of two it can hold. */
export const MAX_RING_SIZE = 2 ** 31;
/** Each record carries an 8-byte header and is padded to 8 bytes. */
export const RECORD_HEADER_SIZE = 8;

/** The kernel's rule: a power of two and a multiple of the page size (page sizes are powers of two). */
export function isValidRingSize(size: number, pageSize: number): boolean {
  return size >= pageSize && size <= MAX_RING_SIZE && isPowerOfTwo(size) && size % pageSize === 0;
}

/**
 * The size libbpf uses for an invalid non-zero size: the smallest page_size * 2^k
 * greater than the requested size. Undefined when none fits in a u32 (the kernel rejects it).
 */
export function effectiveRingSize(size: number, pageSize: number): number | undefined {
  if (size <= 0) return undefined;
  if (isValidRingSize(size, pageSize)) return size;
  for (let candidate = pageSize; candidate <= MAX_RING_SIZE; candidate *= 2) {
    if (candidate > size) return candidate;
  }
  return undefined;
}

/** Bytes one record of `payload` bytes takes in the ring. */
export function recordFootprint(payload: number): number {
  return Math.ceil((payload + RECORD_HEADER_SIZE) / 8) * 8;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
