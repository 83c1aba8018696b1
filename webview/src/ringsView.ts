// Per ring and host: events/s, bytes/s, total, a fill gauge that says "ring full" when
// the next record cannot fit; per host: the program's drop counters and their rate.
import { RateTracker, totalDrops, type RatePoint } from '../../core/panel/rates';
import type { EventTyping } from '../../core/panel/rows';
import type { PanelRingStats, PanelStats } from '../../core/protocol/panel';
import { clear, fmtBytes, fmtCount, fmtRate, h } from './dom';

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

export class RingsView {
  readonly el = h('section', { class: 'rings', attrs: { 'aria-label': 'Rings: rates, fill and drops' } });
  private readonly rates = new RateTracker();
  private dirty = true;

  reset(): void {
    this.rates.reset();
    this.dirty = true;
  }

  /** Folds in a stats sample; returns the rate chart's point for it, if it makes one. */
  add(stats: PanelStats): RatePoint | undefined {
    this.dirty = true;
    return this.rates.add(stats);
  }

  /** Redraws when a sample arrived since the last time (called from the frame loop). */
  render(typing: EventTyping): void {
    if (!this.dirty) return;
    this.dirty = false;
    clear(this.el);
    const latest = this.rates.latest;
    if (latest.size === 0) {
      this.el.append(h('div', { class: 'dim' }, 'No ring statistics yet.'));
      return;
    }
    const where = (host: string) => (latest.size > 1 ? h('span', { class: 'dim' }, ` @ ${host}`) : null);
    for (const [host, st] of latest) {
      for (const r of st.rings) this.el.append(this.ring(host, st, r, typing.recordSlot(r.name), where(host)));
      this.el.append(this.drops(host, st, typing, where(host)));
    }
  }

  private ring(host: string, st: PanelStats, r: PanelRingStats, slot: number | undefined, where: HTMLElement | null): HTMLElement {
    const rate = this.rates.ringRate(host, r.name);
    const pct = Math.max(0, Math.min(100, r.fill * 100));
    const full = ringFull(r, slot);
    const bar = h('div', { class: 'bar' });
    bar.style.width = `${pct.toFixed(1)}%`;
    const gauge = h('div', {
      class: `gauge${full ? ' full' : pct >= 75 ? ' high' : ''}`,
      role: 'meter',
      title: `${fmtBytes(r.producerPos - r.consumerPos)} of ${fmtBytes(r.size)} waiting to be read`,
      attrs: { 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': pct.toFixed(0), 'aria-label': `ring ${r.name} fill` },
    }, bar);
    return h('div', { class: `ring${full ? ' is-full' : ''}`, attrs: { 'data-ring': r.name, 'data-host': host } },
      h('div', { class: 'ring-name' }, r.name, where, st.paused ? h('span', { class: 'dim' }, ' (paused)') : null),
      h('div', { class: 'ring-rates' }, h('span', { class: 'events-rate' }, `${fmtRate(rate?.events ?? 0)} ev/s`), ' · ', h('span', {}, `${fmtBytes(rate?.bytes ?? 0)}/s`), ' · ', h('span', { class: 'dim' }, `${fmtCount(r.records)} total`)),
      h('div', { class: 'ring-fill' }, gauge, h('span', { class: 'fill-text' }, full ? 'ring full' : `${pct.toFixed(pct < 10 ? 1 : 0)}% full`)),
    );
  }

  private drops(host: string, st: PanelStats, typing: EventTyping, where: HTMLElement | null): HTMLElement {
    const total = totalDrops(st);
    const anyFull = st.rings.some((r) => ringFull(r, typing.recordSlot(r.name)));
    return h('div', { class: `drops${total > 0 ? ' has-drops' : ''}`, attrs: { 'data-host': host } },
      h('div', { class: 'ring-name' }, 'drops', where),
      st.counters.length
        ? h('div', { class: 'drop-total' }, fmtCount(total), h('span', { class: 'dim' }, ` (${fmtRate(this.rates.dropRate(host))}/s)`))
        : h('div', { class: 'dim', title: 'Add a global counter named like dropped/lost and increment it when bpf_ringbuf_reserve fails' }, 'no drop counter in the program'),
      ...st.counters.map((c) => h('div', { class: 'dim counter' }, `${c.name} (${c.map}) = ${fmtCount(c.value)}`)),
      anyFull ? h('div', { class: 'warn' }, 'ring full — new records are being dropped') : null,
    );
  }
}
