// For tests that look at an error rather than only its message.

/** What `fn` throws (the test then asserts its class and fields); fails the test when `fn` returns. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
