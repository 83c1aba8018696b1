// A small virtualized event table: only the rows in view exist in the DOM (a pool
// of row elements reused every frame), records are decoded only when their row is
// drawn. Rows are fixed-height; past ~15 M px the scroll position maps to rows by
// ratio, so millions of rows still scroll. Keyboard: ↑/↓/PgUp/PgDn/Home/End move
// the focused row, Enter/Space open its details.
import type { EventTyping, TableColumn } from '../../core/panel/rows';
import type { BatchStore } from '../../core/panel/store';
import { clear, h, setText } from './dom';

export const ROW_HEIGHT = 22;
const MAX_SCROLL_PX = 15_000_000;

export interface RowSource {
  /** Rows the view shows now. */
  count(): number;
  /** Event seq of a row (0 = oldest shown). */
  seqAt(row: number): number;
}

function columnWidth(c: TableColumn): number {
  switch (c.kind) {
    case 'time':
      return 116; // "HH:MM:SS.mmm" in the editor font with cell padding
    case 'host':
      return 110;
    case 'map':
      return 100;
    case 'raw':
      return 360;
    case 'field': {
      const col = [...(c.byMap?.values() ?? [])][0];
      if (!col) return 100;
      if (col.kind === 'string') return 170;
      if (col.kind === 'array' || col.kind === 'opaque') return 130;
      if (col.kind === 'enum') return 120;
      if (col.kind === 'ptr') return 140;
      return Math.max(70, Math.min(160, c.name.length * 8 + 24));
    }
  }
}

interface Slot {
  el: HTMLElement;
  cells: HTMLElement[];
  seq: number;
  version: number;
}

export class VirtualTable {
  readonly el: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly layer: HTMLElement;
  private readonly header: HTMLElement;
  private readonly body: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly empty: HTMLElement;
  private columns: TableColumn[] = [];
  private slots: Slot[] = [];
  private version = 0;
  private rowCount = 0;
  private topRow = 0;
  private viewportHeight = 0;
  private programmaticScroll = false;
  private focused = -1;
  private source: RowSource | undefined;
  /** Called when the person scrolls away from (false) or back to (true) the newest row. */
  onUserScroll: ((atBottom: boolean) => void) | undefined;
  onOpen: ((seq: number) => void) | undefined;
  onNeedsRender: (() => void) | undefined;

  constructor(
    public store: BatchStore,
    private typing: EventTyping,
  ) {
    this.header = h('div', { class: 'thead', role: 'row' });
    this.body = h('div', { class: 'tbody', role: 'rowgroup' });
    this.layer = h('div', { class: 'layer' }, this.header, this.body);
    this.spacer = h('div', { class: 'spacer' });
    this.empty = h('div', { class: 'empty' }, 'No events yet.');
    this.viewport = h('div', {
      class: 'viewport',
      role: 'grid',
      tabIndex: 0,
      attrs: { 'aria-label': 'Events (arrow keys move, Enter opens details)', 'aria-rowcount': '0' },
    }, this.layer, this.spacer);
    this.el = h('div', { class: 'table' }, this.viewport, this.empty);
    this.viewport.addEventListener('scroll', () => this.handleScroll());
    this.viewport.addEventListener('keydown', (e) => this.handleKey(e));
    this.body.addEventListener('click', (e) => {
      const rowEl = (e.target as HTMLElement | null)?.closest('.row');
      const slot = this.slots.find((s) => s.el === rowEl);
      if (!slot || slot.seq < 0) return;
      this.focused = this.topRow + this.slots.indexOf(slot);
      this.viewport.focus();
      this.onOpen?.(slot.seq);
      this.onNeedsRender?.();
    });
    new ResizeObserver(() => {
      this.viewportHeight = this.viewport.clientHeight;
      this.onNeedsRender?.();
    }).observe(this.viewport);
  }

  setTyping(typing: EventTyping): void {
    this.typing = typing;
  }

  setColumns(columns: TableColumn[]): void {
    this.columns = columns;
    this.version++;
    clear(this.header);
    clear(this.body);
    this.slots = [];
    let total = 0;
    columns.forEach((c, i) => {
      const w = columnWidth(c);
      total += w;
      const cell = h('div', { class: `th k-${c.kind}`, role: 'columnheader', title: c.name, attrs: { 'aria-colindex': String(i + 1) } }, c.label);
      cell.style.width = `${w}px`;
      this.header.append(cell);
    });
    this.layer.style.minWidth = `${total}px`;
  }

  private ensureSlots(n: number): void {
    while (this.slots.length < n) {
      const cells = this.columns.map((c, i) => {
        const cell = h('div', { class: `td k-${c.kind}`, role: 'gridcell', attrs: { 'aria-colindex': String(i + 1) } });
        cell.style.width = `${columnWidth(c)}px`;
        return cell;
      });
      const el = h('div', { class: 'row', role: 'row', id: `row-slot-${this.slots.length}` }, ...cells);
      this.body.append(el);
      this.slots.push({ el, cells, seq: -1, version: -1 });
    }
    for (let i = 0; i < this.slots.length; i++) (this.slots[i] as Slot).el.hidden = i >= n;
  }

