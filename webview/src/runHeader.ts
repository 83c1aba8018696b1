// What runs: program, targets, state and how long, maps (with their effective sizes),
// programs (attached or why not), and a banner for each ring whose records have no type.
import type { PanelRunInfo } from '../../core/protocol/panel';
import { append, ce, clear, fmtCount, fmtDuration, h, setText } from './dom';

export class RunHeader {
  readonly el = h('header', { class: 'run', attrs: { 'aria-label': 'Run' } });
  readonly banners = h('div', { class: 'banners' });
  private readonly elapsed = h('span', { class: 'elapsed', id: 'elapsed' });
  private readonly stateBadge = h('span', { class: 'state', id: 'state' });
  private run: PanelRunInfo | undefined;

  /** `declare(map)`: the "Declare the event type…" button of a ring shown as hex. */
  constructor(private readonly declare: (map: string) => void) {}

  render(run: PanelRunInfo): void {
    this.run = run;
    clear(this.el);
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
      this.el,
      h('div', { class: 'title' }, h('strong', { id: 'program' }, run.program), h('span', { class: 'dim' }, ' on '), h('span', { id: 'targets' }, run.targets.join(', ')), ' ', this.stateBadge, ' ', this.elapsed),
      run.stateMessage ? h('div', { class: 'state-message' }, run.stateMessage) : null,
      h('div', { class: 'lists' }, h('ul', { class: 'maps', attrs: { 'aria-label': 'Maps' } }, ...maps), h('ul', { class: 'programs', attrs: { 'aria-label': 'Programs' } }, ...progs)),
    );
    this.tick();
  }

  /** The banners change only with the event types. */
  renderBanners(run: PanelRunInfo): void {
    clear(this.banners);
    for (const et of run.eventTypes) {
      if (et.layout) continue;
      const b = ce('vscode-button', { secondary: '', class: 'declare', 'data-map': et.map }, 'Declare the event type…');
      b.addEventListener('click', () => this.declare(et.map));
      this.banners.append(
        h('div', { class: 'banner', role: 'note' }, `Ring ${et.map}: records have no event type${et.reason ? ` (${et.reason})` : ''} — shown as hex. `, b),
      );
    }
  }

  /** Every second: the run's age, frozen once it ended. */
  tick(): void {
    if (!this.run) return;
    const ended = this.run.state === 'stopped' || this.run.state === 'disconnected' || this.run.state === 'error';
    if (!ended) setText(this.elapsed, fmtDuration(Date.now() - this.run.startTimeMs));
  }
}
