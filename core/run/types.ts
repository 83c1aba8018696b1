// The shapes of a run: what it takes (RunOptions), what it hands out while it streams
// (RunHandle, RunListeners) and how it ends (RunEnd with its books). The steps that make a run
// live next to this file: connect.ts → prepare.ts (build, lint, checks) → load.ts → stream.ts.
import type { EventLayout } from '../btf/layoutTypes';
import type { Diagnostic } from '../diagnostics';
import type { BpfObjectInfo } from '../elf/bpfObject';
import type { Flushed, Hello, Loaded, LogLevel, Stats } from '../protocol/helper';
import type { HelperSession, SessionClosed } from '../session/helperSession';
import type { RecordBatch } from '../session/types';
import type { ConnectTargetOptions } from '../transport/registry';
import type { TargetConnection } from '../transport/types';
import type { SourceContext } from '../verifier/diagnostics';

export type RunState = 'connecting' | 'building' | 'linting' | 'loading' | 'running' | 'paused' | 'stopping' | 'stopped' | 'failed';

export type RunStage = 'connect' | 'build' | 'lint' | 'kernel' | 'override' | 'load' | 'attach';

export interface RunListeners {
  /** A batch of records from one ring on one target (never one call per event). */
  batch(batch: RecordBatch): void;
  stats(target: string, stats: Stats): void;
  log(target: string, level: LogLevel | 'error', text: string): void;
  state(state: RunState, detail?: string): void;
  /** Warnings that do not stop the run: lint warnings, programs that could not attach while others did. */
  diagnostics(diagnostics: Diagnostic[]): void;
}

export interface RunOptions {
  /** A `.bpf.c` (built here) or a compiled `.o`. */
  file: string;
  /** Target specs ("local", ssh alias, user@host[:port]) or open connections. Default ["local"]. */
  targets?: ReadonlyArray<string | TargetConnection>;
  /** max_entries overrides by map name, validated before load with the target's page size. */
  maxEntries?: Record<string, number>;
  /** Programs to attach (default: all); 'none' loads without attaching anything (e.g. to verify). */
  attach?: string[] | 'none';
  /** Stop after this many events (all targets together). */
  count?: number;
  /** Stop after this long. */
  durationMs?: number;
  signal?: AbortSignal;
  /** Lint errors stop the run before deploy (default true). */
  lint?: boolean;
  clangPath?: string;
  /** Local helper binary (ringbufStudio.helperPath / --helper). */
  helperPath?: string;
  connect?: ConnectTargetOptions;
  /** Directory with the vmlinux.h to build against; default: the local one for local targets, fetched through the helper otherwise. */
  vmlinuxHeaderDir?: (target: TargetConnection, hello: Hello) => Promise<string | undefined>;
  /** Verifier log level on failure (1 default, 2 verbose). */
  logLevel?: number;
  /** Every program's verifier log and statistics, also when it loads (0 = statistics only, 1, 2 = verbose): Loaded.programs[i].verifier. */
  verifierLevel?: 0 | 1 | 2;
  /**
   * Load to verify (`attach` is then ignored): nothing attaches, each program is verified on its
   * own — a rejection is reported in Loaded.programs[i].rejected instead of failing the load —
   * and only the named programs load ('all': every one). Verifier data at `verifierLevel` (default 0).
   */
  verify?: 'all' | readonly string[];
  /** How long a stop may spend draining the rings on each target (default 3000 ms, at most 60000). */
  drainTimeoutMs?: number;
  /** Registered before anything starts, so no batch or state change is missed. */
  listeners?: Partial<RunListeners>;
  /** Build output (default: the per-user cache). */
  outFile?: string;
}

export type RunEndReason = 'count' | 'duration' | 'aborted' | 'stopped' | 'helper-exited' | 'connection-lost';

/**
 * The books of a run (or of one target): every record the program committed is in exactly one
 * of delivered, notDeliveredAfterCount, droppedByProgram (never committed: the program's own
 * drop counters) or leftInRing.
 */
export interface RunAccount {
  /** Records handed to the batch listeners. */
  delivered: number;
  /** Records that arrived after --count was reached: shipped by the helper, not handed on. */
  notDeliveredAfterCount: number;
  /** The program's own drop counters (globals or array maps named *drop*, *lost*, *miss*, *fail*), summed; final STATS, else the last seen. */
  droppedByProgram: number;
  /** Records still in the rings when the stop's time bound ended the drain (normally 0); null when the helper could not say (it died, or the link broke). */
  leftInRing: number | null;
  leftInRingBytes: number | null;
}

