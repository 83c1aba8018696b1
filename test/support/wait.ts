// Polling for a condition the test cannot be told about (the kernel, a child's output).

/**
 * Polls `cond` every `intervalMs` until it holds or `ms` pass; returns its last value.
 * `tick` runs between polls (e.g. exec /bin/true to make an execve event).
 */
export async function waitFor(cond: () => boolean, ms: number, tick?: () => void, intervalMs = 50): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    tick?.();
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return cond();
}
