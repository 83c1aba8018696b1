// One `ringbuf-helper serve` conversation over any HelperProcess (local child,
// SSH channel): HELLO → LOAD → START/PAUSE/RESUME → STOP → BYE. Records arrive as
// batches (many per frame) — never one callback per event. A closed session is a
// normal outcome with a reason, not an exception.
import type { Diagnostic } from '../diagnostics';
import {
  DRAIN_TIMEOUT_DEFAULT_MS,
  encodeCommand,
  encodeFlush,
  encodeLoad,
  FINAL_WRITE_MS,
  FrameDecoder,
  RecordIndex,
  splitRecords,
  type Bye,
  type Command,
  type Flushed,
  type Hello,
  type HelperErrorInfo,
  type HelperMessage,
  type Loaded,
  type LoadedProgram,
  type LoadOptions,
  type LogLevel,
  type Stats,
} from '../protocol/helper';
import { attachDiagnostic, loadErrorDiagnostic, type SourceContext } from '../verifier/diagnostics';
import { Emitter } from '../util/emitter';
import { StudioError, messageOf, wrapError } from '../util/errors';
import type { HelperExit, HelperProcess } from '../transport/types';
import type { RecordBatch } from './types';
import { parseVerifierSummary } from '../verifier/log';

export type CloseReason =
  /** We asked it to stop (STOP, or stdin EOF from terminate) and it did. */
  | 'stopped'
  /** The helper exited on its own (fatal error, signal, crash). */
  | 'helper-exited'
  /** The link to the target broke (SSH); the remote helper detaches by itself. */
  | 'connection-lost';

export interface SessionClosed {
  reason: CloseReason;
  /** One line for a person, e.g. "helper exited with code 1: …". */
  message: string;
  exit?: HelperExit;
  bye?: Bye;
  /** The fatal ERROR that ended it, if any. */
  error?: HelperErrorInfo;
  /** The helper's stderr tail (last resort text). */
  stderr?: string;
}

/** The helper refused the object: verifier, map, object, override or attach errors, as Diagnostics. */
export class LoadError extends StudioError {
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[],
    readonly helperError: HelperErrorInfo | undefined,
    opts: { hint?: string; detail?: string; code?: string } = {},
  ) {
    super(message, { code: opts.code ?? `ELOAD_${(helperError?.code ?? 'attach').toUpperCase()}`, ...(opts.hint ? { hint: opts.hint } : {}), ...(opts.detail ? { detail: opts.detail } : {}) });
    this.name = 'LoadError';
  }
}

/** What one session knows about its records, for the run's books (RunEnd). */
export interface SessionAccount {
  /** Records received per ring index (discarded entries excluded). */
  received: number[];
  /** The last STATS (undefined before the first). */
  lastStats: Stats | undefined;
  /** The final STATS, sent at stop after the drain: its numbers are exact. Undefined when the helper could not send it. */
  finalStats: Stats | undefined;
}

/** Slack on top of the helper's own bounds before we stop waiting for it. */
const WAIT_SLACK_MS = 2000;
/** After the helper exited, how long its output may stay silent before we call the stream over. */
const OUTPUT_IDLE_MS = 1000;

export interface HelperSessionOptions {
  /** Target name: the `host` of every batch. */
  target: string;
  /** How long to wait for HELLO. Default 10 s. */
  helloTimeoutMs?: number;
}

export interface SessionLoadOptions extends LoadOptions {
  /** The program's source, to place diagnostics. */
  source?: SourceContext;
  /** Program sections from the object (to find SEC lines for errors without line info). */
  programs?: ReadonlyArray<{ name: string; section: string }>;
}

const STDERR_KEEP = 16 * 1024;

