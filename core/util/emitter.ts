// Listeners on the event path (batches, stats, logs, state). A listener that throws
// does not stop the others, and its error never vanishes: it goes to the owner's
// `onListenerError` (a session ends itself with it), else it is rethrown to the caller
// of emit() once every listener has run.

export class Emitter<T extends (...args: never[]) => void> {
  private readonly fns = new Set<T>();

  /** `onListenerError` decides what a listener's exception means; without it, emit() rethrows the first one. */
  constructor(private readonly onListenerError?: (err: unknown) => void) {}

  /** Adds a listener (none when undefined); returns its remover. */
  add(fn: T | undefined): () => void {
    if (!fn) return () => undefined;
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }

  emit(...args: Parameters<T>): void {
    let failure: { err: unknown } | undefined;
    for (const fn of this.fns) {
      try {
        fn(...args);
      } catch (err) {
        if (this.onListenerError) this.onListenerError(err);
        else failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }
}
