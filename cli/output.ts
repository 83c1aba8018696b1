// stdout as every command writes it: text and bytes in order, batched by the caller, with
// back-pressure (a slow reader makes `congested` true until 'drain') and write errors that
// are never ignored. A reader that closed the pipe (EPIPE: `run … | head -3`) is a normal
// end; any other error (ENOSPC on `> /dev/full`, EIO, …) is a failure the CLI reports in
// one line and exits 1 for.
import fs from 'node:fs';
import { writeFileAtomic } from '../core/util/cache';
import { StudioError } from '../core/util/errors';

/** What Output needs of a stream (process.stdout, a file stream, a socket). */
export interface OutputStream {
  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean;
  readonly writableLength: number;
  on(event: 'error', fn: (err: Error) => void): unknown;
  on(event: 'drain', fn: () => void): unknown;
  off(event: 'error', fn: (err: Error) => void): unknown;
  off(event: 'drain', fn: () => void): unknown;
}

/** Bytes queued for a slow reader before `congested` says stop producing. */
export const OUTPUT_HIGH_WATER = 4 << 20;

/** "no space left on device (ENOSPC)" from a Node system error; the message otherwise. */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = /^[A-Z0-9_]+: (.*?)(?:, \w+(?: '[^']*')?)?$/.exec(e?.message ?? '')?.[1];
  if (e?.code && text) return `${text} (${e.code})`;
  return e?.code ?? (err instanceof Error ? err.message : String(err));
}

export class Output {
  private readonly goneController = new AbortController();
  private failureError: StudioError | undefined;
  private failureTaken = false;
  private pending = 0;
  private flushWaiters: Array<() => void> = [];
  private readonly onError = (err: Error): void => this.failed(err);
  private readonly onWritten = (err?: Error | null): void => {
    this.pending--;
    if (err) this.failed(err);
    if (this.pending === 0) this.wakeFlushers();
  };

  constructor(
    private readonly stream: OutputStream,
    /** How the stream is called in messages: "stdout". */
    private readonly name = 'stdout',
    private readonly highWater = OUTPUT_HIGH_WATER,
  ) {
    stream.on('error', this.onError);
  }

  /** Aborted once nothing more can be written: the reader went away, or a write failed. */
  get gone(): AbortSignal {
    return this.goneController.signal;
  }

  /** The write error that is not a closed reader, once there was one. */
  get failure(): StudioError | undefined {
    return this.failureError;
  }

  /** The failure, once: whoever reports it takes it, so it is printed exactly once. */
  takeFailure(): StudioError | undefined {
    if (this.failureTaken) return undefined;
    this.failureTaken = true;
    return this.failureError;
  }

  /** More than the bound waits for the reader: stop producing until onDrain. */
  get congested(): boolean {
    return this.stream.writableLength > this.highWater;
  }

  /** Calls fn each time the stream's queue has emptied; returns its remover. */
  onDrain(fn: () => void): () => void {
    this.stream.on('drain', fn);
    return () => this.stream.off('drain', fn);
  }

  /**
   * Queues a chunk. `written` runs once the stream is done with it (the caller may then
   * reuse the bytes); never when the output is gone.
   */
  write(chunk: string | Uint8Array, written?: () => void): void {
    if (this.goneController.signal.aborted || chunk.length === 0) return;
    this.pending++;
    const done = written
      ? (err?: Error | null): void => {
          this.onWritten(err);
          if (!err) written();
        }
      : this.onWritten;
    this.stream.write(chunk, done);
  }

  /** Resolves when everything written so far has left (or the output is gone). */
  flush(): Promise<void> {
    if (this.pending === 0 || this.goneController.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  dispose(): void {
    this.stream.off('error', this.onError);
  }

  private failed(err: Error): void {
    if (this.goneController.signal.aborted) return;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPIPE') {
      this.failureError = new StudioError(`cannot write to ${this.name}: ${describeSystemError(err)}`, {
        code: 'EOUTPUT',
        ...(code ? { detail: err.message } : {}),
        cause: err,
      });
    }
    this.goneController.abort();
    this.wakeFlushers();
  }

  private wakeFlushers(): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * `-o FILE` / `--output FILE` for any command. A regular file is replaced atomically (temp
 * + rename), so a failed write leaves the old one; anything else that exists — a device,
 * a FIFO, /dev/stdout — is written to directly (renaming over /dev/full as root would
 * replace the device). Errors name the file and the errno.
 */
export async function writeOutputFile(file: string, shown: string, text: string | Uint8Array): Promise<void> {
  const existing = await fs.promises.stat(file).catch(() => undefined);
  try {
    if (existing && !existing.isFile()) await fs.promises.writeFile(file, text);
    else await writeFileAtomic(file, text, { createDir: false });
  } catch (err) {
    throw new StudioError(`cannot write ${shown}: ${describeSystemError(err)}`, { hint: 'check that the directory exists, is writable and has space', cause: err });
  }
}
