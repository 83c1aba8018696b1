// The Live Events panel. Holds the raw batches (bounded, core/panel/store), decodes
// only what is drawn or what the filter needs, and redraws at most once per
// animation frame however fast updates arrive. Every message from the host is
// validated (parseHostMessage); every request to the host gets a reply, an error
// reply or a timeout (RequestTracker).
import { tryCompileFilter } from '../../core/panel/filter';
import type { CompiledFilter } from '../../core/panel/filter';
import { EventTyping, formatTime, hexDump } from '../../core/panel/rows';
import type { TableColumn } from '../../core/panel/rows';
import { BatchStore } from '../../core/panel/store';
import {
  PANEL_PROTOCOL_VERSION,
  RequestFailedError,
  RequestTracker,
  defaultViewState,
  parseHostMessage,
  requestTimeoutMs,
} from '../../core/protocol/panel';
import type {
  ExportFormat,
  HostToWebview,
  PanelCommand,
  PanelRingStats,
  PanelRunInfo,
  PanelStats,
  PanelViewState,
  SnapshotMessage,
  UpdateMessage,
  WebviewToHost,
} from '../../core/protocol/panel';
import { RateChart } from './chart';
import type { RatePoint } from './chart';
import { append, ce, clear, fmtBytes, fmtCount, fmtDuration, fmtRate, h, setText } from './dom';
import { VirtualTable } from './table';
import type { RowSource } from './table';

export interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** What tests and the bench read (no behaviour depends on it). */
export interface PanelDebug {
  lastRenderedSeq: number;
  renders: number;
  /** Time spent in the panel's frame work (ms, summed) and in handling messages. */
  frameMs: number;
  messageMs: number;
  messages: number;
  rejected: number;
  storedEvents: () => number;
  storedBytes: () => number;
  onRendered: ((newestSeq: number) => void) | undefined;
}

/** Rows the table shows: all stored events, or the filter's matches; cut at the pause point. */
class RowView implements RowSource {
  filter: CompiledFilter | null = null;
  endSeq: number | null = null;
  private matches = new Float64Array(1024);
  private mStart = 0;
  private mEnd = 0;
  private scannedTo = 0;

  constructor(
    public store: BatchStore,
    private typing: EventTyping,
  ) {}

  setFilter(f: CompiledFilter | null, typing: EventTyping): void {
    this.filter = f;
    this.typing = typing;
    this.mStart = this.mEnd = 0;
    this.scannedTo = this.store.firstSeq;
  }

  private end(): number {
    return this.endSeq === null ? this.store.nextSeq : Math.min(this.endSeq, this.store.nextSeq);
  }

  private trim(): void {
    const first = this.store.firstSeq;
    while (this.mStart < this.mEnd && (this.matches[this.mStart] as number) < first) this.mStart++;
  }

  count(): number {
    const end = this.end();
    if (!this.filter) return Math.max(0, end - this.store.firstSeq);
    this.trim();
    if (this.endSeq === null) return this.mEnd - this.mStart;
    let lo = this.mStart;
    let hi = this.mEnd;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.matches[mid] as number) < end) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.mStart;
  }

  seqAt(row: number): number {
    return this.filter ? (this.matches[this.mStart + row] as number) : this.store.firstSeq + row;
  }

  /** Tests new events against the filter for up to budgetMs; true when caught up. */
  scan(budgetMs: number): boolean {
    const f = this.filter;
    if (!f) return true;
    if (this.scannedTo < this.store.firstSeq) this.scannedTo = this.store.firstSeq;
    const deadline = performance.now() + budgetMs;
    let n = 0;
    let done = true;
    const target = this.store.nextSeq;
    this.store.forEachEvent(this.scannedTo, target, (batch, index, seq) => {
      if (!done) return;
      if (f.test(this.typing.getter(batch, index))) this.push(seq);
      this.scannedTo = seq + 1;
      if (++n % 256 === 0 && performance.now() > deadline) done = false;
    });
    return done && this.scannedTo >= target;
  }

  get pending(): number {
    return this.filter ? Math.max(0, this.store.nextSeq - Math.max(this.scannedTo, this.store.firstSeq)) : 0;
  }

  private push(seq: number): void {
    if (this.mEnd === this.matches.length) {
      if (this.mStart > this.matches.length / 2) {
        this.matches.copyWithin(0, this.mStart, this.mEnd);
        this.mEnd -= this.mStart;
        this.mStart = 0;
      } else {
        const grown = new Float64Array(this.matches.length * 2);
        grown.set(this.matches.subarray(this.mStart, this.mEnd));
        this.mEnd -= this.mStart;
        this.mStart = 0;
        this.matches = grown;
      }
    }
    this.matches[this.mEnd++] = seq;
  }
}

