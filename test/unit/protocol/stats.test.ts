import { describe, expect, it } from 'vitest';
import { totalDrops, type Stats } from '../../../core/protocol/helper';

describe('totalDrops', () => {
  it("sums every counter of the program's, across maps; none is zero", () => {
    const stats: Stats = {
      timeMs: 1,
      paused: false,
      rings: [],
      counters: [
        { name: 'dropped', map: '.bss', value: 3 },
        { name: 'lost', map: 'lost_events', value: 4 },
      ],
    };
    expect(totalDrops(stats)).toBe(7);
    expect(totalDrops({ ...stats, counters: [] })).toBe(0);
  });
});
