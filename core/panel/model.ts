// The host side of the Live Events panel, free of VS Code: keeps the run info, the
// bounded event store and a stats history; answers the webview's `ready` with a
// snapshot; batches RecordBatches and stats into at most `maxPostsPerSecond` update
// posts; validates every webview message and answers each request with a reply or an
// error reply; produces export file contents. extension/livePanel.ts wires it to a
// WebviewPanel; the panel browser tests drive it directly.
import type { RecordBatch } from '../session/types';
import type { Stats } from '../protocol/helper';
import {
  PANEL_PROTOCOL_VERSION,
  PanelMessageError,
  defaultViewState,
  parseWebviewMessage,
} from '../protocol/panel';
import type {
  ExportRequest,
  HostToWebview,
  PanelCommand,
  PanelRunInfo,
  PanelRunState,
  PanelStats,
  PanelViewState,
  WebviewToHost,
  WireBatch,
} from '../protocol/panel';
import { FilterError, compileFilter } from './filter';
import { exportEvents } from './export';
import type { ExportResult } from './export';
import { EventTyping } from './rows';
import { BatchArena } from './arena';
import { BatchStore } from './store';

/** What the panel keeps by default: 256 MiB of events (both sides hold a copy). */
export const DEFAULT_MAX_BYTES = 256 << 20;

export interface PanelModelOptions {
  /** Bounded store size (ringbufStudio.panel.maxEvents). */
  maxEvents?: number;
  /** Bounded store memory in bytes (ringbufStudio.panel.maxMemoryMB); default 256 MiB. */
  maxBytes?: number;
  /** Default 60. */
  maxPostsPerSecond?: number;
  /** Stats samples kept for the chart (per run, all hosts). Default 3600. */
  statsHistory?: number;
  now?: () => number;
}

export interface PanelModelHooks {
  /** Stop / pause / resume / clear pressed in the panel (clear is already applied to the store). */
  onCommand?: (command: PanelCommand) => void | Promise<void>;
  /** Asks where to save; resolves to the path written, or undefined when cancelled. */
  saveExport?: (result: ExportResult, request: ExportRequest) => Promise<string | undefined>;
  /** The "declare the event type" link under raw records of `map`. */
  onDeclareEventType?: (map: string) => void | Promise<void>;
  /** "Create Test…": writes a live test from the filter and the events it matched; resolves to what to tell the person (undefined: cancelled). */
  onCreateTest?: (request: { filter: string; observed: number }) => Promise<string | undefined>;
  /** Problems worth a log line (invalid messages, webview errors). */
  log?: (level: 'info' | 'warn' | 'error', text: string) => void;
}

export class PanelModel {
  readonly store: BatchStore;
  /** The store's batches live here (RecordBatches are lent: their records are copied in). */
  private readonly arena = new BatchArena();
  private run: PanelRunInfo;
  private typing: EventTyping;
  private view: PanelViewState = { ...defaultViewState };
  private stats: PanelStats[] = [];
  private totalEvents = 0;
  private post: ((msg: HostToWebview) => void) | undefined;
  private ready = false;
  private nextId = 1;
  private pendingBatches: WireBatch[] = [];
  private pendingStats: PanelStats[] = [];
  private runChanged = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private lastPostAt = -Infinity;
  private readonly minIntervalMs: number;
  private readonly statsLimit: number;
  private readonly now: () => number;
  /** Posts made (for tests and the bench: proves batching). */
  postCount = 0;