export interface RingAccount {
  name: string;
  /** Records the helper says it delivered from this ring (cumulative). */
  shipped: number;
  leftInRing: number | null;
  leftInRingBytes: number | null;
}

export interface TargetAccount extends RunAccount {
  target: string;
  /** True when the helper's final STATS arrived: the numbers are exact. */
  final: boolean;
  rings: RingAccount[];
}

export interface RunEnd extends RunAccount {
  reason: RunEndReason;
  /** Events delivered to listeners (same as `delivered`). */
  events: number;
  /** One line for a person: why it ended and the books, e.g. "20000 events delivered (stopped), 0 left in the ring, 0 dropped by the program". */
  message: string;
  closed: Array<{ target: string; closed: SessionClosed }>;
  /** The books per target. */
  targets: TargetAccount[];
}

/** The answer of RunHandle.flush(): every target's FLUSHED. */
export interface RunFlush {
  /** Every record committed on every target before the flush was delivered. */
  complete: boolean;
  targets: Array<{ target: string; flushed: Flushed }>;
}

export interface RunTarget {
  name: string;
  connection: TargetConnection;
  hello: Hello;
  loaded: Loaded;
  session: HelperSession;
}

/** What was loaded where: the program, its event layouts and the targets it runs on. */
export interface RunProgram {
  /** What was run (.bpf.c or .o) and the source used for diagnostics. */
  readonly file: string;
  readonly source: SourceContext;
  readonly objectPath: string | undefined;
  readonly object: BpfObjectInfo;
  readonly objectBytes: Uint8Array;
  /** Ringbuf map → event layout; null = undecodable (show hex). */
  readonly layouts: Map<string, EventLayout | null>;
  readonly targets: RunTarget[];
  /** Warnings raised while starting (lint warnings, partial attach failures). */
  readonly diagnostics: Diagnostic[];
}

/** A loaded (not yet streaming) run: see loadRun. */
export interface LoadedRun extends RunProgram {
  /** Detaches and closes everything (no streaming happened). */
  close(): Promise<void>;
}

export interface RunHandle extends RunProgram {
  /** Loaded per target name. */
  readonly loaded: Map<string, Loaded>;
  readonly events: number;
  readonly state: RunState;
  onBatch(fn: RunListeners['batch']): () => void;
  onStats(fn: RunListeners['stats']): () => void;
  onLog(fn: RunListeners['log']): () => void;
  onState(fn: RunListeners['state']): () => void;
  pause(): void;
  resume(): void;
  /**
   * Resolves once every record committed on every target before this call has reached the
   * batch listeners (live tests: "drain after the trigger exits"). Bounded per target by
   * `timeoutMs` (default: the drain timeout); `complete` says whether everything made it.
   */
  flush(timeoutMs?: number): Promise<RunFlush>;
  /** Detaches everything, drains every ring, and resolves with the books when every helper is gone. */
  stop(): Promise<RunEnd>;
  /** Resolves when the run ends for any reason (never rejects). */
  readonly done: Promise<RunEnd>;
}

/** An event channel (the run's Emitter): listeners added, events emitted to each. */
export interface Channel<T extends (...args: never[]) => void> {
  add(fn: T | undefined): () => void;
  emit(...args: Parameters<T>): void;
}

export interface RunChannels {
  batch: Channel<RunListeners['batch']>;
  stats: Channel<RunListeners['stats']>;
  log: Channel<RunListeners['log']>;
  state: Channel<RunListeners['state']>;
  diagnostics: Channel<RunListeners['diagnostics']>;
}

/** What every step of a run shares. */
export interface RunContext {
  readonly opts: RunOptions;
  /** The program file, absolute. */
  readonly file: string;
  /** Target names, in the order given. */
  readonly names: string[];
  readonly listeners: RunChannels;
  setState(s: RunState, detail?: string): void;
  getState(): RunState;
  /** Connections this run opened (closed when it ends) and helper sessions it started. */
  readonly owned: TargetConnection[];
  readonly sessions: HelperSession[];
  /** Aborts starting helpers while the run starts (opts.signal); released once it streams, when a stop drains instead. */
  readonly startup: AbortSignal;
  releaseStartup(): void;
}
