// The helper ⇄ core wire protocol, version 2 (helper/PROTOCOL.md is the contract;
// helper/src/protocol.h is the C mirror). Frames are `u32 length | u8 kind | payload`,
// little-endian. JSON payloads use snake_case on the wire; this module converts
// them to the camelCase types below, field by field, so a renamed field breaks here
// and not silently somewhere downstream.
import { allocUninitialized } from '../util/bytes';
import { StudioError } from '../util/errors';
import { fieldReader } from './fields';

export const PROTOCOL_VERSION = 2;
/** Largest frame either side accepts (length field value). */
export const MAX_FRAME = 64 * 1024 * 1024;

/** Frame kinds. Helper → core below 0x80, core → helper from 0x80. */
export const FrameKind = {
  hello: 0x01,
  log: 0x02,
  loaded: 0x03,
  events: 0x04,
  stats: 0x05,
  error: 0x06,
  bye: 0x07,
  flushed: 0x08,
  verifierLog: 0x09,
  load: 0x81,
  start: 0x82,
  stop: 0x83,
  pause: 0x84,
  resume: 0x85,
  flush: 0x86,
} as const;

/** LOAD flags. */
const LOAD_ATTACH_ALL = 0x01;
const LOAD_VERIFIER_DATA = 0x02;
const LOAD_VERIFY = 0x04;
/** The helper's bound on a drain at stop when LOAD does not set one, and the largest it takes. */
export const DRAIN_TIMEOUT_DEFAULT_MS = 3000;
export const DRAIN_TIMEOUT_MAX_MS = 60_000;
/** After the drain, how long the helper lets its last frames (final STATS, BYE) wait for the reader. */
export const FINAL_WRITE_MS = 5000;

/** Ring record header bits (the kernel's BPF_RINGBUF_* constants). */
export const RECORD_BUSY = 0x80000000;
export const RECORD_DISCARD = 0x40000000;
export const RECORD_HEADER_SIZE = 8;
const RECORD_LEN_MASK = 0x3fffffff;

export interface HelloFeatures {
  /** Program types the kernel can load, e.g. { tracepoint: true, lsm: false }. */
  progTypes: Record<string, boolean>;
  /** Attach kinds that really attach here (filled by `probe`; missing key = not probed). */
  attach: Record<string, boolean>;
  bpfLoop?: boolean;
  dynptr?: boolean;
}

export interface Hello {
  protocol: number;
  helper: string;
  kernel: string;
  arch: string;
  pageSize: number;
  btf: boolean;
  ringbuf: boolean;
  pid: number;
  uid: number;
  features: HelloFeatures;
}

export interface LoadedMap {
  name: string;
  type: number;
  typeName: string;
  /** Effective size after libbpf's adjustments. */
  maxEntries: number;
  /** What the object or an override asked for, when it differs from maxEntries. */
  requestedMaxEntries?: number;
  keySize: number;
  valueSize: number;
  ringIndex?: number;
}

export interface RingInfo {
  index: number;
  name: string;
  size: number;
}

export interface AttachError {
  errno: number;
  message: string;
  /** Plain words: "kprobes are not available in this kernel (CONFIG_KPROBE_EVENTS)". */
  reason: string;
}

/** The verifier's summary line: `processed N insns (limit L) max_states_per_insn M total_states T peak_states P mark_read R`. */
export interface VerifierSummary {
  insnsProcessed: number;
  insnLimit?: number;
  maxStatesPerInsn?: number;
  totalStates?: number;
  peakStates?: number;
  markRead?: number;
  /** `verification time N usec`. */
  verificationTimeUs?: number;
  /** `stack depth 40+8` (per subprogram). */
  stackDepth?: string;
}

/**
 * A loaded program's verifier log and statistics (LOAD asked for verifier data). LOADED says
 * level, bytes and truncated; the text comes in VERIFIER_LOG frames before it, which
 * HelperSession puts into `log` (the frame decoder leaves it empty) along with the summary.
 */
export interface VerifierData extends Partial<VerifierSummary> {
  /** 0 = statistics only, 1, or 2 (verbose). */
  level: number;
  /** Length of the log in bytes, as the helper sent it. */
  bytes: number;
  /** The log outgrew the largest buffer and was cut (a marker line says where). */
  truncated: boolean;
  log: string;
}

/** A program the verifier rejected while verifying (LOAD `verify`): the others still loaded. */
export interface VerifierRejection {
  errno: number;
  /** `load program 'x': Permission denied: <the verifier's last words>`; the log is in `verifier.log`. */
  message: string;
}

export interface LoadedProgram {
  name: string;
  section: string;
  type: string;
  attachTarget: string;
  attached: boolean;
  error?: AttachError;
  verifier?: VerifierData;
  /** LOAD `verify` only: whether the program is loaded (false: rejected, refused, or not in the list). */
  loaded?: boolean;
  /** LOAD `verify` only: the verifier rejected it (its log is in `verifier`). */
  rejected?: VerifierRejection;
}

export interface Loaded {
  maps: LoadedMap[];
  rings: RingInfo[];
  programs: LoadedProgram[];
}