/**
 * Full = the next record does not fit. The kernel refuses a reservation that would use
 * the whole ring (used must stay ≤ size − 1), so with a known record slot (from the
 * layout) the ring is full once no more than one slot is free; else at ≥ 99%. A ring
 * never shows exactly 100%.
 */
function ringFull(r: PanelRingStats, slot: number | undefined): boolean {
  const free = r.size - Math.max(0, r.producerPos - r.consumerPos);
  return slot !== undefined ? free <= slot : r.fill >= 0.99;
}

interface RingRate {
  events: number;
  bytes: number;
}

export class LiveEventsApp {
  private readonly tracker = new RequestTracker();
  private store = new BatchStore(1_000_000);
  private typing = new EventTyping([], { multiHost: false, multiMap: false });
  private run: PanelRunInfo | undefined;
  private view: PanelViewState = { ...defaultViewState };
  private filter: CompiledFilter | null = null;
  private readonly rows: RowView;
  private readonly table: VirtualTable;
  private readonly chart = new RateChart();
  private totalEvents = 0;
  private renderScheduled = false;
  private readyId = 0;
  private gotSnapshot = false;
  private detailsSeq: number | null = null;
  private lastStats = new Map<string, PanelStats>();
  private ringRates = new Map<string, RingRate>();
  private dropRates = new Map<string, number>();
  private statsDirty = true;
  private filterTimer: ReturnType<typeof setTimeout> | undefined;
  readonly debug: PanelDebug;

  // DOM
  private readonly root: HTMLElement;
  private readonly header = h('header', { class: 'run', attrs: { 'aria-label': 'Run' } });
  private readonly rings = h('section', { class: 'rings', attrs: { 'aria-label': 'Rings: rates, fill and drops' } });
  private readonly banners = h('div', { class: 'banners' });
  private readonly filterInput: HTMLElement & { value?: string };
  private readonly filterError = h('div', { class: 'filter-error', id: 'filter-error', role: 'alert' });
  private readonly counts = h('span', { class: 'counts', id: 'counts', attrs: { 'aria-live': 'off' } });
  private readonly status = h('div', { class: 'status', id: 'status', role: 'status' });
  private readonly pauseButton: HTMLElement;
  private readonly autoScrollBox: HTMLElement & { checked?: boolean };
  private readonly exportVisibleBox: HTMLElement & { checked?: boolean };
  private readonly columnsMenu = h('div', { class: 'columns-menu', id: 'columns-menu', role: 'group', attrs: { 'aria-label': 'Shown columns' } });
  private readonly details = h('section', { class: 'details', id: 'details', attrs: { 'aria-label': 'Event details' } });
  private readonly elapsed = h('span', { class: 'elapsed', id: 'elapsed' });
  private readonly stateBadge = h('span', { class: 'state', id: 'state' });