  constructor(
    run: PanelRunInfo,
    private readonly hooks: PanelModelHooks = {},
    opts: PanelModelOptions = {},
  ) {
    this.run = run;
    this.store = new BatchStore(opts.maxEvents ?? 1_000_000, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    this.minIntervalMs = 1000 / (opts.maxPostsPerSecond ?? 60);
    this.statsLimit = opts.statsHistory ?? 3600;
    this.now = opts.now ?? (() => Date.now());
    this.typing = this.makeTyping();
    this.view.hiddenColumns = this.typing.defaultHidden();
  }

  private makeTyping(): EventTyping {
    return new EventTyping(this.run.eventTypes, { multiHost: this.run.targets.length > 1, multiMap: this.run.eventTypes.length > 1 });
  }

  get runInfo(): PanelRunInfo {
    return this.run;
  }
  get viewState(): PanelViewState {
    return this.view;
  }

  /** Connects a (new) webview. Nothing is posted until it says `ready`. */
  attach(post: (msg: HostToWebview) => void): void {
    this.post = post;
    this.ready = false;
  }

  /** The webview went away (closed/hidden without retained context); the store stays. */
  detach(): void {
    this.post = undefined;
    this.ready = false;
    this.cancelFlush();
    this.pendingBatches = [];
    this.pendingStats = [];
  }

  pushBatch(batch: RecordBatch): void {
    if (batch.count <= 0) return;
    const wire = this.arena.store(batch, this.store.nextSeq, this.store.oldestBatchSeq);
    this.store.append(wire);
    this.totalEvents += wire.count;
    if (this.ready) {
      this.pendingBatches.push(wire);
      this.scheduleFlush();
    }
  }

  pushStats(host: string, stats: Stats): void {
    const sample: PanelStats = {
      host,
      timeMs: stats.timeMs,
      paused: stats.paused,
      rings: stats.rings.map((r) => ({ ...r })),
      counters: stats.counters.map((c) => ({ ...c })),
    };
    this.stats.push(sample);
    if (this.stats.length > this.statsLimit) this.stats.splice(0, this.stats.length - this.statsLimit);
    if (this.ready) {
      this.pendingStats.push(sample);
      this.scheduleFlush();
    }
  }

  setState(state: PanelRunState, message?: string): void {
    this.run = { ...this.run, state };
    if (message !== undefined) this.run.stateMessage = message;
    else delete this.run.stateMessage;
    this.markRunChanged();
  }

  /** Replaces the run info (a new run in the same panel starts from an empty store). */
  setRunInfo(run: PanelRunInfo, { newRun = false }: { newRun?: boolean } = {}): void {
    this.run = run;
    this.typing = this.makeTyping();
    if (newRun) {
      this.clearStore();
      this.stats = [];
      this.totalEvents = 0;
      this.view = { ...defaultViewState, hiddenColumns: this.typing.defaultHidden() };
      // Simplest correct way to tell the webview everything changed: a fresh snapshot.
      if (this.ready && this.post) this.sendSnapshot(0);
      return;
    }
    this.markRunChanged();
  }

  private clearStore(): void {
    this.store.clear();
    this.arena.reset();
  }

  setLimits(maxEvents: number, maxBytes?: number): void {
    this.store.setLimits(maxEvents, maxBytes);
    this.arena.trim(this.store.oldestBatchSeq);
  }

  private markRunChanged(): void {
    if (!this.ready) return;
    this.runChanged = true;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined) return;
    const wait = Math.max(0, this.lastPostAt + this.minIntervalMs - this.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, wait);
  }

  private cancelFlush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** Posts pending batches/stats/run changes now (normally called by the throttle timer). */
  flush(): void {
    this.cancelFlush();
    if (!this.ready || !this.post) return;
    if (!this.pendingBatches.length && !this.pendingStats.length && !this.runChanged) return;
    // Batches evicted since they arrived are not sent (their memory may hold newer ones by
    // now): the webview's store takes the gap in the sequence as "everything before is gone".
    const oldest = this.store.oldestBatchSeq;
    const batches = this.pendingBatches.filter((b) => b.seq >= oldest).map(postable);
    const msg: HostToWebview = { type: 'update', id: this.nextId++, batches, stats: this.pendingStats, totalEvents: this.totalEvents };
    if (this.runChanged) msg.run = this.run;
    this.pendingBatches = [];
    this.pendingStats = [];
    this.runChanged = false;
    this.lastPostAt = this.now();
    this.send(msg);
  }

  private send(msg: HostToWebview): void {
    this.postCount++;
    try {
      this.post?.(msg);
    } catch (err) {
      this.hooks.log?.('warn', `panel: post failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private sendSnapshot(inReplyTo: number): void {
    this.cancelFlush();
    this.pendingBatches = [];
    this.pendingStats = [];
    this.runChanged = false;
    this.lastPostAt = this.now();
    this.send({
      type: 'snapshot',
      id: this.nextId++,
      inReplyTo,
      protocol: PANEL_PROTOCOL_VERSION,
      run: this.run,
      maxEvents: this.store.maxEvents,
      maxBytes: this.store.maxBytes,
      batches: this.store.snapshotBatches().map(postable),
      firstSeq: this.store.firstSeq,
      stats: this.stats,
      view: this.view,
      totalEvents: this.totalEvents,
    });
  }

  /** Handles anything the webview posted. Invalid messages are logged and dropped (or answered with an error when they carry an id). */
  async handleMessage(raw: unknown): Promise<void> {
    let msg: WebviewToHost;
    try {
      msg = parseWebviewMessage(raw);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.hooks.log?.('warn', `panel: ignored an invalid message from the webview: ${text}`);
      const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && err instanceof PanelMessageError) {
        this.replyError(id, `invalid message: ${text}`, 'this is a bug in Ringbuf Studio; please report it with the log');
      }
      return;
    }
    switch (msg.type) {
      case 'ready':
        if (msg.protocol !== PANEL_PROTOCOL_VERSION) {
          this.replyError(msg.id, `panel protocol ${msg.protocol} does not match the extension's ${PANEL_PROTOCOL_VERSION}`, 'reload the window (Developer: Reload Window)');
          return;
        }
        this.ready = true;
        this.sendSnapshot(msg.id);
        return;
      case 'viewState':
        this.view = msg.view;
        return;
      case 'log':
        this.hooks.log?.(msg.level, `panel: ${msg.text}`);
        return;
      case 'command':
        await this.runCommand(msg.id, msg.command);
        return;
      case 'export':
        await this.runExport(msg.id, msg.request);
        return;
      case 'createTest':
        await this.createTest(msg.id, msg.filter);
        return;
      case 'declareEventType':
        // The action edits the user's source: only for a ring this run really has.
        if (!this.run.eventTypes.some((t) => t.map === msg.map) && !this.run.maps.some((m) => m.name === msg.map && m.type === 'ringbuf')) {
          this.replyError(msg.id, `declareEventType: this run has no ring buffer map named ${JSON.stringify(msg.map.slice(0, 80))}`);
          return;
        }
        try {
          await this.hooks.onDeclareEventType?.(msg.map);
          this.reply(msg.id);
        } catch (err) {
          this.replyError(msg.id, err instanceof Error ? err.message : String(err));
        }
        return;
    }
  }

