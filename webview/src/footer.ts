// Under the table: how many events are shown, stored and received, and one status line
// (what a request did, or why it failed with the hint to fix it).
import { RequestFailedError } from '../../core/protocol/panel';
import { fmtCount, h, setText } from './dom';

export class Footer {
  private readonly counts = h('span', { class: 'counts', id: 'counts', attrs: { 'aria-live': 'off' } });
  private readonly status = h('div', { class: 'status', id: 'status', role: 'status' });
  readonly el = h('footer', { class: 'footer' }, this.counts, this.status);

  showCounts(c: { shown: number; stored: number; received: number; paused: boolean; toCheck: number }): void {
    setText(
      this.counts,
      `${fmtCount(c.shown)} shown · ${fmtCount(c.stored)} stored · ${fmtCount(c.received)} received${c.paused ? ' · view paused' : ''}${c.toCheck ? ` · filtering (${fmtCount(c.toCheck)} to check)` : ''}`,
    );
  }

  showStatus(text: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    setText(this.status, text);
    this.status.dataset.level = level;
  }

  showError(err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    const hint = err instanceof RequestFailedError && err.hint ? ` — ${err.hint}` : '';
    this.showStatus(`${msg}${hint}`, 'error');
  }
}