export interface RingStats {
  index: number;
  name: string;
  size: number;
  /** Cumulative records / bytes consumed. */
  records: number;
  bytes: number;
  producerPos: number;
  consumerPos: number;
  /** 0..1 */
  fill: number;
  /** Final STATS only: records (and their payload bytes) still in the ring when the stop's drain ended — normally 0. */
  leftRecords?: number;
  leftBytes?: number;
}

/** A drop counter of the program's own (a global or array map named *drop*, *lost*, *miss*, *fail*). */
export interface DropCounter {
  name: string;
  map: string;
  /** Cumulative. */
  value: number;
}

/** Where the helper's drain time goes (optional STATS field; helpers before it omit it). Cumulative. */
export interface DrainStats {
  /** EVENTS frames shipped. */
  frames: number;
  /** Times the loop went to sleep with nothing to drain. */
  sleeps: number;
  /** Time stdout stayed full (the reader did not keep up). */
  outputBlockedMs: number;
  /** Time the helper was runnable but waited for a CPU (0 without kernel schedstats). */
  runDelayMs: number;
}

export interface Stats {
  timeMs: number;
  paused: boolean;
  /** The last STATS, sent at stop after the drain: rings carry leftRecords/leftBytes. */
  final?: boolean;
  rings: RingStats[];
  counters: DropCounter[];
  drain?: DrainStats;
}

/** The drops the program's counters report, summed (the kernel counts none itself). */
export function totalDrops(stats: { readonly counters: readonly DropCounter[] }): number {
  return stats.counters.reduce((n, c) => n + c.value, 0);
}

export type HelperErrorCode =
  | 'protocol'
  | 'object'
  | 'map'
  | 'verifier'
  | 'load'
  | 'attach'
  | 'override'
  | 'state'
  | 'internal'
  // Forward compatible: a newer helper may send codes this build does not know.
  | (string & {});

export interface HelperErrorInfo {
  code: HelperErrorCode;
  fatal: boolean;
  errno?: number;
  message: string;
  hint?: string;
  program?: string;
  map?: string;
  /** The full verifier log for code 'verifier'. */
  log?: string;
}

/** Where one ring stood when a FLUSH was answered. */
export interface FlushedRing {
  index: number;
  name: string;
  /** Cumulative records / bytes delivered from this ring. */
  records: number;
  bytes: number;
  consumerPos: number;
  /** The producer position when FLUSH arrived: every record before it was to be delivered. */
  goalPos: number;
  /** Records (and payload bytes) before goalPos still in the ring when the time bound ended the flush. */
  leftRecords: number;
  leftBytes: number;
}

/** The answer to FLUSH: sent after the last EVENTS frame of its drain. */
export interface Flushed {
  id: number;
  /** Every record committed before the FLUSH was delivered (false: the time bound hit; see leftRecords). */
  complete: boolean;
  rings: FlushedRing[];
}

export interface Bye {
  reason: string;
  signal?: string;
  detached?: number;
}

export type LogLevel = 'warn' | 'info' | 'debug';

export type HelperMessage =
  | { kind: 'hello'; hello: Hello }
  | { kind: 'log'; level: LogLevel; more: boolean; text: string }
  | { kind: 'loaded'; loaded: Loaded }
  | { kind: 'events'; ringIndex: number; count: number; timeNs: bigint; records: Uint8Array }
  | { kind: 'stats'; stats: Stats }
  | { kind: 'error'; error: HelperErrorInfo }
  | { kind: 'bye'; bye: Bye }
  | { kind: 'flushed'; flushed: Flushed }
  /** A chunk of one program's verifier log (`program` indexes LOADED.programs); `more` on all but the last. */
  | { kind: 'verifierLog'; program: number; more: boolean; text: string };

export interface LoadOptions {
  /** The BPF ELF object. */
  object: Uint8Array;
  /** Attach every program (the attach list is then ignored). */
  attachAll: boolean;
  /** Program names to attach when attachAll is false. */
  attach: string[];
  /** Map name → max_entries, validated by the helper before load. */
  overrides: Record<string, number>;
  /** Verifier log level on failure (1 = default, 2 = verbose). */
  logLevel?: number;
  /**
   * Every program's verifier log and statistics, also when it loads, at this level: 0 =
   * statistics only, 1, 2 = verbose (large). Delivered in Loaded.programs[i].verifier.
   */
  verifierLevel?: 0 | 1 | 2;
  /**
   * Verify (flag bit 2, implies verifier data): attach nothing, verify each program on its own —
   * a program the verifier rejects is reported in Loaded.programs[i].rejected and the others
   * still load — and load only the programs named in `attach` (empty: all).
   */
  verify?: boolean;
  /** How long a stop (any reason) may spend draining the rings; default 3000, at most 60000. */
  drainTimeoutMs?: number;
}

export type Command = 'start' | 'stop' | 'pause' | 'resume';

export interface FlushRequest {
  /** Echoed in FLUSHED. */
  id: number;
  /** How long the helper may take; 0 = the LOAD's drain timeout. */
  timeoutMs: number;
}

/** Core → helper messages, decoded (used by tests that act as the helper). */
export type CoreMessage = { kind: 'load'; load: LoadOptions } | { kind: Command } | ({ kind: 'flush' } & FlushRequest);

