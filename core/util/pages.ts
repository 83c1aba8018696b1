// Pages and powers of two: a ring's size is a power of two and a multiple of the
// target's page size; bcc counts rings in pages.

/** The page size until a target says otherwise (x86_64; arm64 kernels may use 16384 or 65536). */
export const DEFAULT_PAGE_SIZE = 4096;

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && Number.isInteger(Math.log2(n));
}

/** Smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
