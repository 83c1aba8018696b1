// The seam between "where the helper runs" (local spawn, SSH exec) and "how we
// talk to it" (HelperSession, protocol in core/protocol/helper.ts). Local and
// SSH targets implement TargetConnection; everything above is shared.

export interface HelperExit {
  code: number | null;
  signal: string | null;
  /**
   * Set when the link to the target broke (SSH connection lost: keepalive timeout,
   * sshd killed, network down) so the exit status is unknown; the remote helper
   * sees EOF on stdin and detaches by itself. A person-readable reason.
   */
  connectionLost?: string;
}

/** A running `ringbuf-helper …` process on some target, with its stdio. */
export interface HelperProcess {
  /** Helper → core bytes (protocol frames for `serve`, plain output for other subcommands). */
  readonly stdout: NodeJS.ReadableStream;
  /** Core → helper bytes. Ending it (EOF) is the helper's signal to detach everything and exit. */
  readonly stdin: NodeJS.WritableStream;
  readonly stderr: NodeJS.ReadableStream;
  readonly exited: Promise<HelperExit>;
  /** Ends stdin, waits up to graceMs for a clean exit, then kills. Never throws. */
  terminate(graceMs?: number): Promise<void>;
}

export interface SpawnHelperOptions {
  signal?: AbortSignal;
}

/** Facts about a target known right after connecting (see TargetConnection.info). */
export interface TargetInfo {
  /** Helper arch name: x86_64 or aarch64. */
  readonly arch: string;
  /** `uname -r`. */
  readonly kernel: string;
  readonly btfSha256?: string | undefined;
}

export interface TargetConnection {
  /** "local", an ssh alias, or "user@host:port" — what the user typed or picked. */
  readonly name: string;
  readonly kind: 'local' | 'ssh';
  /**
   * What the connect probe learned before any helper runs (SSH targets; optional). Lets a
   * run build in parallel with the helper's start, and `btfSha256` (of the target's
   * /sys/kernel/btf/vmlinux) keys the local vmlinux.h cache so a warm run fetches nothing.
   */
  readonly info?: TargetInfo | undefined;
  /** Starts the helper with root privileges (directly, or through sudo) with the given argv. */
  spawnHelper(args: readonly string[], options?: SpawnHelperOptions): Promise<HelperProcess>;
  close(): Promise<void>;
}

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