/** A malformed frame or payload. The stream it came from cannot be trusted any more. */
export class ProtocolError extends StudioError {
  constructor(message: string, detail?: string) {
    super(`helper protocol: ${message}`, {
      code: 'EPROTOCOL',
      hint: 'the helper and the extension may be different versions; rebuild the helper (make -C helper) or reinstall the extension',
      ...(detail === undefined ? {} : { detail }),
    });
    this.name = 'ProtocolError';
  }
}

// ───────────────────────────── framing ─────────────────────────────

/**
 * Splits a byte stream into frames. Frames that lie wholly inside one pushed chunk
 * are returned as views into it (no copy); a frame spanning chunks is assembled
 * once into a buffer of its exact size. With `split`, a frame whose kind byte asks
 * for it is assembled as a small head and a tail of its own (an EVENTS frame's
 * records, without the header in front). With `split.reuse`, those tails are
 * assembled into two buffers used in turn instead of a new one per frame: a flood
 * then allocates nothing per frame (fresh memory per frame — page faults, zeroing,
 * garbage collection — cost more than reading the bytes). Such a tail is valid until
 * the next push: one push completes at most one assembled frame and starts at most
 * one, so the other buffer is free. After an error every push throws again.
 */
class FrameSplitter<T> {
  private readonly header = new Uint8Array(4);
  private headerFilled = 0;
  /** The frame being assembled: head (may be empty) then body. */
  private head: Uint8Array | null = null;
  private body: Uint8Array | null = null;
  private filled = 0;
  private failure: ProtocolError | null = null;

  constructor(
    private readonly decodeFrame: (frame: Uint8Array) => T,
    private readonly split?: {
      headLength: (kind: number, length: number) => number;
      decode: (head: Uint8Array, tail: Uint8Array) => T;
      /** Assemble tails into reused buffers (each valid until the next push). */
      reuse?: boolean;
    },
  ) {}

  /** The two tail buffers used in turn (split.reuse), and which one is next. */
  private readonly spare: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];
  private nextSpare = 0;

  /** A buffer of `length` bytes for a frame's tail: one of the spares (grown as needed) or a new one. */
  private tailBuffer(length: number): Uint8Array {
    if (!this.split?.reuse || length > MAX_REUSED_TAIL) return new Uint8Array(length);
    const i = this.nextSpare;
    this.nextSpare ^= 1;
    let buf = this.spare[i] as Uint8Array;
    if (buf.length < length) {
      let size = Math.max(64 * 1024, buf.length);
      while (size < length) size *= 2;
      buf = this.spare[i] = new Uint8Array(size);
    }
    return buf.subarray(0, length);
  }

  push(chunk: Uint8Array): T[] {
    if (this.failure) throw this.failure;
    try {
      return this.splitChunk(chunk);
    } catch (err) {
      this.failure = err instanceof ProtocolError ? err : new ProtocolError(`undecodable frame: ${String(err)}`);
      throw this.failure;
    }
  }

  /** True when no partial frame is buffered (a clean place for the stream to end). */
  get idle(): boolean {
    return this.body === null && this.headerFilled === 0;
  }

  private splitChunk(chunk: Uint8Array): T[] {
    const out: T[] = [];
    let off = 0;
    const end = chunk.length;
    while (off < end) {
      if (this.body !== null) {
        const head = this.head;
        if (head !== null && this.filled < head.length) {
          const n = Math.min(head.length - this.filled, end - off);
          head.set(chunk.subarray(off, off + n), this.filled);
          this.filled += n;
          off += n;
          continue;
        }
        const bodyFilled = this.filled - (head?.length ?? 0);
        const n = Math.min(this.body.length - bodyFilled, end - off);
        this.body.set(chunk.subarray(off, off + n), bodyFilled);
        this.filled += n;
        off += n;
        if (bodyFilled + n === this.body.length) {
          const body = this.body;
          this.body = null;
          this.head = null;
          this.filled = 0;
          out.push(head !== null && this.split ? this.split.decode(head, body) : this.decodeFrame(body));
        }
        continue;
      }
      let length: number;
      if (this.headerFilled === 0 && end - off >= 4) {
        length = readU32(chunk, off);
        off += 4;
      } else {
        const n = Math.min(4 - this.headerFilled, end - off);
        this.header.set(chunk.subarray(off, off + n), this.headerFilled);
        this.headerFilled += n;
        off += n;
        if (this.headerFilled < 4) break;
        this.headerFilled = 0;
        length = readU32(this.header, 0);
      }
      checkLength(length);
      if (end - off >= length) {
        out.push(this.decodeFrame(chunk.subarray(off, off + length)));
        off += length;
      } else {
        // The kind byte is known when any of the frame is in this chunk (almost always).
        const headLength = off < end && this.split ? this.split.headLength(chunk[off] ?? 0, length) : 0;
        this.head = headLength > 0 && headLength < length ? new Uint8Array(headLength) : null;
        // Filled from the stream before anyone reads it: no need to zero it first.
        this.body = this.head ? this.tailBuffer(length - this.head.length) : allocUninitialized(length);
        this.filled = 0;
      }
    }
    return out;
  }
}

