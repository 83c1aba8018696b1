// Stats samples → rates: events/s and bytes/s per ring, drops/s per host, and the
// total per sample for the rate chart. Pure: the webview's rings view and chart use
// it, and so does anything else that sums a program's drop counters.
import type { PanelStats } from '../protocol/panel';

/** The sum of a stats sample's drop counters (cumulative, as the program counts them). */
export function totalDrops(stats: { counters: ReadonlyArray<{ value: number }> }): number {
  let n = 0;
  for (const c of stats.counters) n += c.value;
  return n;
}

/** One point of the rate chart: all hosts and rings together. */
export interface RatePoint {
  /** Seconds since the epoch. */
  t: number;
  events: number;
  drops: number;
}

export interface RingRate {
  events: number;
  bytes: number;
}

/** Folds stats samples (any order of hosts) into current rates. */
export class RateTracker {
  /** The newest sample of each host. */
  readonly latest = new Map<string, PanelStats>();
  private readonly ringRates = new Map<string, RingRate>();
  private readonly dropRates = new Map<string, number>();

  reset(): void {
    this.latest.clear();
    this.ringRates.clear();
    this.dropRates.clear();
  }

  /** Adds a sample; returns the chart point it makes (rate since the host's previous sample), if any. */
  add(s: PanelStats): RatePoint | undefined {
    const prev = this.latest.get(s.host);
    this.latest.set(s.host, s);
    if (!prev || s.timeMs <= prev.timeMs) return undefined;
    const dt = (s.timeMs - prev.timeMs) / 1000;
    for (const r of s.rings) {
      const p = prev.rings.find((x) => x.name === r.name);
      if (!p) continue;
      this.ringRates.set(ringKey(s.host, r.name), { events: Math.max(0, r.records - p.records) / dt, bytes: Math.max(0, r.bytes - p.bytes) / dt });
    }
    this.dropRates.set(s.host, Math.max(0, totalDrops(s) - totalDrops(prev)) / dt);
    let events = 0;
    for (const r of this.ringRates.values()) events += r.events;
    let drops = 0;
    for (const d of this.dropRates.values()) drops += d;
    return { t: s.timeMs / 1000, events, drops };
  }

  ringRate(host: string, ring: string): RingRate | undefined {
    return this.ringRates.get(ringKey(host, ring));
  }

  dropRate(host: string): number {
    return this.dropRates.get(host) ?? 0;
  }
}

function ringKey(host: string, ring: string): string {
  return `${host}\u0000${ring}`;
}
