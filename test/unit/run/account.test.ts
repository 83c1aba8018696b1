// The books at the end of a run: what the helper's final STATS and the run's own counts add up
// to, and the line that says it (the CLI's last stderr line, the panel's end message).
import { describe, expect, it } from 'vitest';
import type { Stats } from '../../../core/protocol/helper';
import { describeEnd, targetAccount, totalAccount } from '../../../core/run/account';
import type { SessionClosed } from '../../../core/session/helperSession';

const stats = (extra: Partial<Stats> & { left?: number } = {}): Stats => ({
  timeMs: 1,
  paused: false,
  rings: [
    { index: 0, name: 'events', size: 1 << 20, records: 900, bytes: 43200, producerPos: 0, consumerPos: 0, fill: 0, ...(extra.final ? { leftRecords: extra.left ?? 0, leftBytes: (extra.left ?? 0) * 48 } : {}) },
    { index: 1, name: 'other', size: 4096, records: 100, bytes: 800, producerPos: 0, consumerPos: 0, fill: 0, ...(extra.final ? { leftRecords: 0, leftBytes: 0 } : {}) },
  ],
  counters: [
    { name: 'dropped', map: '.bss', value: 7 },
    { name: 'lost_records', map: 'lost_records', value: 5 },
  ],
  ...extra,
});

const stopped: SessionClosed = { reason: 'stopped', message: 'stopped; 1 program(s) detached' };

describe('the books of a run', () => {
  it('a target with its final STATS: exact numbers, drop counters summed, left per ring', () => {
    const fin = stats({ final: true, left: 12 });
    const a = targetAccount('local', { received: [900, 100], lastStats: fin, finalStats: fin }, { delivered: 990, notDeliveredAfterCount: 10 });
    expect(a).toEqual({
      target: 'local',
      final: true,
      delivered: 990,
      notDeliveredAfterCount: 10,
      droppedByProgram: 12,
      leftInRing: 12,
      leftInRingBytes: 576,
      rings: [
        { name: 'events', shipped: 900, leftInRing: 12, leftInRingBytes: 576 },
        { name: 'other', shipped: 100, leftInRing: 0, leftInRingBytes: 0 },
      ],
    });
  });

  it('a target without one (the helper died): the last drops seen, what arrived, left unknown', () => {
    const a = targetAccount('vm', { received: [640, 3], lastStats: stats(), finalStats: undefined }, { delivered: 643, notDeliveredAfterCount: 0 });
    expect(a).toMatchObject({ final: false, droppedByProgram: 12, leftInRing: null, leftInRingBytes: null });
    expect(a.rings.map((r) => r.shipped)).toEqual([640, 3]);
    expect(totalAccount([a, targetAccount('b', { received: [], lastStats: undefined, finalStats: stats({ final: true }) }, { delivered: 1, notDeliveredAfterCount: 0 })]).leftInRing).toBeNull();
  });

  it('says why and the books in one line, never silent about what did not arrive', () => {
    const books = { delivered: 20000, notDeliveredAfterCount: 0, droppedByProgram: 0, leftInRing: 0, leftInRingBytes: 0 };
    expect(describeEnd('stopped', books, [{ target: 'local', closed: stopped }], undefined)).toBe('20000 events delivered (stopped), 0 left in the ring, 0 dropped by the program');
    expect(describeEnd('aborted', { ...books, delivered: 1 }, [], undefined)).toBe('1 event delivered (interrupted), 0 left in the ring, 0 dropped by the program');
    expect(describeEnd('duration', { ...books, leftInRing: 3, droppedByProgram: 9 }, [], 1500)).toBe('20000 events delivered in 1.5 s, 3 left in the ring, 9 dropped by the program');
    expect(describeEnd('count', { ...books, delivered: 10, notDeliveredAfterCount: 4 }, [], undefined)).toBe(
      '10 events delivered (count reached), 4 more arrived after the count (not delivered), 0 left in the ring, 0 dropped by the program',
    );
    const lost: SessionClosed = { reason: 'connection-lost', message: 'connection to far lost (keepalive)' };
    expect(describeEnd('connection-lost', { ...books, delivered: 5, leftInRing: null }, [{ target: 'far', closed: lost }], undefined)).toBe(
      'far: connection to far lost (keepalive); 5 events delivered, unknown how many left in the ring (the helper could not send its final count), 0 dropped by the program; the helper there detaches the program by itself (reconnect and run again)',
    );
  });
});
