// Every message between the extension host and the Live Events webview, typed once
// and imported by both sides (extension/livePanel.ts, core/panel/model.ts,
// webview/src/main.ts). A renamed field breaks the build on both sides.
//
// Shape of the conversation:
//   webview → host  `ready`            (every time the page (re)loads)
//   host → webview  `snapshot`         (inReplyTo the ready: run info, layouts, stored batches, stats history, view state)
//   host → webview  `update`           (≤ 60/s: new batches + stats + state, batched by core/panel/model.ts)
//   webview → host  `command`/`export`/`declareEventType`/`createTest` (requests: each gets `reply` or `error` with inReplyTo)
//   webview → host  `viewState`        (notification: filter, pause, columns — so a reopened panel shows the same)
// Requests time out (RequestTracker) so nothing hangs silently.
// Everything that crosses is validated on arrival (parseWebviewMessage / parseHostMessage).
import type { EventLayout } from '../btf/layoutTypes';
import { fieldReader, type Fields } from './fields';
import type { DropCounter, RingStats } from './helper';

export const PANEL_PROTOCOL_VERSION = 1;

export type PanelRunState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'disconnected' | 'error';
export const panelRunStates: readonly PanelRunState[] = ['starting', 'running', 'paused', 'stopping', 'stopped', 'disconnected', 'error'];

export interface PanelMapInfo {
  name: string;
  /** e.g. "ringbuf", "hash". */
  type: string;
  /** Effective max_entries (after libbpf's adjustments and overrides). */
  maxEntries: number;
  /** What the object or an override asked for, when different. */
  requestedMaxEntries?: number;
}

export interface PanelProgramInfo {
  name: string;
  attachTo: string;
  attached: boolean;
  /** Why it did not attach, in plain words. */
  error?: string;
}

/** How the records of one ringbuf map are typed; layout null = shown as hex. */
export interface PanelEventType {
  map: string;
  layout: EventLayout | null;
  /** For layout null: why (shown next to the hint to declare the event type). */
  reason?: string;
}

export interface PanelRunInfo {
  targets: string[];
  program: string;
  /** Source or object file, for display and the "declare the event type" action. */
  file?: string;
  maps: PanelMapInfo[];
  programs: PanelProgramInfo[];
  eventTypes: PanelEventType[];
  state: PanelRunState;
  /** ms since epoch. */
  startTimeMs: number;
  /** Message that goes with the state (e.g. why it disconnected). */
  stateMessage?: string;
}

/** Per-ring stats exactly as the helper reports them (core/protocol/helper.ts). */
export type PanelRingStats = RingStats;
export interface PanelStats {
  host: string;
  timeMs: number;
  paused: boolean;
  rings: PanelRingStats[];
  counters: DropCounter[];
}

/**
 * A RecordBatch (core/session/types.ts) plus its place in the panel's event sequence:
 * events are numbered 0,1,2,… in arrival order across hosts and maps; `seq` is the
 * first one's number. Record i's payload is data[offsets[i] .. offsets[i]+lengths[i]).
 */
export interface WireBatch {
  seq: number;
  host: string;
  map: string;
  count: number;
  timeMs: number;
  data: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
}

export interface PanelViewState {
  filter: string;
  paused: boolean;
  /** While paused: the number of events the view shows (seq < pausedAt). */
  pausedAt: number | null;
  autoScroll: boolean;
  hiddenColumns: string[];
}

export const defaultViewState: PanelViewState = { filter: '', paused: false, pausedAt: null, autoScroll: true, hiddenColumns: [] };

export type PanelCommand = 'stop' | 'pause' | 'resume' | 'clear';
const panelCommands: readonly PanelCommand[] = ['stop', 'pause', 'resume', 'clear'];

export type ExportFormat = 'csv' | 'json';
/** 'visible': what the table shows (filter, columns, pause point); 'all': every stored event, every column. */
export type ExportScope = 'visible' | 'all';

export interface ExportRequest {
  format: ExportFormat;
  scope: ExportScope;
  filter: string;
  hiddenColumns: string[];
  /** Events with seq ≥ this are left out (the view's pause point); null = up to the newest. */
  endSeq: number | null;
  /** Optional explicit selection of event sequence numbers (e.g. selected rows). */
  seqs?: number[];
}

// ───────────────────────────── host → webview ─────────────────────────────