/** Tails above this size get a buffer of their own (one huge record must not stay allocated). */
const MAX_REUSED_TAIL = 8 << 20;

function checkLength(length: number): void {
  if (length === 0) throw new ProtocolError('frame with length 0');
  if (length > MAX_FRAME) throw new ProtocolError(`frame of ${length} bytes exceeds the ${MAX_FRAME}-byte limit`);
}

/** Incremental decoder of helper → core frames. */
export class FrameDecoder {
  private readonly splitter: FrameSplitter<HelperMessage>;
  /**
   * `reuseBuffers`: an EVENTS frame's records that had to be assembled from several
   * chunks land in a buffer the decoder reuses — valid only until the next push (the
   * session hands them on at once; whoever keeps records copies them). Without it every
   * message is the caller's to keep.
   */
  constructor(opts: { reuseBuffers?: boolean } = {}) {
    this.splitter = new FrameSplitter(decodeHelperFrame, {
      headLength: (kind, length) => (kind === FrameKind.events && length > EVENTS_HEAD ? EVENTS_HEAD : 0),
      decode: decodeEventsParts,
      reuse: opts.reuseBuffers ?? false,
    });
  }
  /** Feeds bytes; returns every message completed by them. Throws ProtocolError on malformed input. */
  push(chunk: Uint8Array): HelperMessage[] {
    return this.splitter.push(chunk);
  }
  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.splitter.idle;
  }
}

/** Incremental decoder of core → helper frames (for tests and tools that play the helper). */
export class CoreFrameDecoder {
  private readonly splitter = new FrameSplitter(decodeCoreFrame);
  push(chunk: Uint8Array): CoreMessage[] {
    return this.splitter.push(chunk);
  }
  get idle(): boolean {
    return this.splitter.idle;
  }
}

function frame(kind: number, payloadLength: number): { buf: Uint8Array; view: DataView; off: number } {
  const buf = new Uint8Array(5 + payloadLength);
  const view = new DataView(buf.buffer);
  view.setUint32(0, 1 + payloadLength, true);
  buf[4] = kind;
  return { buf, view, off: 5 };
}

// ───────────────────────────── core → helper ─────────────────────────────

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function encodeLoad(o: LoadOptions): Uint8Array {
  const overrides = Object.entries(o.overrides).map(([name, value]) => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new StudioError(`max_entries override for map '${name}' must be an integer between 0 and 4294967295, got ${value}`);
    }
    return { name: utf8.encode(name), value };
  });
  const attach = o.attach.map((n) => utf8.encode(n));
  for (const n of [...overrides.map((x) => x.name), ...attach]) {
    if (n.length > 0xffff) throw new StudioError('a map or program name longer than 65535 bytes cannot be sent to the helper');
  }
  if (overrides.length > 0xffff || attach.length > 0xffff) throw new StudioError('too many overrides or attach names for one LOAD');
  const drain = o.drainTimeoutMs ?? 0;
  if (!Number.isInteger(drain) || drain < 0 || drain > DRAIN_TIMEOUT_MAX_MS) {
    throw new StudioError(`the drain timeout must be a whole number of milliseconds from 0 to ${DRAIN_TIMEOUT_MAX_MS}, got ${drain}`);
  }
  const size =
    4 + 4 + 4 + 2 + overrides.reduce((s, x) => s + 2 + x.name.length + 4, 0) + 2 + attach.reduce((s, n) => s + 2 + n.length, 0) + o.object.length;
  if (size + 1 > MAX_FRAME) throw new StudioError(`the BPF object is too large to send (${o.object.length} bytes; limit ${MAX_FRAME - 64} bytes)`);
  const { buf, view } = frame(FrameKind.load, size);
  let off = 5;
  const verifierData = o.verifierLevel !== undefined || o.verify === true;
  view.setUint32(off, (o.attachAll ? LOAD_ATTACH_ALL : 0) | (verifierData ? LOAD_VERIFIER_DATA : 0) | (o.verify ? LOAD_VERIFY : 0), true);
  view.setUint32(off + 4, verifierData ? o.verifierLevel ?? 0 : o.logLevel ?? 1, true);
  view.setUint32(off + 8, drain, true);
  off += 12;
  view.setUint16(off, overrides.length, true);
  off += 2;
  for (const x of overrides) {
    view.setUint16(off, x.name.length, true);
    buf.set(x.name, off + 2);
    off += 2 + x.name.length;
    view.setUint32(off, x.value, true);
    off += 4;
  }
  view.setUint16(off, attach.length, true);
  off += 2;
  for (const n of attach) {
    view.setUint16(off, n.length, true);
    buf.set(n, off + 2);
    off += 2 + n.length;
  }
  buf.set(o.object, off);
  return buf;
}

export function encodeCommand(c: Command): Uint8Array {
  return frame(FrameKind[c], 0).buf;
}

