// Rate chart (uPlot): events/s and drops/s over the last minutes, downsampled to at
// most ~600 points. Colours come from the VS Code theme variables and are re-read
// when the theme changes (VS Code swaps the body's class).
import uPlot from 'uplot';
import type { RatePoint } from '../../core/panel/rates';
import { h } from './dom';

const WINDOW_S = 10 * 60;
const MAX_POINTS = 600;

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export class RateChart {
  readonly el: HTMLElement;
  private plot: uPlot | undefined;
  private points: RatePoint[] = [];
  private dirty = false;

  constructor() {
    this.el = h('div', { class: 'chart', role: 'img', attrs: { 'aria-label': 'Events per second and drops per second over the last minutes' } });
    new ResizeObserver(() => this.resize()).observe(this.el);
    new MutationObserver(() => this.rebuild()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  add(p: RatePoint): void {
    this.points.push(p);
    const cutoff = p.t - WINDOW_S;
    let drop = 0;
    while (drop < this.points.length && (this.points[drop] as RatePoint).t < cutoff) drop++;
    if (drop) this.points.splice(0, drop);
    this.dirty = true;
  }

  reset(points: RatePoint[] = []): void {
    this.points = points.slice(-MAX_POINTS * 8);
    this.dirty = true;
  }

  /** Called from the render loop; redraws at most when something changed. */
  update(): void {
    if (!this.dirty) return;
    this.dirty = false;
    if (!this.plot) this.rebuild();
    this.plot?.setData(this.data());
  }

  private data(): uPlot.AlignedData {
    const pts = this.points;
    const step = Math.max(1, Math.ceil(pts.length / MAX_POINTS));
    const xs: number[] = [];
    const ev: number[] = [];
    const dr: number[] = [];
    for (let i = 0; i < pts.length; i += step) {
      let e = 0;
      let d = 0;
      let n = 0;
      for (let j = i; j < Math.min(pts.length, i + step); j++) {
        const p = pts[j] as RatePoint;
        e += p.events;
        d += p.drops;
        n++;
      }
      xs.push((pts[Math.min(pts.length - 1, i + step - 1)] as RatePoint).t);
      ev.push(e / n);
      dr.push(d / n);
    }
    return [xs, ev, dr];
  }

  private size(): { width: number; height: number } {
    // uPlot's height is the plot's; its legend goes below it, inside our fixed-height box.
    const legend = this.el.querySelector<HTMLElement>('.u-legend')?.offsetHeight || 28;
    return { width: Math.max(200, this.el.clientWidth), height: Math.max(60, (this.el.clientHeight || 160) - legend) };
  }

  private resize(): void {
    this.plot?.setSize(this.size());
  }

  private rebuild(): void {
    if (!this.el.isConnected) return;
    this.plot?.destroy();
    const fg = cssVar('--vscode-foreground', '#ccc');
    const grid = cssVar('--vscode-widget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.35)'));
    const events = cssVar('--vscode-charts-blue', '#3794ff');
    const drops = cssVar('--vscode-charts-red', '#f14c4c');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    this.plot = new uPlot(
      {
        ...this.size(),
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true, range: (_u, min, max) => [Math.min(min, max - 60), max] /* ≥ 1 min span: with few samples uPlot would spread the axis over years */ }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [axis, { ...axis, size: 60, values: (_u, vals) => vals.map((v) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v))) }],
        series: [
          {},
          { label: 'events/s', stroke: events, width: 1.5, points: { show: false } },
          { label: 'drops/s', stroke: drops, width: 1.5, points: { show: false } },
        ],
      },
      this.data(),
      this.el,
    );
  }
}