export interface SnapshotMessage {
  type: 'snapshot';
  id: number;
  inReplyTo: number;
  protocol: number;
  run: PanelRunInfo;
  maxEvents: number;
  /** Byte bound of the store (the webview holds the same events). */
  maxBytes: number;
  /** Stored batches, oldest first (the oldest may start mid-batch: see `firstSeq`). */
  batches: WireBatch[];
  /** Events before this seq were dropped by the bounded store (or cleared). */
  firstSeq: number;
  /** Stats samples, oldest first, bounded (for the rate chart and gauges). */
  stats: PanelStats[];
  view: PanelViewState;
  /** Total events received since the run started (including evicted/cleared). */
  totalEvents: number;
}

export interface UpdateMessage {
  type: 'update';
  id: number;
  batches: WireBatch[];
  stats: PanelStats[];
  /** Set when the run info/state changed since the last update. */
  run?: PanelRunInfo;
  totalEvents: number;
}

export interface ClearedMessage {
  type: 'cleared';
  id: number;
  /** The next event's seq. */
  firstSeq: number;
}

export interface ReplyMessage {
  type: 'reply';
  id: number;
  inReplyTo: number;
  /** e.g. the saved file's path. */
  result?: string;
}

export interface ErrorReplyMessage {
  type: 'error';
  id: number;
  inReplyTo: number;
  message: string;
  hint?: string;
}

export type HostToWebview = SnapshotMessage | UpdateMessage | ClearedMessage | ReplyMessage | ErrorReplyMessage;

// ───────────────────────────── webview → host ─────────────────────────────

export interface ReadyMessage {
  type: 'ready';
  id: number;
  protocol: number;
}
export interface CommandMessage {
  type: 'command';
  id: number;
  command: PanelCommand;
}
export interface ExportMessage {
  type: 'export';
  id: number;
  request: ExportRequest;
}
export interface DeclareEventTypeMessage {
  type: 'declareEventType';
  id: number;
  map: string;
}
/** "Create Test…": a live test from the filter in force (the host counts the events it matches). */
export interface CreateTestMessage {
  type: 'createTest';
  id: number;
  filter: string;
}
export interface ViewStateMessage {
  type: 'viewState';
  id: number;
  view: PanelViewState;
}
export interface WebviewLogMessage {
  type: 'log';
  id: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export type WebviewToHost = ReadyMessage | CommandMessage | ExportMessage | DeclareEventTypeMessage | CreateTestMessage | ViewStateMessage | WebviewLogMessage;
export type WebviewRequest = CommandMessage | ExportMessage | DeclareEventTypeMessage | CreateTestMessage;

/** Request kinds and how long the webview waits for their reply. */
export const requestTimeoutMs: Record<WebviewRequest['type'] | 'ready', number> = {
  ready: 5_000,
  command: 10_000,
  declareEventType: 10_000,
  // A save dialog, or the test's name and trigger, wait for the person.
  export: 10 * 60_000,
  createTest: 10 * 60_000,
};

// ───────────────────────────── validation ─────────────────────────────

export class PanelMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PanelMessageError';
  }
}

const MAX_STRING = 64 * 1024;
const MAX_FILTER = 4096;

const { obj, str, optStr, num, bool, arr, oneOf, strList } = fieldReader({
  fail: (message) => new PanelMessageError(message),
  numbers: { min: 0, int: true },
  maxString: MAX_STRING,
});

export function parseViewState(v: unknown, what = 'view'): PanelViewState {
  const o = obj(v, what);
  const pausedAt = o.pausedAt === null || o.pausedAt === undefined ? null : num(o, 'pausedAt', what);
  return {
    filter: str(o, 'filter', what, MAX_FILTER),
    paused: bool(o, 'paused', what),
    pausedAt,
    autoScroll: bool(o, 'autoScroll', what),
    hiddenColumns: strList(o, 'hiddenColumns', what),
  };
}

function parseExportRequest(v: unknown): ExportRequest {
  const what = 'export.request';
  const o = obj(v, what);
  const req: ExportRequest = {
    format: oneOf(o, 'format', ['csv', 'json'] as const, what),
    scope: oneOf(o, 'scope', ['visible', 'all'] as const, what),
    filter: str(o, 'filter', what, MAX_FILTER),
    hiddenColumns: strList(o, 'hiddenColumns', what),
    endSeq: o.endSeq === null || o.endSeq === undefined ? null : num(o, 'endSeq', what),
  };
  if (o.seqs !== undefined) {
    req.seqs = arr(o, 'seqs', what, 10_000_000).map((x, i) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new PanelMessageError(`${what}.seqs[${i}]: expected an event number`);
      return x;
    });
  }
  return req;
}

/** What every message starts with: an object with a type (named in errors, cut to 40 characters) and an id. */
function messageHead(v: unknown): { o: Fields; type: unknown; what: string; id: number } {
  const o = obj(v, 'message');
  const type = o.type;
  const what = typeof type === 'string' ? type.slice(0, 40) : 'message';
  return { o, type, what, id: num(o, 'id', what) };
}