export function encodeFlush(r: FlushRequest): Uint8Array {
  for (const [name, v] of [['id', r.id], ['timeoutMs', r.timeoutMs]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new StudioError(`FLUSH ${name} must be a u32, got ${v}`);
  }
  const { buf, view } = frame(FrameKind.flush, 8);
  view.setUint32(5, r.id, true);
  view.setUint32(9, r.timeoutMs, true);
  return buf;
}

/** Decodes one core → helper frame body (`kind | payload`, without the length). */
export function decodeCoreFrame(body: Uint8Array): CoreMessage {
  const kind = body[0];
  const payload = body.subarray(1);
  switch (kind) {
    case FrameKind.load:
      return { kind: 'load', load: decodeLoadPayload(payload) };
    case FrameKind.start:
      return { kind: 'start' };
    case FrameKind.stop:
      return { kind: 'stop' };
    case FrameKind.pause:
      return { kind: 'pause' };
    case FrameKind.resume:
      return { kind: 'resume' };
    case FrameKind.flush: {
      const r = new Reader(payload, 'FLUSH');
      const out = { kind: 'flush' as const, id: r.u32(), timeoutMs: r.u32() };
      if (r.rest().length) throw new ProtocolError('FLUSH payload longer than its 8 bytes');
      return out;
    }
    default:
      throw new ProtocolError(`unknown core frame kind 0x${(kind ?? 0).toString(16)}`);
  }
}

function decodeLoadPayload(p: Uint8Array): LoadOptions {
  const r = new Reader(p, 'LOAD');
  const flags = r.u32();
  const level = r.u32();
  const drainTimeoutMs = r.u32();
  const overrides: Record<string, number> = {};
  for (let n = r.u16(); n > 0; n--) {
    const name = r.str(r.u16());
    overrides[name] = r.u32();
  }
  const attach: string[] = [];
  for (let n = r.u16(); n > 0; n--) attach.push(r.str(r.u16()));
  const out: LoadOptions = { object: r.rest(), attachAll: (flags & LOAD_ATTACH_ALL) !== 0, attach, overrides };
  if (drainTimeoutMs) out.drainTimeoutMs = drainTimeoutMs;
  if (flags & (LOAD_VERIFIER_DATA | LOAD_VERIFY)) out.verifierLevel = level === 0 || level === 1 ? level : 2;
  else out.logLevel = level;
  if (flags & LOAD_VERIFY) out.verify = true;
  return out;
}

class Reader {
  private off = 0;
  private readonly view: DataView;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): number {
    if (this.off + n > this.buf.length) throw new ProtocolError(`${this.what} payload truncated at byte ${this.off}`);
    const at = this.off;
    this.off += n;
    return at;
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  u64(): bigint {
    return this.view.getBigUint64(this.need(8), true);
  }
  str(n: number): string {
    const at = this.need(n);
    return decodeUtf8(this.buf.subarray(at, at + n), this.what);
  }
  rest(): Uint8Array {
    const at = this.off;
    this.off = this.buf.length;
    return this.buf.subarray(at);
  }
}

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw new ProtocolError(`${what} payload is not valid UTF-8`);
  }
}

// ───────────────────────────── helper → core ─────────────────────────────

const logLevels: readonly LogLevel[] = ['warn', 'info', 'debug'];

/** Decodes one helper → core frame body (`kind | payload`, without the length). */
/** Kind byte + the 16-byte EVENTS header. */
const EVENTS_HEAD = 17;

/** An EVENTS frame assembled as head (kind + header) and records. */
function decodeEventsParts(head: Uint8Array, records: Uint8Array): HelperMessage {
  const view = new DataView(head.buffer, head.byteOffset + 1, 16);
  return { kind: 'events', ringIndex: view.getUint32(0, true), count: view.getUint32(4, true), timeNs: view.getBigUint64(8, true), records };
}

export function decodeHelperFrame(body: Uint8Array): HelperMessage {
  const kind = body[0];
  const payload = body.subarray(1);
  switch (kind) {
    case FrameKind.hello:
      return { kind: 'hello', hello: helloFromWire(parseJson(payload, 'HELLO')) };
    case FrameKind.log: {
      if (payload.length < 4) throw new ProtocolError('LOG payload shorter than its 4-byte header');
      const level = logLevels[payload[0] ?? 0] ?? 'debug';
      return { kind: 'log', level, more: ((payload[1] ?? 0) & 1) !== 0, text: decodeUtf8(payload.subarray(4), 'LOG') };
    }
    case FrameKind.loaded:
      return { kind: 'loaded', loaded: loadedFromWire(parseJson(payload, 'LOADED')) };
    case FrameKind.events: {
      if (payload.length < 16) throw new ProtocolError('EVENTS payload shorter than its 16-byte header');
      const view = new DataView(payload.buffer, payload.byteOffset, 16);
      return {
        kind: 'events',
        ringIndex: view.getUint32(0, true),
        count: view.getUint32(4, true),
        timeNs: view.getBigUint64(8, true),
        records: payload.subarray(16),
      };
    }
    case FrameKind.stats:
      return { kind: 'stats', stats: statsFromWire(parseJson(payload, 'STATS')) };
    case FrameKind.error:
      return { kind: 'error', error: errorFromWire(parseJson(payload, 'ERROR')) };
    case FrameKind.bye:
      return { kind: 'bye', bye: byeFromWire(parseJson(payload, 'BYE')) };
    case FrameKind.flushed:
      return { kind: 'flushed', flushed: flushedFromWire(parseJson(payload, 'FLUSHED')) };
    case FrameKind.verifierLog: {
      if (payload.length < 8) throw new ProtocolError('VERIFIER_LOG payload shorter than its 8-byte header');
      const view = new DataView(payload.buffer, payload.byteOffset, 8);
      return { kind: 'verifierLog', program: view.getUint32(0, true), more: ((payload[4] ?? 0) & 1) !== 0, text: decodeUtf8(payload.subarray(8), 'VERIFIER_LOG') };
    }
    default:
      throw new ProtocolError(`unknown helper frame kind 0x${(kind ?? 0).toString(16)}`);
  }
}

