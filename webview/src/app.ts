// The Live Events panel. Holds the raw batches (bounded, core/panel/store), decodes
// only what is drawn or what the filter needs, and redraws at most once per animation
// frame however fast updates arrive. This class owns the run's data (store, event
// typing, view state) and the frame loop; each part of the page is a component with
// one job: HostLink (messages), FilterBox, Toolbar, ColumnsMenu, RunHeader, RingsView,
// RateChart, VirtualTable, EventDetails, Footer, PanelActions (requests).
import type { CompiledFilter } from '../../core/panel/filter';
import { EventTyping } from '../../core/panel/rows';
import type { TableColumn } from '../../core/panel/rows';
import { BatchStore } from '../../core/panel/store';
import { defaultViewState } from '../../core/protocol/panel';
import type { ClearedMessage, PanelRunInfo, PanelViewState, SnapshotMessage, UpdateMessage } from '../../core/protocol/panel';
import type { RatePoint } from '../../core/panel/rates';
import { PanelActions } from './actions';
import { RateChart } from './chart';
import { ColumnsMenu } from './columnsMenu';
import type { PanelDebug } from './debug';
import { EventDetails } from './details';
import { clear, h } from './dom';
import { FilterBox } from './filterBox';
import { Footer } from './footer';
import { HostLink, type VsCodeApi } from './hostLink';
import { RingsView } from './ringsView';
import { RowView } from './rowView';
import { RunHeader } from './runHeader';
import { VirtualTable } from './table';
import { Toolbar } from './toolbar';

export type { VsCodeApi } from './hostLink';
export type { PanelDebug } from './debug';

export class LiveEventsApp {
  private store = new BatchStore(1_000_000);
  private typing = new EventTyping([], { multiHost: false, multiMap: false });
  private run: PanelRunInfo | undefined;
  private view: PanelViewState = { ...defaultViewState };
  private totalEvents = 0;
  private renderScheduled = false;
  readonly debug: PanelDebug;

  private readonly root: HTMLElement;
  private readonly link: HostLink;
  private readonly actions: PanelActions;
  private readonly footer = new Footer();
  private readonly filterBox = new FilterBox(() => this.typing.fieldNames);
  private readonly columns = new ColumnsMenu();
  private readonly toolbar: Toolbar;
  private readonly header: RunHeader;
  private readonly rings = new RingsView();
  private readonly chart = new RateChart();
  private readonly rows: RowView;
  private readonly table: VirtualTable;
  private readonly details: EventDetails;

  constructor(vscode: VsCodeApi, mount: HTMLElement) {
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
    this.link = new HostLink(vscode, {
      snapshot: (s) => this.applySnapshot(s),
      update: (u) => this.applyUpdate(u),
      cleared: (c) => this.applyCleared(c),
      received: () => this.scheduleRender(),
      status: (text, level) => this.footer.showStatus(text, level),
    }, this.debug);
    this.actions = new PanelActions(this.link, this.footer);
    this.header = new RunHeader((map) => this.actions.declareEventType(map));
    this.rows = new RowView(this.store, this.typing);
    this.table = new VirtualTable(this.store, this.typing);
    this.table.onNeedsRender = () => this.scheduleRender();
    this.table.onOpen = (seq) => this.details.open(seq);
    this.table.onUserScroll = (atBottom) => {
      if (atBottom !== this.view.autoScroll) this.setAutoScroll(atBottom);
    };
    this.details = new EventDetails(() => ({ store: this.store, typing: this.typing }), (map) => this.actions.declareEventType(map), () => this.table.focus());
    this.filterBox.onChange = (filter, text) => this.filterChanged(filter, text);
    this.columns.onChange = (hidden) => {
      this.view.hiddenColumns = hidden;
      this.applyColumns();
      this.viewChanged();
    };
    this.toolbar = new Toolbar(this.filterBox, this.columns, {
      togglePause: () => this.togglePause(),
      autoScroll: (on) => this.setAutoScroll(on),
      command: (c) => this.actions.command(c),
      createTest: () => this.actions.createTest(this.filterBox.filter?.source ?? ''),
      export: (format, onlyShown) =>
        this.actions.export(format, {
          scope: onlyShown ? 'visible' : 'all',
          filter: this.filterBox.filter?.source ?? '',
          hiddenColumns: [...this.view.hiddenColumns],
          endSeq: this.view.paused ? this.view.pausedAt : null,
        }),
    });
    this.root = h(
      'main',
      { class: 'panel' },
      this.header.el,
      this.rings.el,
      this.chart.el,
      this.header.banners,
      this.toolbar.el,
      this.columns.menu,
      h('div', { class: 'table-wrap' }, this.table.el),
      this.footer.el,
      this.details.el,
    );
    clear(mount);
    mount.append(this.root);
    setInterval(() => this.header.tick(), 1000);
    this.link.start();
  }