/** Validates anything the webview posted. Throws PanelMessageError naming the bad field. */
export function parseWebviewMessage(v: unknown): WebviewToHost {
  const { o, type, what, id } = messageHead(v);
  switch (type) {
    case 'ready':
      return { type, id, protocol: num(o, 'protocol', what) };
    case 'command':
      return { type, id, command: oneOf(o, 'command', panelCommands, what) };
    case 'export':
      return { type, id, request: parseExportRequest(o.request) };
    case 'declareEventType':
      return { type, id, map: str(o, 'map', what, 256) };
    case 'createTest':
      return { type, id, filter: str(o, 'filter', what, MAX_FILTER) };
    case 'viewState':
      return { type, id, view: parseViewState(o.view) };
    case 'log':
      return { type, id, level: oneOf(o, 'level', ['info', 'warn', 'error'] as const, what), text: str(o, 'text', what, 8192) };
    default:
      throw new PanelMessageError(`message.type: unknown message type ${JSON.stringify(type)}`);
  }
}

function parseBatch(v: unknown, i: number): WireBatch {
  const what = `batches[${i}]`;
  const o = obj(v, what);
  const data = o.data;
  const offsets = o.offsets;
  const lengths = o.lengths;
  if (!(data instanceof Uint8Array)) throw new PanelMessageError(`${what}.data: expected a Uint8Array`);
  if (!(offsets instanceof Uint32Array) || !(lengths instanceof Uint32Array)) throw new PanelMessageError(`${what}.offsets/lengths: expected Uint32Arrays`);
  const count = num(o, 'count', what);
  if (offsets.length < count || lengths.length < count) throw new PanelMessageError(`${what}: count ${count} exceeds offsets/lengths`);
  for (let r = 0; r < count; r++) {
    const end = (offsets[r] ?? 0) + (lengths[r] ?? 0);
    if (end > data.length) throw new PanelMessageError(`${what}: record ${r} runs past the end of data`);
  }
  return {
    seq: num(o, 'seq', what),
    host: str(o, 'host', what, 1024),
    map: str(o, 'map', what, 256),
    count,
    timeMs: num(o, 'timeMs', what, { int: false }),
    data,
    offsets,
    lengths,
  };
}

function parseStats(v: unknown, i: number): PanelStats {
  const what = `stats[${i}]`;
  const o = obj(v, what);
  return {
    host: str(o, 'host', what, 1024),
    timeMs: num(o, 'timeMs', what, { int: false }),
    paused: bool(o, 'paused', what),
    rings: arr(o, 'rings', what, 1024).map((r, j) => {
      const w = `${what}.rings[${j}]`;
      const ro = obj(r, w);
      return {
        index: num(ro, 'index', w),
        name: str(ro, 'name', w, 256),
        size: num(ro, 'size', w),
        records: num(ro, 'records', w),
        bytes: num(ro, 'bytes', w),
        producerPos: num(ro, 'producerPos', w),
        consumerPos: num(ro, 'consumerPos', w),
        fill: num(ro, 'fill', w, { int: false }),
      };
    }),
    counters: arr(o, 'counters', what, 1024).map((c, j) => {
      const w = `${what}.counters[${j}]`;
      const co = obj(c, w);
      return { name: str(co, 'name', w, 256), map: str(co, 'map', w, 256), value: num(co, 'value', w) };
    }),
  };
}