/** Encodes a helper → core message (what the C helper sends; used by tests and fakes). */
export function encodeHelperMessage(m: HelperMessage): Uint8Array {
  switch (m.kind) {
    case 'hello':
      return jsonFrame(FrameKind.hello, helloToWire(m.hello));
    case 'log': {
      const text = utf8.encode(m.text);
      const { buf } = frame(FrameKind.log, 4 + text.length);
      buf[5] = logLevels.indexOf(m.level);
      buf[6] = m.more ? 1 : 0;
      buf.set(text, 9);
      return buf;
    }
    case 'loaded':
      return jsonFrame(FrameKind.loaded, loadedToWire(m.loaded));
    case 'events': {
      const { buf, view } = frame(FrameKind.events, 16 + m.records.length);
      view.setUint32(5, m.ringIndex, true);
      view.setUint32(9, m.count, true);
      view.setBigUint64(13, m.timeNs, true);
      buf.set(m.records, 21);
      return buf;
    }
    case 'stats':
      return jsonFrame(FrameKind.stats, statsToWire(m.stats));
    case 'error':
      return jsonFrame(FrameKind.error, errorToWire(m.error));
    case 'bye':
      return jsonFrame(FrameKind.bye, { reason: m.bye.reason, signal: m.bye.signal, detached: m.bye.detached });
    case 'flushed':
      return jsonFrame(FrameKind.flushed, flushedToWire(m.flushed));
    case 'verifierLog': {
      const text = utf8.encode(m.text);
      const { buf, view } = frame(FrameKind.verifierLog, 8 + text.length);
      view.setUint32(5, m.program, true);
      buf[9] = m.more ? 1 : 0;
      buf.set(text, 13);
      return buf;
    }
  }
}

function jsonFrame(kind: number, value: unknown): Uint8Array {
  const json = utf8.encode(JSON.stringify(value));
  const { buf } = frame(kind, json.length);
  buf.set(json, 5);
  return buf;
}

/** Where splitRecords writes offsets/lengths when the caller reuses them (grown as needed). */
export class RecordIndex {
  offsets = new Uint32Array(0);
  lengths = new Uint32Array(0);
  /** Makes room for n entries (keeps the arrays when they are large enough). */
  reserve(n: number): void {
    if (this.offsets.length >= n) return;
    let size = Math.max(1024, this.offsets.length);
    while (size < n) size *= 2;
    this.offsets = new Uint32Array(size);
    this.lengths = new Uint32Array(size);
  }
}

/**
 * Walks an EVENTS span: skips DISCARD entries; returns payload offsets/lengths into
 * `records`. `count` is the frame's record_count (discarded entries included). With
 * `into`, the offsets and lengths are views of its arrays (valid until its next use):
 * a stream of batches then allocates no arrays.
 */
export function splitRecords(records: Uint8Array, count: number, into?: RecordIndex): { count: number; offsets: Uint32Array; lengths: Uint32Array } {
  const cap = Math.min(count, Math.floor(records.length / RECORD_HEADER_SIZE));
  if (cap < count) throw new ProtocolError(`EVENTS claims ${count} records but carries only ${records.length} bytes`);
  into?.reserve(count);
  const offsets = into ? into.offsets : new Uint32Array(count);
  const lengths = into ? into.lengths : new Uint32Array(count);
  // Headers sit at multiples of 8 from the start: read them as u32 words when the span is
  // 4-aligned (an assembled frame always is), byte by byte otherwise. Little-endian host assumed
  // for the fast path, as on every platform the extension runs on.
  const words = records.byteOffset % 4 === 0 && littleEndianHost ? new Uint32Array(records.buffer, records.byteOffset, records.length >>> 2) : null;
  let kept = 0;
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (off + RECORD_HEADER_SIZE > records.length) throw new ProtocolError(`EVENTS record ${i} header lies past the end of the batch`);
    const header = words ? (words[off >>> 2] ?? 0) : readU32(records, off);
    if (header & RECORD_BUSY) throw new ProtocolError(`EVENTS record ${i} is still marked busy`);
    const len = header & RECORD_LEN_MASK;
    const data = off + RECORD_HEADER_SIZE;
    if (data + len > records.length) throw new ProtocolError(`EVENTS record ${i} (${len} bytes) runs past the end of the batch`);
    if (!(header & RECORD_DISCARD)) {
      offsets[kept] = data;
      lengths[kept] = len;
      kept++;
    }
    off = data + ((len + 7) & ~7);
  }
  return { count: kept, offsets: offsets.subarray(0, kept), lengths: lengths.subarray(0, kept) };
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function readU32(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) | ((b[off + 1] ?? 0) << 8) | ((b[off + 2] ?? 0) << 16) | ((b[off + 3] ?? 0) << 24)) >>> 0;
}

