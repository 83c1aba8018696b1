// The details of one event: every field with its hex, or why it has no type (with the
// "Declare the event type…" button), and the raw bytes. Escape or Close closes it.
import { formatTime, hexDump } from '../../core/panel/rows';
import type { EventTyping } from '../../core/panel/rows';
import type { BatchStore } from '../../core/panel/store';
import { append, ce, clear, h } from './dom';

export class EventDetails {
  readonly el = h('section', { class: 'details', id: 'details', attrs: { 'aria-label': 'Event details' } });

  /**
   * `source()`: the store and typing in force; `declare(map)`: the declare button;
   * `closed()`: after the person closed it (focus goes back to the table).
   */
  constructor(
    private readonly source: () => { store: BatchStore; typing: EventTyping },
    private readonly declare: (map: string) => void,
    private readonly closed: () => void,
  ) {
    this.el.hidden = true;
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.el.hidden) {
        this.close();
        this.closed();
      }
    });
  }

  open(seq: number): void {
    const { store, typing } = this.source();
    const ref = store.locate(seq);
    clear(this.el);
    this.el.hidden = false;
    const close = ce('vscode-button', { id: 'details-close', secondary: '', title: 'Close details (Escape)' }, 'Close');
    close.addEventListener('click', () => {
      this.close();
      this.closed();
    });
    if (!ref) {
      append(this.el, h('p', {}, `Event #${seq} is no longer stored.`), close);
      return;
    }
    const { batch, index } = ref;
    const title = h('h2', {}, `Event #${seq} — ${batch.map} on ${batch.host} — ${formatTime(batch.timeMs)}`);
    const len = batch.lengths[index] ?? 0;
    const raw = h('pre', { class: 'hexdump', attrs: { 'aria-label': 'Raw bytes' } }, hexDump(batch.data, batch.offsets[index] ?? 0, len));
    append(this.el, h('div', { class: 'details-head' }, title, close), this.fields(typing, batch, index), h('h3', {}, `Raw (${len} bytes)`), raw);
  }

  close(): void {
    this.el.hidden = true;
    clear(this.el);
  }

  private fields(typing: EventTyping, batch: Parameters<EventTyping['decode']>[0], index: number): HTMLElement {
    const fields = h('dl', { class: 'fields' });
    const decoded = typing.decode(batch, index);
    if (!decoded) {
      const reason = typing.untypedReason(batch.map) ?? '';
      const declare = ce('vscode-button', { class: 'declare' }, 'Declare the event type…');
      declare.addEventListener('click', () => this.declare(batch.map));
      append(fields, h('dt', {}, 'type'), h('dd', {}, `unknown — ${reason}`, ' ', declare));
      return fields;
    }
    for (const c of typing.columns) {
      if (c.kind !== 'field') continue;
      const col = c.byMap?.get(batch.map);
      if (!col) continue;
      const v = col.get(decoded);
      const hex = col.hex?.(v);
      append(fields, h('dt', {}, c.name), h('dd', hex ? { title: hex } : {}, col.format(v), hex ? h('span', { class: 'hex' }, `  ${hex}`) : null));
    }
    if (decoded.$truncated) append(fields, h('dt', {}, '(truncated)'), h('dd', {}, `record has ${decoded.$truncated.have} of ${decoded.$truncated.need} bytes`));
    return fields;
  }
}