  private async runCommand(id: number, command: PanelCommand): Promise<void> {
    try {
      if (command === 'clear') {
        this.clearStore();
        this.pendingBatches = [];
        this.send({ type: 'cleared', id: this.nextId++, firstSeq: this.store.firstSeq });
      }
      await this.hooks.onCommand?.(command);
      this.reply(id);
    } catch (err) {
      this.replyError(id, `${command}: ${err instanceof Error ? err.message : String(err)}`, hintOf(err));
    }
  }

  /** How many stored events `filter` matches ('' = all of them). Throws FilterError on a bad filter. */
  countMatching(filter: string): number {
    const compiled = compileFilter(filter, this.typing.fieldNames);
    let n = 0;
    this.store.forEachEvent(this.store.firstSeq, this.store.nextSeq, (batch, index) => {
      if (!compiled || compiled.test(this.typing.getter(batch, index))) n++;
    });
    return n;
  }

  private async createTest(id: number, filter: string): Promise<void> {
    try {
      if (!this.hooks.onCreateTest) {
        this.replyError(id, 'creating a test is not available here', 'run the panel inside VS Code');
        return;
      }
      const result = await this.hooks.onCreateTest({ filter, observed: this.countMatching(filter) });
      this.reply(id, result ?? 'cancelled');
    } catch (err) {
      if (err instanceof FilterError) this.replyError(id, `create test: the filter is invalid: ${err.message}`, 'fix the filter or clear it');
      else this.replyError(id, `create test: ${err instanceof Error ? err.message : String(err)}`, hintOf(err));
    }
  }

  /** Builds the export content (also used directly by tests). Throws FilterError on a bad filter. */
  exportContent(req: ExportRequest): ExportResult {
    return exportEvents(this.store, this.typing, req);
  }

  private async runExport(id: number, req: ExportRequest): Promise<void> {
    try {
      const result = this.exportContent(req);
      if (!this.hooks.saveExport) {
        this.replyError(id, 'export is not available here', 'run the panel inside VS Code');
        return;
      }
      const saved = await this.hooks.saveExport(result, req);
      this.reply(id, saved === undefined ? 'cancelled' : `saved ${result.count} events to ${saved}`);
    } catch (err) {
      if (err instanceof FilterError) this.replyError(id, `export: the filter is invalid: ${err.message}`, 'fix the filter or clear it');
      else this.replyError(id, `export: ${err instanceof Error ? err.message : String(err)}`, hintOf(err));
    }
  }

  private reply(inReplyTo: number, result?: string): void {
    this.send(result === undefined ? { type: 'reply', id: this.nextId++, inReplyTo } : { type: 'reply', id: this.nextId++, inReplyTo, result });
  }

  private replyError(inReplyTo: number, message: string, hint?: string): void {
    this.send(hint === undefined ? { type: 'error', id: this.nextId++, inReplyTo, message } : { type: 'error', id: this.nextId++, inReplyTo, message, hint });
  }

  dispose(): void {
    this.detach();
  }
}

/**
 * A stored batch as it can be posted: arrays of its own (VS Code's postMessage sends the
 * whole ArrayBuffer behind a view, here an arena block of many batches).
 */
function postable(b: WireBatch): WireBatch {
  return { ...b, data: b.data.slice(), offsets: b.offsets.slice(), lengths: b.lengths.slice() };
}

function hintOf(err: unknown): string | undefined {
  const h = (err as { hint?: unknown } | null)?.hint;
  return typeof h === 'string' ? h : undefined;
}