// ───────────────────────────── JSON payloads ─────────────────────────────

type Json = Record<string, unknown>;

function parseJson(payload: Uint8Array, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(payload, what));
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError(`${what} payload is not valid JSON`, String(err));
  }
  return obj(value, what);
}

const { obj, num, optNum, str, optStr, bool, optBool, arr, optArr } = fieldReader({
  fail: (message) => new ProtocolError(message),
  nullIsAbsent: true,
});
function boolMap(v: unknown, what: string): Record<string, boolean> {
  if (v === undefined) return {};
  const o = obj(v, what);
  const out: Record<string, boolean> = {};
  for (const [k, x] of Object.entries(o)) if (typeof x === 'boolean') out[k] = x;
  return out;
}
/** Copies only defined optional fields, so decoded objects compare equal to what was encoded. */
function withOptional<T extends object>(base: T, extra: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) (base as Record<string, unknown>)[k] = v;
  return base;
}

function helloFromWire(o: Json): Hello {
  const w = 'HELLO';
  const f = o.features === undefined ? {} : obj(o.features, `${w}.features`);
  return {
    protocol: num(o, 'protocol', w),
    helper: str(o, 'helper', w),
    kernel: str(o, 'kernel', w),
    arch: str(o, 'arch', w),
    pageSize: num(o, 'page_size', w),
    btf: bool(o, 'btf', w),
    ringbuf: bool(o, 'ringbuf', w),
    pid: num(o, 'pid', w),
    uid: num(o, 'uid', w),
    features: withOptional(
      { progTypes: boolMap(f.prog_types, `${w}.features.prog_types`), attach: boolMap(f.attach, `${w}.features.attach`) },
      { bpfLoop: optBool(f, 'bpf_loop', w), dynptr: optBool(f, 'dynptr', w) },
    ),
  };
}
function helloToWire(h: Hello): Json {
  return {
    protocol: h.protocol,
    helper: h.helper,
    kernel: h.kernel,
    arch: h.arch,
    page_size: h.pageSize,
    btf: h.btf,
    ringbuf: h.ringbuf,
    pid: h.pid,
    uid: h.uid,
    features: { prog_types: h.features.progTypes, attach: h.features.attach, bpf_loop: h.features.bpfLoop, dynptr: h.features.dynptr },
  };
}

function loadedFromWire(o: Json): Loaded {
  const w = 'LOADED';
  return {
    maps: optArr(o, 'maps', w).map((v) => {
      const m = obj(v, `${w}.maps[]`);
      const mw = `${w}.maps[]`;
      return withOptional(
        {
          name: str(m, 'name', mw),
          type: num(m, 'type', mw),
          typeName: str(m, 'type_name', mw),
          maxEntries: num(m, 'max_entries', mw),
          keySize: num(m, 'key_size', mw),
          valueSize: num(m, 'value_size', mw),
        },
        { requestedMaxEntries: optNum(m, 'requested_max_entries', mw), ringIndex: optNum(m, 'ring_index', mw) },
      );
    }),
    rings: optArr(o, 'rings', w).map((v) => {
      const r = obj(v, `${w}.rings[]`);
      const rw = `${w}.rings[]`;
      return { index: num(r, 'index', rw), name: str(r, 'name', rw), size: num(r, 'size', rw) };
    }),
    programs: optArr(o, 'programs', w).map((v) => {
      const p = obj(v, `${w}.programs[]`);
      const pw = `${w}.programs[]`;
      const prog: LoadedProgram = {
        name: str(p, 'name', pw),
        section: str(p, 'section', pw),
        type: str(p, 'type', pw),
        attachTarget: optStr(p, 'attach_target', pw) ?? '',
        attached: bool(p, 'attached', pw),
      };
      if (p.error !== undefined && p.error !== null) {
        const e = obj(p.error, `${pw}.error`);
        prog.error = { errno: num(e, 'errno', `${pw}.error`), message: str(e, 'message', `${pw}.error`), reason: str(e, 'reason', `${pw}.error`) };
      }
      if (p.verifier !== undefined && p.verifier !== null) {
        const v = obj(p.verifier, `${pw}.verifier`);
        const vw = `${pw}.verifier`;
        prog.verifier = { level: num(v, 'level', vw), bytes: num(v, 'bytes', vw), truncated: bool(v, 'truncated', vw), log: '' };
      }
      if (p.loaded !== undefined) prog.loaded = bool(p, 'loaded', pw);
      if (p.rejected !== undefined && p.rejected !== null) {
        const r = obj(p.rejected, `${pw}.rejected`);
        prog.rejected = { errno: num(r, 'errno', `${pw}.rejected`), message: str(r, 'message', `${pw}.rejected`) };
      }
      return prog;
    }),
  };
}
function loadedToWire(l: Loaded): Json {
  return {
    maps: l.maps.map((m) => ({
      name: m.name,
      type: m.type,
      type_name: m.typeName,
      max_entries: m.maxEntries,
      requested_max_entries: m.requestedMaxEntries,
      key_size: m.keySize,
      value_size: m.valueSize,
      ring_index: m.ringIndex,
    })),
    rings: l.rings,
    programs: l.programs.map((p) => ({
      name: p.name,
      section: p.section,
      type: p.type,
      attach_target: p.attachTarget,
      attached: p.attached,
      error: p.error,
      verifier: p.verifier ? { level: p.verifier.level, bytes: p.verifier.bytes, truncated: p.verifier.truncated } : undefined,
      loaded: p.loaded,
      rejected: p.rejected,
    })),
  };
}