  get visibleRows(): number {
    return Math.max(1, Math.floor((this.viewportHeight - ROW_HEIGHT) / ROW_HEIGHT));
  }

  private get maxScroll(): number {
    return Math.max(0, this.viewport.scrollHeight - this.viewport.clientHeight);
  }

  private handleScroll(): void {
    if (this.programmaticScroll) {
      this.programmaticScroll = false;
      return;
    }
    const atBottom = this.viewport.scrollTop >= this.maxScroll - 2;
    this.onUserScroll?.(atBottom);
    this.onNeedsRender?.();
  }

  private handleKey(e: KeyboardEvent): void {
    const n = this.rowCount;
    if (n === 0) return;
    let f = this.focused < 0 ? Math.min(n - 1, this.topRow) : this.focused;
    switch (e.key) {
      case 'ArrowDown':
        f++;
        break;
      case 'ArrowUp':
        f--;
        break;
      case 'PageDown':
        f += this.visibleRows;
        break;
      case 'PageUp':
        f -= this.visibleRows;
        break;
      case 'Home':
        f = 0;
        break;
      case 'End':
        f = n - 1;
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        if (this.source && f >= 0 && f < n) this.onOpen?.(this.source.seqAt(f));
        this.focused = f;
        return;
      default:
        return;
    }
    e.preventDefault();
    this.focused = Math.max(0, Math.min(n - 1, f));
    const vis = this.visibleRows;
    if (this.focused < this.topRow) this.scrollToRow(this.focused);
    else if (this.focused >= this.topRow + vis) this.scrollToRow(this.focused - vis + 1);
    this.onUserScroll?.(this.focused === n - 1);
    this.onNeedsRender?.();
  }

  private scrollToRow(top: number): void {
    const span = Math.max(1, this.rowCount - this.visibleRows);
    this.viewport.scrollTop = (Math.max(0, Math.min(span, top)) / span) * this.maxScroll;
  }

  /** Draws the rows in view; returns the newest seq drawn (or -1). */
  render(source: RowSource, autoScroll: boolean): number {
    this.source = source;
    const n = source.count();
    this.rowCount = n;
    if (!this.viewportHeight) this.viewportHeight = this.viewport.clientHeight;
    const vis = this.visibleRows;
    const virtual = Math.min(n * ROW_HEIGHT + ROW_HEIGHT, MAX_SCROLL_PX);
    const spacerHeight = Math.max(0, virtual - this.viewportHeight);
    this.spacer.style.height = `${spacerHeight}px`;
    this.viewport.setAttribute('aria-rowcount', String(n + 1));
    this.empty.hidden = n > 0;
    const span = Math.max(0, n - vis);
    if (autoScroll) {
      this.topRow = span;
      const target = this.maxScroll;
      if (Math.abs(this.viewport.scrollTop - target) > 1) {
        this.programmaticScroll = true;
        this.viewport.scrollTop = target;
      }
    } else {
      const ms = this.maxScroll;
      this.topRow = ms > 0 ? Math.round((this.viewport.scrollTop / ms) * span) : 0;
    }
    const rows = Math.min(vis, n - this.topRow);
    this.ensureSlots(Math.max(0, rows));
    let newest = -1;
    for (let i = 0; i < rows; i++) {
      const row = this.topRow + i;
      const seq = source.seqAt(row);
      const slot = this.slots[i] as Slot;
      slot.el.setAttribute('aria-rowindex', String(row + 2));
      const isFocused = row === this.focused;
      slot.el.classList.toggle('focused', isFocused);
      slot.el.setAttribute('aria-selected', isFocused ? 'true' : 'false');
      if (isFocused) this.viewport.setAttribute('aria-activedescendant', slot.el.id);
      if (seq > newest) newest = seq;
      if (slot.seq === seq && slot.version === this.version) continue;
      slot.seq = seq;
      slot.version = this.version;
      this.fill(slot, seq);
    }
    return newest;
  }

  private fill(slot: Slot, seq: number): void {
    const ref = this.store.locate(seq);
    slot.el.dataset.seq = String(seq);
    if (!ref) {
      slot.cells.forEach((c, i) => setText(c, i === 0 ? '(evicted)' : ''));
      return;
    }
    const decoded = this.typing.decode(ref.batch, ref.index);
    slot.el.classList.toggle('untyped', decoded === null);
    for (let i = 0; i < this.columns.length; i++) {
      const cell = slot.cells[i] as HTMLElement;
      const { text, title } = this.typing.cell(this.columns[i] as TableColumn, ref.batch, ref.index, decoded);
      setText(cell, text);
      const t = title ?? (text.length > 18 ? text : '');
      if (cell.title !== t) cell.title = t;
    }
  }

  focus(): void {
    this.viewport.focus();
  }
}