  constructor(
    private readonly vscode: VsCodeApi,
    mount: HTMLElement,
  ) {
    this.rows = new RowView(this.store, this.typing);
    this.table = new VirtualTable(this.store, this.typing);
    this.table.onNeedsRender = () => this.scheduleRender();
    this.table.onOpen = (seq) => this.openDetails(seq);
    this.table.onUserScroll = (atBottom) => {
      if (atBottom !== this.view.autoScroll) this.setAutoScroll(atBottom);
    };
    this.debug = {
      lastRenderedSeq: -1,
      renders: 0,
      frameMs: 0,
      messageMs: 0,
      messages: 0,
      rejected: 0,
      storedEvents: () => this.store.size,
      storedBytes: () => this.store.bytes,
      onRendered: undefined,
    };

    this.filterInput = ce('vscode-textfield', {
      id: 'filter',
      placeholder: 'Filter: comm == "bash" && pid > 100, comm ~ "ssh"',
      'aria-label': 'Filter events',
      'aria-describedby': 'filter-error',
    });
    this.filterInput.addEventListener('input', () => this.filterChanged());
    this.filterInput.addEventListener('change', () => this.filterChanged(true));
    this.pauseButton = ce('vscode-button', { id: 'pause', secondary: '', 'aria-pressed': 'false', title: 'Pause the view (counts continue)' }, 'Pause');
    this.pauseButton.addEventListener('click', () => this.togglePause());
    this.autoScrollBox = ce('vscode-checkbox', { id: 'autoscroll', checked: '', label: 'Auto-scroll' });
    this.autoScrollBox.addEventListener('change', () => this.setAutoScroll(!!this.autoScrollBox.checked));
    this.exportVisibleBox = ce('vscode-checkbox', { id: 'export-visible', checked: '', label: 'Only shown' });
    const button = (id: string, label: string, title: string, onClick: () => void, secondary = true): HTMLElement => {
      const b = ce('vscode-button', { id, title, ...(secondary ? { secondary: '' } : {}) }, label);
      b.addEventListener('click', onClick);
      return b;
    };
    const columnsButton = button('columns-button', 'Columns', 'Show or hide columns', () => {
      this.columnsMenu.hidden = !this.columnsMenu.hidden;
      columnsButton.setAttribute('aria-expanded', String(!this.columnsMenu.hidden));
    });
    columnsButton.setAttribute('aria-expanded', 'false');
    columnsButton.setAttribute('aria-controls', 'columns-menu');
    this.columnsMenu.hidden = true;
    this.details.hidden = true;

    const toolbar = h(
      'div',
      { class: 'toolbar', role: 'toolbar', attrs: { 'aria-label': 'Event view' } },
      h('div', { class: 'filter-box' }, this.filterInput, this.filterError),
      this.pauseButton,
      this.autoScrollBox,
      columnsButton,
      button('clear', 'Clear', 'Forget the events shown so far', () => void this.command('clear')),
      button('export-csv', 'Export CSV…', 'Save events as CSV', () => void this.exportEvents('csv')),
      button('export-json', 'Export JSON…', 'Save events as JSON', () => void this.exportEvents('json')),
      this.exportVisibleBox,
      button('stop', 'Stop', 'Stop the run (detaches the programs)', () => void this.command('stop'), false),
    );
    this.root = h(
      'main',
      { class: 'panel' },
      this.header,
      this.rings,
      this.chart.el,
      this.banners,
      toolbar,
      this.columnsMenu,
      h('div', { class: 'table-wrap' }, this.table.el),
      h('footer', { class: 'footer' }, this.counts, this.status),
      this.details,
    );
    clear(mount);
    mount.append(this.root);

    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.details.hidden) {
        this.closeDetails();
        this.table.focus();
      }
    });
    setInterval(() => this.tickElapsed(), 1000);
    this.sendReady();
  }

  // ───────────────────────────── messaging ─────────────────────────────

  private post(msg: WebviewToHost): void {
    this.vscode.postMessage(msg);
  }

  private sendReady(): void {
    if (this.gotSnapshot) return;
    this.readyId = this.tracker.newId();
    this.post({ type: 'ready', id: this.readyId, protocol: PANEL_PROTOCOL_VERSION });
    this.tracker.wait(this.readyId, 'ready', requestTimeoutMs.ready).catch(() => {
      if (this.gotSnapshot) return;
      this.showStatus('Waiting for the extension… (no snapshot yet; retrying)', 'warn');
      this.sendReady();
    });
  }

  private async request(msg: WebviewToHost & { type: 'command' | 'export' | 'declareEventType' }, what: string): Promise<string | undefined> {
    const p = this.tracker.wait(msg.id, what, requestTimeoutMs[msg.type]);
    this.post(msg);
    return p;
  }

  private receive(data: unknown): void {
    const t0 = performance.now();
    this.handle(data);
    this.debug.messageMs += performance.now() - t0;
  }

  private handle(data: unknown): void {
    let msg: HostToWebview;
    try {
      msg = parseHostMessage(data);
    } catch (err) {
      this.debug.rejected++;
      const text = err instanceof Error ? err.message : String(err);
      this.post({ type: 'log', id: this.tracker.newId(), level: 'warn', text: `webview rejected a message: ${text}` });
      return;
    }
    this.debug.messages++;
    switch (msg.type) {
      case 'snapshot':
        this.tracker.settle(msg);
        this.applySnapshot(msg);
        break;
      case 'update':
        if (this.gotSnapshot) this.applyUpdate(msg);
        break;
      case 'cleared':
        this.store.nextSeq = Math.max(this.store.nextSeq, msg.firstSeq);
        this.store.clear();
        this.rows.setFilter(this.filter, this.typing);
        if (this.view.pausedAt !== null) this.view.pausedAt = this.store.nextSeq;
        this.closeDetails();
        break;
      case 'reply':
      case 'error':
        this.tracker.settle(msg);
        break;
    }
    this.scheduleRender();
  }

  private applySnapshot(s: SnapshotMessage): void {
    this.gotSnapshot = true;
    this.store = new BatchStore(s.maxEvents, s.maxBytes);
    this.store.restore(s.batches, s.firstSeq);
    this.totalEvents = s.totalEvents;
    this.setRun(s.run);
    this.view = { ...s.view };
    this.lastStats.clear();
    this.ringRates.clear();
    this.dropRates.clear();
    const points: RatePoint[] = [];
    for (const st of s.stats) {
      const p = this.addStats(st);
      if (p) points.push(p);
    }
    this.chart.reset(points);
    // Rebuild the table/rows on the new store.
    this.table.setTyping(this.typing);
    this.table.store = this.store;
    this.rows.store = this.store;
    this.applyView();
    this.showStatus('');
  }

  private applyUpdate(u: UpdateMessage): void {
    for (const b of u.batches) this.store.append(b);
    this.totalEvents = u.totalEvents;
    if (u.run) this.setRun(u.run);
    for (const st of u.stats) {
      const p = this.addStats(st);
      if (p) this.chart.add(p);
    }
  }

  private setRun(run: PanelRunInfo): void {
    const typesChanged = JSON.stringify(run.eventTypes) !== JSON.stringify(this.run?.eventTypes) || run.targets.length !== this.run?.targets.length;
    this.run = run;
    if (typesChanged) {
      this.typing = new EventTyping(run.eventTypes, { multiHost: run.targets.length > 1, multiMap: run.eventTypes.length > 1 });
      this.table.setTyping(this.typing);
      this.applyColumns();
      this.rows.setFilter(this.filter, this.typing);
      this.renderBanners();
    }
    this.renderHeader();
  }

  private viewChanged(): void {
    this.vscode.setState(this.view);
    this.post({ type: 'viewState', id: this.tracker.newId(), view: { ...this.view, hiddenColumns: [...this.view.hiddenColumns] } });
  }

  /** Puts the view state (from a snapshot) into the controls. */
  private applyView(): void {
    this.filterInput.value = this.view.filter;
    this.filterInput.setAttribute('value', this.view.filter);
    const { filter, error } = tryCompileFilter(this.view.filter, this.typing.fieldNames);
    this.filter = error ? null : filter;
    this.showFilterError(error ? error.message : '', error?.position);
    this.rows.setFilter(this.filter, this.typing);
    this.rows.endSeq = this.view.paused ? this.view.pausedAt : null;
    this.renderPauseButton();
    this.autoScrollBox.checked = this.view.autoScroll;
    this.toggleAttr(this.autoScrollBox, 'checked', this.view.autoScroll);
    this.applyColumns();
  }

  private toggleAttr(el: HTMLElement, name: string, on: boolean): void {
    if (on) el.setAttribute(name, '');
    else el.removeAttribute(name);
  }

  // ───────────────────────────── controls ─────────────────────────────

  private filterChanged(now = false): void {
    if (this.filterTimer !== undefined) clearTimeout(this.filterTimer);
    const apply = (): void => {
      const text = this.filterInput.value ?? '';
      const { filter, error } = tryCompileFilter(text, this.typing.fieldNames);
      if (error) {
        // The stream continues with the last good filter.
        this.showFilterError(error.message, error.position);
        return;
      }
      this.showFilterError('');
      if (text === this.view.filter && this.filter?.source === filter?.source) return;
      this.filter = filter;
      this.view.filter = text;
      this.rows.setFilter(filter, this.typing);
      this.viewChanged();
      this.scheduleRender();
    };
    if (now) apply();
    else this.filterTimer = setTimeout(apply, 150);
  }

  private showFilterError(message: string, position?: number): void {
    setText(this.filterError, message ? `${message}${position !== undefined ? ` (column ${position + 1})` : ''} — showing ${this.filter ? `the last valid filter: ${this.filter.source}` : 'all events'}` : '');
    this.filterError.hidden = !message;
    this.filterInput.toggleAttribute('invalid', !!message);
    this.filterInput.setAttribute('aria-invalid', message ? 'true' : 'false');
  }

  private togglePause(): void {
    const paused = !this.view.paused;
    this.view.paused = paused;
    this.view.pausedAt = paused ? this.store.nextSeq : null;
    this.rows.endSeq = this.view.pausedAt;
    this.renderPauseButton();
    this.viewChanged();
    void this.command(paused ? 'pause' : 'resume', true);
    this.scheduleRender();
  }

  private renderPauseButton(): void {
    setText(this.pauseButton, this.view.paused ? 'Resume' : 'Pause');
    this.pauseButton.setAttribute('aria-pressed', String(this.view.paused));
    this.root.classList.toggle('paused', this.view.paused);
  }

  private setAutoScroll(on: boolean): void {
    this.view.autoScroll = on;
    this.autoScrollBox.checked = on;
    this.toggleAttr(this.autoScrollBox, 'checked', on);
    this.viewChanged();
    this.scheduleRender();
  }

  private applyColumns(): void {
    const hidden = new Set(this.view.hiddenColumns);
    this.table.setColumns(this.typing.columns.filter((c) => !hidden.has(c.name)));
    clear(this.columnsMenu);
    for (const c of this.typing.columns) {
      const box = h('input', { id: `col-${c.name}`, attrs: { type: 'checkbox' } });
      box.checked = !hidden.has(c.name);
      box.addEventListener('change', () => {
        const set = new Set(this.view.hiddenColumns);
        if (box.checked) set.delete(c.name);
        else set.add(c.name);
        this.view.hiddenColumns = [...set];
        this.applyColumns();
        this.viewChanged();
        this.scheduleRender();
      });
      this.columnsMenu.append(h('label', { class: 'col-toggle' }, box, c.label));
    }
  }

  private async command(command: PanelCommand, quiet = false): Promise<void> {
    try {
      await this.request({ type: 'command', id: this.tracker.newId(), command }, command);
      if (!quiet) this.showStatus(command === 'stop' ? 'Stop requested.' : command === 'clear' ? 'Cleared.' : '');
    } catch (err) {
      this.showError(err);
    }
  }

  private async exportEvents(format: ExportFormat): Promise<void> {
    const visible = !!this.exportVisibleBox.checked;
    this.showStatus(`Exporting ${visible ? 'shown' : 'all'} events as ${format.toUpperCase()}…`);
    try {
      const result = await this.request(
        {
          type: 'export',
          id: this.tracker.newId(),
          request: {
            format,
            scope: visible ? 'visible' : 'all',
            filter: this.filter?.source ?? '',
            hiddenColumns: [...this.view.hiddenColumns],
            endSeq: this.view.paused ? this.view.pausedAt : null,
          },
        },
        'export',
      );
      this.showStatus(result === 'cancelled' ? 'Export cancelled.' : (result ?? 'Exported.'));
    } catch (err) {
      this.showError(err);
    }
  }

  private declareEventType(map: string): void {
    this.request({ type: 'declareEventType', id: this.tracker.newId(), map }, 'declare the event type').catch((err: unknown) => this.showError(err));
  }

  private showStatus(text: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    setText(this.status, text);
    this.status.dataset.level = level;
  }

  private showError(err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    const hint = err instanceof RequestFailedError && err.hint ? ` — ${err.hint}` : '';
    this.showStatus(`${msg}${hint}`, 'error');
  }

  // ───────────────────────────── details ─────────────────────────────

  private openDetails(seq: number): void {
    this.detailsSeq = seq;
    const ref = this.store.locate(seq);
    clear(this.details);
    this.details.hidden = false;
    const close = ce('vscode-button', { id: 'details-close', secondary: '', title: 'Close details (Escape)' }, 'Close');
    close.addEventListener('click', () => {
      this.closeDetails();
      this.table.focus();
    });
    if (!ref) {
      append(this.details, h('p', {}, `Event #${seq} is no longer stored.`), close);
      return;
    }
    const { batch, index } = ref;
    const decoded = this.typing.decode(batch, index);
    const title = h('h2', {}, `Event #${seq} — ${batch.map} on ${batch.host} — ${formatTime(batch.timeMs)}`);
    const fields = h('dl', { class: 'fields' });
    if (decoded) {
      for (const c of this.typing.columns) {
        if (c.kind !== 'field') continue;
        const col = c.byMap?.get(batch.map);
        if (!col) continue;
        const v = col.get(decoded);
        const hex = col.hex?.(v);
        append(fields, h('dt', {}, c.name), h('dd', hex ? { title: hex } : {}, col.format(v), hex ? h('span', { class: 'hex' }, `  ${hex}`) : null));
      }
      if (decoded.$truncated) append(fields, h('dt', {}, '(truncated)'), h('dd', {}, `record has ${decoded.$truncated.have} of ${decoded.$truncated.need} bytes`));
    } else {
      const reason = this.typing.untypedReason(batch.map) ?? '';
      const declare = ce('vscode-button', { class: 'declare' }, 'Declare the event type…');
      declare.addEventListener('click', () => this.declareEventType(batch.map));
      append(fields, h('dt', {}, 'type'), h('dd', {}, `unknown — ${reason}`, ' ', declare));
    }
    const len = batch.lengths[index] ?? 0;
    const raw = h('pre', { class: 'hexdump', attrs: { 'aria-label': 'Raw bytes' } }, hexDump(batch.data, batch.offsets[index] ?? 0, len));
    append(this.details, h('div', { class: 'details-head' }, title, close), fields, h('h3', {}, `Raw (${len} bytes)`), raw);
  }

  private closeDetails(): void {
    this.detailsSeq = null;
    this.details.hidden = true;
    clear(this.details);
  }

  // ───────────────────────────── header, rings, banners ─────────────────────────────

  private renderHeader(): void {
    const run = this.run;
    if (!run) return;
    clear(this.header);
    setText(this.stateBadge, run.state);
    this.stateBadge.dataset.state = run.state;
    if (run.stateMessage) this.stateBadge.title = run.stateMessage;
    const maps = run.maps.map((m) => {
      const req = m.requestedMaxEntries !== undefined && m.requestedMaxEntries !== m.maxEntries ? ` (asked ${fmtCount(m.requestedMaxEntries)})` : '';
      return h('li', { title: `${m.type} map` }, `${m.name} `, h('span', { class: 'dim' }, `${m.type} max_entries=${fmtCount(m.maxEntries)}${req}`));
    });
    const progs = run.programs.map((p) =>
      h('li', { class: p.attached ? 'ok' : 'bad', title: p.error ?? '' }, `${p.attached ? '✓' : '✗'} ${p.name} → ${p.attachTo}`, p.error ? h('span', { class: 'dim' }, ` (${p.error})`) : null),
    );
    append(
      this.header,
      h('div', { class: 'title' }, h('strong', { id: 'program' }, run.program), h('span', { class: 'dim' }, ' on '), h('span', { id: 'targets' }, run.targets.join(', ')), ' ', this.stateBadge, ' ', this.elapsed),
      run.stateMessage ? h('div', { class: 'state-message' }, run.stateMessage) : null,
      h('div', { class: 'lists' }, h('ul', { class: 'maps', attrs: { 'aria-label': 'Maps' } }, ...maps), h('ul', { class: 'programs', attrs: { 'aria-label': 'Programs' } }, ...progs)),
    );
    this.tickElapsed();
  }

  private tickElapsed(): void {
    if (!this.run) return;
    const ended = this.run.state === 'stopped' || this.run.state === 'disconnected' || this.run.state === 'error';
    if (!ended) setText(this.elapsed, fmtDuration(Date.now() - this.run.startTimeMs));
  }

  private renderBanners(): void {
    clear(this.banners);
    for (const et of this.run?.eventTypes ?? []) {
      if (et.layout) continue;
      const b = ce('vscode-button', { secondary: '', class: 'declare', 'data-map': et.map }, 'Declare the event type…');
      b.addEventListener('click', () => this.declareEventType(et.map));
      this.banners.append(
        h('div', { class: 'banner', role: 'note' }, `Ring ${et.map}: records have no event type${et.reason ? ` (${et.reason})` : ''} — shown as hex. `, b),
      );
    }
  }

  /** Folds a stats sample into rates; returns the chart point it makes (rate since the host's previous sample). */
  private addStats(s: PanelStats): RatePoint | undefined {
    const prev = this.lastStats.get(s.host);
    this.lastStats.set(s.host, s);
    this.statsDirty = true;
    if (!prev || s.timeMs <= prev.timeMs) return undefined;
    const dt = (s.timeMs - prev.timeMs) / 1000;
    for (const r of s.rings) {
      const p = prev.rings.find((x) => x.name === r.name);
      if (!p) continue;
      this.ringRates.set(`${s.host}\u0000${r.name}`, { events: Math.max(0, r.records - p.records) / dt, bytes: Math.max(0, r.bytes - p.bytes) / dt });
    }
    const sum = (st: PanelStats): number => st.counters.reduce((n, c) => n + c.value, 0);
    this.dropRates.set(s.host, Math.max(0, sum(s) - sum(prev)) / dt);
    let events = 0;
    for (const r of this.ringRates.values()) events += r.events;
    let drops = 0;
    for (const d of this.dropRates.values()) drops += d;
    return { t: s.timeMs / 1000, events, drops };
  }

  private renderRings(): void {
    if (!this.statsDirty) return;
    this.statsDirty = false;
    clear(this.rings);
    if (this.lastStats.size === 0) {
      this.rings.append(h('div', { class: 'dim' }, 'No ring statistics yet.'));
      return;
    }
    for (const [host, st] of this.lastStats) {
      for (const r of st.rings) {
        const rate = this.ringRates.get(`${host}\u0000${r.name}`);
        const pct = Math.max(0, Math.min(100, r.fill * 100));
        const full = ringFull(r, this.typing.recordSlot(r.name));
        const bar = h('div', { class: 'bar' });
        bar.style.width = `${pct.toFixed(1)}%`;
        const gauge = h('div', {
          class: `gauge${full ? ' full' : pct >= 75 ? ' high' : ''}`,
          role: 'meter',
          title: `${fmtBytes(r.producerPos - r.consumerPos)} of ${fmtBytes(r.size)} waiting to be read`,
          attrs: { 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': pct.toFixed(0), 'aria-label': `ring ${r.name} fill` },
        }, bar);
        this.rings.append(
          h('div', { class: `ring${full ? ' is-full' : ''}`, attrs: { 'data-ring': r.name, 'data-host': host } },
            h('div', { class: 'ring-name' }, r.name, this.lastStats.size > 1 ? h('span', { class: 'dim' }, ` @ ${host}`) : null, st.paused ? h('span', { class: 'dim' }, ' (paused)') : null),
            h('div', { class: 'ring-rates' }, h('span', { class: 'events-rate' }, `${fmtRate(rate?.events ?? 0)} ev/s`), ' · ', h('span', {}, `${fmtBytes(rate?.bytes ?? 0)}/s`), ' · ', h('span', { class: 'dim' }, `${fmtCount(r.records)} total`)),
            h('div', { class: 'ring-fill' }, gauge, h('span', { class: 'fill-text' }, full ? 'ring full' : `${pct.toFixed(pct < 10 ? 1 : 0)}% full`)),
          ),
        );
      }
      const totalDrops = st.counters.reduce((n, c) => n + c.value, 0);
      const anyFull = st.rings.some((r) => ringFull(r, this.typing.recordSlot(r.name)));
      const dropsEl = h('div', { class: `drops${totalDrops > 0 ? ' has-drops' : ''}`, attrs: { 'data-host': host } },
        h('div', { class: 'ring-name' }, 'drops', this.lastStats.size > 1 ? h('span', { class: 'dim' }, ` @ ${host}`) : null),
        st.counters.length
          ? h('div', { class: 'drop-total' }, fmtCount(totalDrops), h('span', { class: 'dim' }, ` (${fmtRate(this.dropRates.get(host) ?? 0)}/s)`))
          : h('div', { class: 'dim', title: 'Add a global counter named like dropped/lost and increment it when bpf_ringbuf_reserve fails' }, 'no drop counter in the program'),
        ...st.counters.map((c) => h('div', { class: 'dim counter' }, `${c.name} (${c.map}) = ${fmtCount(c.value)}`)),
        anyFull ? h('div', { class: 'warn' }, 'ring full — new records are being dropped') : null,
      );
      this.rings.append(dropsEl);
    }
  }

  // ───────────────────────────── render loop ─────────────────────────────

  private scheduleRender(): void {
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    requestAnimationFrame(() => this.frame());
  }

  private frame(): void {
    const t0 = performance.now();
    this.renderScheduled = false;
    const caughtUp = this.rows.scan(8);
    const newest = this.table.render(this.rows, this.view.autoScroll && !this.view.paused);
    const shown = this.rows.count();
    const pending = this.rows.pending;
    setText(
      this.counts,
      `${fmtCount(shown)} shown · ${fmtCount(this.store.size)} stored · ${fmtCount(this.totalEvents)} received${this.view.paused ? ' · view paused' : ''}${pending ? ` · filtering (${fmtCount(pending)} to check)` : ''}`,
    );
    this.renderRings();
    this.chart.update();
    this.debug.renders++;
    this.debug.frameMs += performance.now() - t0;
    this.debug.lastRenderedSeq = newest;
    this.debug.onRendered?.(newest);
    if (!caughtUp) this.scheduleRender();
  }

  /** Column list for tests/diagnostics. */
  get columnNames(): string[] {
    return this.typing.columns.map((c: TableColumn) => c.name);
  }
}