  // ───────────────────────────── what the extension sends ─────────────────────────────

  private applySnapshot(s: SnapshotMessage): void {
    this.store = new BatchStore(s.maxEvents, s.maxBytes);
    this.store.restore(s.batches, s.firstSeq);
    this.totalEvents = s.totalEvents;
    this.setRun(s.run);
    this.view = { ...s.view };
    this.rings.reset();
    const points: RatePoint[] = [];
    for (const st of s.stats) {
      const p = this.rings.add(st);
      if (p) points.push(p);
    }
    this.chart.reset(points);
    // Rebuild the table/rows on the new store.
    this.table.setTyping(this.typing);
    this.table.store = this.store;
    this.rows.store = this.store;
    this.applyView();
    this.footer.showStatus('');
  }

  private applyUpdate(u: UpdateMessage): void {
    for (const b of u.batches) this.store.append(b);
    this.totalEvents = u.totalEvents;
    if (u.run) this.setRun(u.run);
    for (const st of u.stats) {
      const p = this.rings.add(st);
      if (p) this.chart.add(p);
    }
  }

  private applyCleared(c: ClearedMessage): void {
    this.store.nextSeq = Math.max(this.store.nextSeq, c.firstSeq);
    this.store.clear();
    this.rows.setFilter(this.filterBox.filter, this.typing);
    if (this.view.pausedAt !== null) this.view.pausedAt = this.store.nextSeq;
    this.details.close();
  }

  private setRun(run: PanelRunInfo): void {
    const typesChanged = JSON.stringify(run.eventTypes) !== JSON.stringify(this.run?.eventTypes) || run.targets.length !== this.run?.targets.length;
    this.run = run;
    if (typesChanged) {
      this.typing = new EventTyping(run.eventTypes, { multiHost: run.targets.length > 1, multiMap: run.eventTypes.length > 1 });
      this.table.setTyping(this.typing);
      this.applyColumns();
      this.rows.setFilter(this.filterBox.filter, this.typing);
      this.header.renderBanners(run);
    }
    this.header.render(run);
  }

  // ───────────────────────────── view state ─────────────────────────────

  /** Persists the view state (this webview and the host's next snapshot) and redraws. */
  private viewChanged(): void {
    this.link.saveView(this.view);
    this.scheduleRender();
  }

  /** Puts the view state (from a snapshot) into the controls. */
  private applyView(): void {
    this.rows.setFilter(this.filterBox.set(this.view.filter), this.typing);
    this.rows.endSeq = this.view.paused ? this.view.pausedAt : null;
    this.showPaused();
    this.toolbar.showAutoScroll(this.view.autoScroll);
    this.applyColumns();
  }

  private filterChanged(filter: CompiledFilter | null, text: string): void {
    this.view.filter = text;
    this.rows.setFilter(filter, this.typing);
    this.viewChanged();
  }

  private togglePause(): void {
    const paused = !this.view.paused;
    this.view.paused = paused;
    this.view.pausedAt = paused ? this.store.nextSeq : null;
    this.rows.endSeq = this.view.pausedAt;
    this.showPaused();
    this.viewChanged();
    this.actions.command(paused ? 'pause' : 'resume', true);
  }

  private showPaused(): void {
    this.toolbar.showPaused(this.view.paused);
    this.root.classList.toggle('paused', this.view.paused);
  }

  private setAutoScroll(on: boolean): void {
    this.view.autoScroll = on;
    this.toolbar.showAutoScroll(on);
    this.viewChanged();
  }

  private applyColumns(): void {
    const hidden = new Set(this.view.hiddenColumns);
    this.table.setColumns(this.typing.columns.filter((c) => !hidden.has(c.name)));
    this.columns.render(this.typing.columns, this.view.hiddenColumns);
  }

  // ───────────────────────────── frame loop ─────────────────────────────

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
    this.footer.showCounts({ shown: this.rows.count(), stored: this.store.size, received: this.totalEvents, paused: this.view.paused, toCheck: this.rows.pending });
    this.rings.render(this.typing);
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
