// Stats samples → the rates the panel shows: per ring events/s and bytes/s, per host
// drops/s, and one chart point per sample summing every host and ring.
import { describe, expect, it } from 'vitest';
import { RateTracker, totalDrops } from '../../../core/panel/rates';
import type { PanelStats } from '../../../core/protocol/panel';

function sample(host: string, timeMs: number, records: number, bytes: number, dropped: number): PanelStats {
  return {
    host,
    timeMs,
    paused: false,
    rings: [{ index: 0, name: 'events', size: 262144, records, bytes, producerPos: bytes, consumerPos: bytes, fill: 0 }],
    counters: [{ name: 'dropped', map: '.bss', value: dropped }, { name: 'lost', map: '.bss', value: 1 }],
  };
}

describe('totalDrops', () => {
  it('sums every drop counter of a sample', () => {
    expect(totalDrops(sample('a', 0, 0, 0, 41))).toBe(42);
    expect(totalDrops({ counters: [] })).toBe(0);
  });
});

describe('RateTracker', () => {
  it('a host\'s first sample makes no point; the next one makes rates over the time between them', () => {
    const t = new RateTracker();
    expect(t.add(sample('local', 1000, 100, 6400, 0))).toBeUndefined();
    expect(t.add(sample('local', 3000, 2100, 134400, 10))).toEqual({ t: 3, events: 1000, drops: 5 });
    expect(t.ringRate('local', 'events')).toEqual({ events: 1000, bytes: 64000 });
    expect(t.dropRate('local')).toBe(5);
  });

  it('sums hosts into one chart point and keeps the newest sample per host', () => {
    const t = new RateTracker();
    t.add(sample('a', 0, 0, 0, 0));
    t.add(sample('b', 0, 0, 0, 0));
    t.add(sample('a', 1000, 500, 0, 0));
    expect(t.add(sample('b', 1000, 300, 0, 7))).toEqual({ t: 1, events: 800, drops: 7 });
    expect([...t.latest.keys()]).toEqual(['a', 'b']);
  });

  it('ignores samples that do not move forward in time, and counters that go back (a restarted program)', () => {
    const t = new RateTracker();
    t.add(sample('a', 1000, 500, 0, 50));
    expect(t.add(sample('a', 1000, 900, 0, 60))).toBeUndefined();
    expect(t.add(sample('a', 2000, 100, 0, 0))).toEqual({ t: 2, events: 0, drops: 0 });
  });

  it('reset forgets everything', () => {
    const t = new RateTracker();
    t.add(sample('a', 0, 0, 0, 0));
    t.add(sample('a', 1000, 10, 0, 0));
    t.reset();
    expect(t.latest.size).toBe(0);
    expect(t.ringRate('a', 'events')).toBeUndefined();
    expect(t.dropRate('a')).toBe(0);
  });
});