export class HelperSession {
  hello!: Hello;
  loaded: Loaded | undefined;
  // Frames are assembled and split into reused memory: batches are lent to the listeners (RecordBatch).
  private readonly decoder = new FrameDecoder({ reuseBuffers: true });
  private readonly index = new RecordIndex();
  // A listener that throws on the event path ends the session with its error (never swallowed).
  private readonly batch = new Emitter<(batch: RecordBatch) => void>((err) => this.listenerFailed(err));
  private readonly statsL = new Emitter<(stats: Stats) => void>((err) => this.listenerFailed(err));
  private readonly logL = new Emitter<(level: LogLevel | 'error', text: string) => void>((err) => this.listenerFailed(err));
  private readonly closedL = new Emitter<(closed: SessionClosed) => void>();
  private stderrText = '';
  private logPending = '';
  private bye: Bye | undefined;
  private fatal: HelperErrorInfo | undefined;
  private protocolFailure: unknown;
  private stopRequested = false;
  private closedInfo: SessionClosed | undefined;
  /** Resolves once the helper is gone (never rejects). */
  readonly closed: Promise<SessionClosed>;
  private resolveClosed!: (c: SessionClosed) => void;
  private waiters: Array<(m: HelperMessage | undefined) => boolean> = [];
  private ringNames: string[] = [];
  private received: number[] = [];
  private lastStats: Stats | undefined;
  private finalStats: Stats | undefined;
  /** VERIFIER_LOG chunks by program index, until LOADED takes them. */
  private verifierLogs = new Map<number, string[]>();
  private drainTimeoutMs = DRAIN_TIMEOUT_DEFAULT_MS;
  private nextFlushId = 1;
  private lastDataAt = Date.now();