function parseRunInfo(v: unknown): PanelRunInfo {
  const what = 'run';
  const o = obj(v, what);
  const run: PanelRunInfo = {
    targets: strList(o, 'targets', what),
    program: str(o, 'program', what, 4096),
    maps: arr(o, 'maps', what, 4096).map((m, i) => {
      const w = `run.maps[${i}]`;
      const mo = obj(m, w);
      const map: PanelMapInfo = { name: str(mo, 'name', w, 256), type: str(mo, 'type', w, 64), maxEntries: num(mo, 'maxEntries', w) };
      if (mo.requestedMaxEntries !== undefined) map.requestedMaxEntries = num(mo, 'requestedMaxEntries', w);
      return map;
    }),
    programs: arr(o, 'programs', what, 4096).map((p, i) => {
      const w = `run.programs[${i}]`;
      const po = obj(p, w);
      const prog: PanelProgramInfo = { name: str(po, 'name', w, 256), attachTo: str(po, 'attachTo', w, 1024), attached: bool(po, 'attached', w) };
      const err = optStr(po, 'error', w);
      if (err !== undefined) prog.error = err;
      return prog;
    }),
    eventTypes: arr(o, 'eventTypes', what, 1024).map((e, i) => {
      const w = `run.eventTypes[${i}]`;
      const eo = obj(e, w);
      // The layout is produced by core/btf on the host side; here we check its outer shape.
      const layout = eo.layout === null ? null : obj(eo.layout, `${w}.layout`);
      if (layout && (typeof layout.size !== 'number' || typeof layout.root !== 'object' || layout.root === null)) {
        throw new PanelMessageError(`${w}.layout: not an event layout`);
      }
      const et: PanelEventType = { map: str(eo, 'map', w, 256), layout: layout as EventLayout | null };
      const reason = optStr(eo, 'reason', w);
      if (reason !== undefined) et.reason = reason;
      return et;
    }),
    state: oneOf(o, 'state', panelRunStates, what),
    startTimeMs: num(o, 'startTimeMs', what, { int: false }),
  };
  const file = optStr(o, 'file', what);
  if (file !== undefined) run.file = file;
  const msg = optStr(o, 'stateMessage', what);
  if (msg !== undefined) run.stateMessage = msg;
  return run;
}

/** Validates anything the host posted (the webview trusts nothing either). */
export function parseHostMessage(v: unknown): HostToWebview {
  const { o, type, what, id } = messageHead(v);
  switch (type) {
    case 'snapshot':
      return {
        type,
        id,
        inReplyTo: num(o, 'inReplyTo', what),
        protocol: num(o, 'protocol', what),
        run: parseRunInfo(o.run),
        maxEvents: num(o, 'maxEvents', what, { min: 1 }),
        maxBytes: num(o, 'maxBytes', what, { min: 1 }),
        batches: arr(o, 'batches', what).map(parseBatch),
        firstSeq: num(o, 'firstSeq', what),
        stats: arr(o, 'stats', what).map(parseStats),
        view: parseViewState(o.view),
        totalEvents: num(o, 'totalEvents', what),
      };
    case 'update': {
      const msg: UpdateMessage = {
        type,
        id,
        batches: arr(o, 'batches', what).map(parseBatch),
        stats: arr(o, 'stats', what).map(parseStats),
        totalEvents: num(o, 'totalEvents', what),
      };
      if (o.run !== undefined) msg.run = parseRunInfo(o.run);
      return msg;
    }
    case 'cleared':
      return { type, id, firstSeq: num(o, 'firstSeq', what) };
    case 'reply': {
      const msg: ReplyMessage = { type, id, inReplyTo: num(o, 'inReplyTo', what) };
      const result = optStr(o, 'result', what);
      if (result !== undefined) msg.result = result;
      return msg;
    }
    case 'error': {
      const msg: ErrorReplyMessage = { type, id, inReplyTo: num(o, 'inReplyTo', what), message: str(o, 'message', what) };
      const hint = optStr(o, 'hint', what);
      if (hint !== undefined) msg.hint = hint;
      return msg;
    }
    default:
      throw new PanelMessageError(`message.type: unknown message type ${JSON.stringify(type)}`);
  }
}

// ───────────────────────────── requests ─────────────────────────────

export class RequestTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no reply from the extension within ${Math.round(ms / 1000)} s`);
    this.name = 'RequestTimeoutError';
  }
}

export class RequestFailedError extends Error {
  constructor(
    message: string,
    readonly hint: string | undefined,
  ) {
    super(message);
    this.name = 'RequestFailedError';
  }
}

interface Pending {
  resolve: (result: string | undefined) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Ids for outgoing messages and the promises waiting for their replies: every
 * request ends in a reply, an error reply, or a timeout — never silence.
 */
export class RequestTracker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  newId(): number {
    return this.nextId++;
  }

  /** Registers a request already given `id`; resolves with the reply's result. */
  wait(id: number, what: string, timeoutMs: number): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(what, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  /** Settles the request a reply/error answers; false when nobody waits for it (late or unknown). */
  settle(msg: ReplyMessage | ErrorReplyMessage | SnapshotMessage): boolean {
    const p = this.pending.get(msg.inReplyTo);
    if (!p) return false;
    this.pending.delete(msg.inReplyTo);
    clearTimeout(p.timer);
    if (msg.type === 'error') p.reject(new RequestFailedError(msg.message, msg.hint));
    else p.resolve(msg.type === 'reply' ? msg.result : undefined);
    return true;
  }

  /** Fails everything still waiting (panel closing). */
  cancelAll(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
      this.pending.delete(id);
    }
  }

  get size(): number {
    return this.pending.size;
  }
}