function statsFromWire(o: Json): Stats {
  const w = 'STATS';
  const stats: Stats = {
    timeMs: num(o, 'time_ms', w),
    paused: bool(o, 'paused', w),
    rings: optArr(o, 'rings', w).map((v) => {
      const r = obj(v, `${w}.rings[]`);
      const rw = `${w}.rings[]`;
      const ring: RingStats = {
        index: num(r, 'index', rw),
        name: str(r, 'name', rw),
        size: num(r, 'size', rw),
        records: num(r, 'records', rw),
        bytes: num(r, 'bytes', rw),
        producerPos: num(r, 'producer_pos', rw),
        consumerPos: num(r, 'consumer_pos', rw),
        fill: num(r, 'fill', rw),
      };
      return withOptional(ring, { leftRecords: optNum(r, 'left_records', rw), leftBytes: optNum(r, 'left_bytes', rw) });
    }),
    counters: optArr(o, 'counters', w).map((v) => {
      const c = obj(v, `${w}.counters[]`);
      const cw = `${w}.counters[]`;
      return { name: str(c, 'name', cw), map: str(c, 'map', cw), value: num(c, 'value', cw) };
    }),
  };
  if (optBool(o, 'final', w)) stats.final = true;
  if (o.drain !== undefined && o.drain !== null) {
    const d = obj(o.drain, `${w}.drain`);
    const dw = `${w}.drain`;
    stats.drain = {
      frames: num(d, 'frames', dw),
      sleeps: num(d, 'sleeps', dw),
      outputBlockedMs: num(d, 'output_blocked_ms', dw),
      runDelayMs: num(d, 'run_delay_ms', dw),
    };
  }
  return stats;
}
function statsToWire(s: Stats): Json {
  return {
    time_ms: s.timeMs,
    paused: s.paused,
    rings: s.rings.map((r) => ({
      index: r.index,
      name: r.name,
      size: r.size,
      records: r.records,
      bytes: r.bytes,
      producer_pos: r.producerPos,
      consumer_pos: r.consumerPos,
      fill: r.fill,
      left_records: r.leftRecords,
      left_bytes: r.leftBytes,
    })),
    counters: s.counters,
    ...(s.final ? { final: true } : {}),
    ...(s.drain
      ? { drain: { frames: s.drain.frames, sleeps: s.drain.sleeps, output_blocked_ms: s.drain.outputBlockedMs, run_delay_ms: s.drain.runDelayMs } }
      : {}),
  };
}

function errorFromWire(o: Json): HelperErrorInfo {
  const w = 'ERROR';
  return withOptional(
    { code: str(o, 'code', w), fatal: optBool(o, 'fatal', w) ?? false, message: str(o, 'message', w) },
    {
      errno: optNum(o, 'errno', w),
      hint: optStr(o, 'hint', w),
      program: optStr(o, 'program', w),
      map: optStr(o, 'map', w),
      log: optStr(o, 'log', w),
    },
  );
}
function errorToWire(e: HelperErrorInfo): Json {
  return { code: e.code, fatal: e.fatal, errno: e.errno, message: e.message, hint: e.hint, program: e.program, map: e.map, log: e.log };
}

function byeFromWire(o: Json): Bye {
  const w = 'BYE';
  return withOptional({ reason: str(o, 'reason', w) }, { signal: optStr(o, 'signal', w), detached: optNum(o, 'detached', w) });
}

function flushedFromWire(o: Json): Flushed {
  const w = 'FLUSHED';
  return {
    id: num(o, 'id', w),
    complete: bool(o, 'complete', w),
    rings: arr(o, 'rings', w).map((v) => {
      const rw = `${w}.rings[]`;
      const r = obj(v, rw);
      return {
        index: num(r, 'index', rw),
        name: str(r, 'name', rw),
        records: num(r, 'records', rw),
        bytes: num(r, 'bytes', rw),
        consumerPos: num(r, 'consumer_pos', rw),
        goalPos: num(r, 'goal_pos', rw),
        leftRecords: num(r, 'left_records', rw),
        leftBytes: num(r, 'left_bytes', rw),
      };
    }),
  };
}
function flushedToWire(f: Flushed): Json {
  return {
    id: f.id,
    complete: f.complete,
    rings: f.rings.map((r) => ({
      index: r.index,
      name: r.name,
      records: r.records,
      bytes: r.bytes,
      consumer_pos: r.consumerPos,
      goal_pos: r.goalPos,
      left_records: r.leftRecords,
      left_bytes: r.leftBytes,
    })),
  };
}