  private constructor(
    readonly process: HelperProcess,
    readonly target: string,
  ) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
    process.stderr.on('data', (d: Buffer | string) => {
      this.stderrText = (this.stderrText + d.toString()).slice(-STDERR_KEEP);
    });
    const stdoutDone = new Promise<void>((resolve) => {
      process.stdout.on('end', resolve);
      process.stdout.on('close', resolve);
      process.stdout.on('error', () => resolve());
    });
    process.stdout.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    void process.exited.then(async (exit) => {
      // Every frame written before the exit (the drain's EVENTS, the final STATS, BYE) reaches
      // the listeners before the session calls itself closed: wait for the end of the output,
      // or for it to fall silent (a transport that never signals the end).
      await Promise.race([stdoutDone, this.outputIdle()]);
      this.finish(exit);
    });
  }

  private async outputIdle(): Promise<void> {
    for (;;) {
      const quiet = Date.now() - this.lastDataAt;
      if (quiet >= OUTPUT_IDLE_MS) return;
      await new Promise((r) => setTimeout(r, OUTPUT_IDLE_MS - quiet).unref());
    }
  }

  /** Starts a session over a spawned `ringbuf-helper serve` and waits for its HELLO. */
  static async open(process: HelperProcess, opts: HelperSessionOptions): Promise<HelperSession> {
    const s = new HelperSession(process, opts.target);
    const timeoutMs = opts.helloTimeoutMs ?? 10_000;
    const m = await s.waitFor((x) => x.kind === 'hello' || x.kind === 'error', timeoutMs);
    if (m?.kind === 'hello') {
      s.hello = m.hello;
      return s;
    }
    // Taken before terminate(): the exit that terminate() causes is not the helper's own.
    const exitedBefore = s.closedInfo;
    await process.terminate(500);
    const stderr = s.stderrText.trim();
    const why =
      m?.kind === 'error'
        ? m.error.message
        : s.protocolFailure
          ? messageOf(s.protocolFailure)
          : exitedBefore
            ? `the helper exited before saying hello (${describeExit(exitedBefore.exit)})`
            : `no hello from the helper within ${timeoutMs} ms`;
    throw new StudioError(`${opts.target}: helper did not start: ${why}${stderr ? `; it said: ${stderr.split('\n').slice(-5).join(' | ')}` : ''}`, {
      code: 'EHELPERSTART',
      hint: 'check that the helper is a ringbuf-helper of this version (npm run build:helper) and that root/sudo works',
      ...(stderr ? { detail: stderr } : {}),
    });
  }

  onBatch(fn: (batch: RecordBatch) => void): () => void {
    return this.batch.add(fn);
  }
  onStats(fn: (stats: Stats) => void): () => void {
    return this.statsL.add(fn);
  }
  /** libbpf's text (warn/info/debug) and non-fatal helper errors ('error'). */
  onLog(fn: (level: LogLevel | 'error', text: string) => void): () => void {
    return this.logL.add(fn);
  }
  /** Called once when the helper is gone (also immediately if it already is). */
  onClosed(fn: (closed: SessionClosed) => void): () => void {
    if (this.closedInfo) {
      fn(this.closedInfo);
      return () => undefined;
    }
    return this.closedL.add(fn);
  }

  get isClosed(): boolean {
    return this.closedInfo !== undefined;
  }

  /** The helper's stderr so far (last 16 KiB). */
  get stderr(): string {
    return this.stderrText;
  }

  /** Records received per ring, and the STATS that count the rest (see SessionAccount). */
  get account(): SessionAccount {
    return { received: Array.from(this.received, (n) => n ?? 0), lastStats: this.lastStats, finalStats: this.finalStats };
  }

  /**
   * Sends LOAD and waits for LOADED. Rejects with LoadError (diagnostics included) when
   * the helper refuses the object, or when no selected program could attach.
   */
  async load(opts: SessionLoadOptions): Promise<Loaded> {
    if (this.loaded) throw new StudioError('internal: one LOAD per helper session');
    this.drainTimeoutMs = opts.drainTimeoutMs || DRAIN_TIMEOUT_DEFAULT_MS;
    this.send(encodeLoad(opts));
    const m = await this.waitFor((x) => x.kind === 'loaded' || (x.kind === 'error' && x.error.code !== 'state'), 120_000);
    const src: SourceContext = opts.source ?? { file: 'program.bpf.o' };
    if (m?.kind === 'loaded') {
      this.attachVerifierLogs(m.loaded);
      this.loaded = m.loaded;
      this.ringNames = [];
      for (const r of m.loaded.rings) this.ringNames[r.index] = r.name;
      this.received = Array.from({ length: Math.max(0, ...m.loaded.rings.map((r) => r.index + 1)) }, () => 0);
      const attempted = m.loaded.programs.filter((p) => p.attached || p.error);
      const failed = attempted.filter((p): p is LoadedProgram & { error: NonNullable<LoadedProgram['error']> } => !p.attached && p.error !== undefined);
      // (Verifying attaches nothing: a tracing program this kernel refused is a verdict, not a failure.)
      if (!opts.verify && attempted.length > 0 && failed.length === attempted.length) {
        const diags = failed.map((p) => attachDiagnostic(p, src, 'error'));
        throw new LoadError(
          failed.length === 1 ? `cannot attach program '${failed[0]?.name}': ${failed[0]?.error.reason}` : `none of the ${failed.length} programs could attach`,
          diags,
          undefined,
          { code: 'EATTACH', hint: 'use an attach type this kernel supports (ringbuf-studio probe lists them)', detail: diags.map((d) => d.message).join('\n') },
        );
      }
      return m.loaded;
    }
    if (m?.kind === 'error') {
      const d = loadErrorDiagnostic(m.error, src, opts.programs);
      const verifier = m.error.code === 'verifier';
      const message = verifier ? `the verifier rejected ${m.error.program ? `program '${m.error.program}'` : 'the program'}: ${d.message}` : d.message;
      const hint = verifier
        ? 'the error is reported at the source line of the failing instruction; common causes: a reserved record used without a NULL check, or not submitted/discarded on every path'
        : m.error.hint;
      throw new LoadError(message, [d], m.error, {
        ...(hint ? { hint } : {}),
        ...(m.error.log ? { detail: m.error.log } : {}),
      });
    }
    throw this.goneError('load');
  }

  /** Puts the VERIFIER_LOG text that came before LOADED into its programs, with the summary. */
  private attachVerifierLogs(loaded: Loaded): void {
    loaded.programs.forEach((p, i) => {
      if (!p.verifier) return;
      const log = (this.verifierLogs.get(i) ?? []).join('');
      Object.assign(p.verifier, { log }, parseVerifierSummary(log));
    });
    this.verifierLogs.clear();
  }

  start(): void {
    this.send(encodeCommand('start'));
  }
  pause(): void {
    this.send(encodeCommand('pause'));
  }
  resume(): void {
    this.send(encodeCommand('resume'));
  }

  /**
   * Flow control for a consumer that cannot keep up (a CLI whose stdout is slow): stop
   * reading the helper's stdout. The helper then blocks on its writes, its rings fill, and
   * the program's own drop counters count what it could not reserve: memory here stays
   * bounded. STOP and detach read again by themselves, so the final frames arrive.
   */
  pauseReading(): void {
    this.process.stdout.pause();
  }
  resumeReading(): void {
    this.process.stdout.resume();
  }

  /**
   * FLUSH: resolves once every record committed before this call reached the listeners (the
   * helper answers after the last EVENTS frame of its drain). `complete` is false when its
   * time bound (default: the LOAD's drain timeout) ended the drain first; `leftRecords` then
   * says how many were still in each ring. Rejects when the helper is gone or does not answer.
   */
  async flush(timeoutMs = 0): Promise<Flushed> {
    const id = this.nextFlushId++;
    this.resumeReading(); // the caller asked for everything: a paused reader would never see FLUSHED
    this.send(encodeFlush({ id, timeoutMs }));
    const wait = (timeoutMs || this.drainTimeoutMs) + FINAL_WRITE_MS + WAIT_SLACK_MS;
    const m = await this.waitFor((x) => (x.kind === 'flushed' && x.flushed.id === id) || (x.kind === 'error' && x.error.code === 'state'), wait);
    if (m?.kind === 'flushed') return m.flushed;
    if (m?.kind === 'error') throw new StudioError(`${this.target}: flush refused: ${m.error.message}`, { code: 'EFLUSH', ...(m.error.hint ? { hint: m.error.hint } : {}) });
    if (!this.closedInfo) throw new StudioError(`${this.target}: the helper did not answer FLUSH within ${wait} ms`, { code: 'EFLUSH', hint: 'the connection may be stalled; stop the run and look at the log' });
    throw this.goneError('flush');
  }

  /**
   * STOP: the helper detaches everything, drains every ring (within its drain timeout), sends
   * a final STATS and BYE, and exits; every EVENTS frame before BYE reaches the listeners
   * before this resolves. Falls back to terminate() (EOF, then signals) after timeoutMs
   * (default: the helper's own bounds plus slack).
   */
  async stop(timeoutMs = this.drainTimeoutMs + FINAL_WRITE_MS + WAIT_SLACK_MS): Promise<SessionClosed> {
    if (this.closedInfo) return this.closedInfo;
    this.stopRequested = true;
    this.resumeReading();
    try {
      this.send(encodeCommand('stop'));
    } catch {
      // already going away
    }
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([this.closed, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)))]);
    clearTimeout(timer);
    if (done) return done;
    await this.process.terminate(1000);
    return this.closed;
  }

  /** Ends the session without STOP: EOF on stdin (the helper detaches and exits), then signals. */
  async detach(): Promise<SessionClosed> {
    this.stopRequested = true;
    this.resumeReading();
    await this.process.terminate();
    return this.closed;
  }

  /**
   * A listener threw: its consumer (a printer, the panel) can no longer be trusted to
   * get the stream, so the session ends with that error instead of streaming past it.
   */
  private listenerFailed(err: unknown): void {
    if (this.protocolFailure) return;
    this.protocolFailure = wrapError(err, 'an event listener failed');
    void this.process.terminate(500);
  }

  private send(frame: Uint8Array | Command): void {
    if (this.closedInfo) throw this.goneError('send');
    const bytes = typeof frame === 'string' ? encodeCommand(frame) : frame;
    this.process.stdin.write(bytes);
  }

  private goneError(what: string): StudioError {
    const c = this.closedInfo;
    const stderr = this.stderrText.trim();
    if (c?.reason === 'connection-lost') {
      return new StudioError(`${this.target}: helper is gone during ${what}: ${c.message}`, {
        code: 'EHELPERGONE',
        hint: `the helper on ${this.target} sees the connection close and detaches whatever it loaded; check the network and sshd there, then run again`,
        ...(stderr ? { detail: stderr } : {}),
      });
    }
    return new StudioError(`${this.target}: helper ${c ? 'is gone' : 'did not answer'} during ${what}${c ? `: ${c.message}` : ''}`, {
      code: 'EHELPERGONE',
      hint: 'see the log for what the helper said; rebuild it if it crashed (npm run build:helper)',
      ...(stderr ? { detail: stderr } : {}),
    });
  }

  private waitFor(pred: (m: HelperMessage) => boolean, timeoutMs: number): Promise<HelperMessage | undefined> {
    return new Promise((resolve) => {
      if (this.closedInfo) {
        resolve(undefined);
        return;
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      const waiter = (m: HelperMessage | undefined): boolean => {
        if (m !== undefined && !pred(m)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      };
      this.waiters.push(waiter);
    });
  }

  private onData(chunk: Uint8Array): void {
    this.lastDataAt = Date.now();
    if (this.protocolFailure) return;
    let messages: HelperMessage[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      // The stream cannot be trusted any more: detach the helper.
      this.protocolFailure = err;
      this.logL.emit('error', messageOf(err));
      void this.process.terminate(500);
      return;
    }
    for (const m of messages) this.dispatch(m);
  }

  private dispatch(m: HelperMessage): void {
    const taken = this.waiters.findIndex((w) => w(m));
    if (taken >= 0) this.waiters.splice(taken, 1);
    switch (m.kind) {
      case 'events': {
        const split = splitRecords(m.records, m.count, this.index);
        if (split.count === 0) return;
        this.received[m.ringIndex] = (this.received[m.ringIndex] ?? 0) + split.count;
        this.batch.emit({
          host: this.target,
          map: this.ringNames[m.ringIndex] ?? `ring#${m.ringIndex}`,
          count: split.count,
          data: m.records,
          offsets: split.offsets,
          lengths: split.lengths,
          timeMs: Number(m.timeNs / 1_000_000n),
        });
        return;
      }
      case 'stats':
        this.lastStats = m.stats;
        if (m.stats.final) this.finalStats = m.stats;
        this.statsL.emit(m.stats);
        return;
      case 'verifierLog': {
        const chunks = this.verifierLogs.get(m.program) ?? [];
        chunks.push(m.text);
        this.verifierLogs.set(m.program, chunks);
        return;
      }
      case 'log': {
        // Long texts come in chunks flagged "more"; deliver whole messages.
        this.logPending += m.text;
        if (m.more) return;
        const text = this.logPending.replace(/\n$/, '');
        this.logPending = '';
        this.logL.emit(m.level, text);
        return;
      }
      case 'error':
        if (m.error.fatal) this.fatal = m.error;
        if (taken < 0) this.logL.emit('error', m.error.hint ? `${m.error.message} (${m.error.hint})` : m.error.message);
        return;
      case 'bye':
        this.bye = m.bye;
        return;
      case 'hello':
      case 'loaded':
      case 'flushed':
        return;
    }
  }

  private finish(exit: HelperExit): void {
    if (this.closedInfo) return;
    const stderr = this.stderrText.trim();
    let reason: CloseReason;
    let message: string;
    if (exit.connectionLost !== undefined) {
      reason = 'connection-lost';
      message = exit.connectionLost;
    } else if (this.fatal) {
      reason = 'helper-exited';
      message = `helper stopped after an error: ${this.fatal.message}`;
    } else if (this.protocolFailure) {
      reason = 'helper-exited';
      message = messageOf(this.protocolFailure);
    } else if (this.bye?.reason === 'stop' || (this.stopRequested && (this.bye !== undefined || exit.code === 0 || exit.signal !== null))) {
      reason = 'stopped';
      message = `stopped${this.bye?.detached !== undefined ? `; ${this.bye.detached} program(s) detached` : ''}`;
    } else {
      reason = 'helper-exited';
      message = this.bye ? `helper exited (${this.bye.reason}${this.bye.signal ? ` ${this.bye.signal}` : ''})` : `helper exited unexpectedly (${describeExit(exit)})`;
      if (stderr) message += `: ${stderr.split('\n').slice(-3).join(' | ')}`;
    }
    const info: SessionClosed = { reason, message, exit };
    if (this.bye) info.bye = this.bye;
    if (this.fatal) info.error = this.fatal;
    if (stderr) info.stderr = stderr;
    this.closedInfo = info;
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
    this.resolveClosed(info);
    this.closedL.emit(info);
  }
}

function describeExit(exit: HelperExit | undefined): string {
  if (!exit) return 'unknown';
  if (exit.connectionLost) return exit.connectionLost;
  if (exit.signal) return `killed by ${exit.signal}`;
  return exit.code === null ? 'no exit status' : `exit code ${exit.code}`;
}
