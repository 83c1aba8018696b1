// HelperSession at the end of a run and on FLUSH, with a fake helper for the orders of events
// the real one cannot be made to produce on demand: frames that arrive well after the exit
// status, a FLUSH answered or refused, verifier logs in chunks.
import { describe, expect, it } from 'vitest';
import { CoreFrameDecoder, type Flushed, type Stats } from '../../../core/protocol/helper';
import { HelperSession } from '../../../core/session/helperSession';
import { parseVerifierSummary } from '../../../core/verifier/log';
import { FakeHelperProcess, fakeHello } from '../../support/fakeHelper';

async function opened(target = 'local'): Promise<{ p: FakeHelperProcess; s: HelperSession }> {
  const p = new FakeHelperProcess();
  const opening = HelperSession.open(p, { target });
  p.say({ kind: 'hello', hello: fakeHello });
  return { p, s: await opening };
}

/** Two 4-byte records, as the kernel lays them out. */
function twoRecords(): Uint8Array {
  const rec = Buffer.alloc(32);
  rec.writeUInt32LE(4, 0);
  rec.writeUInt32LE(4, 16);
  return rec;
}

const finalStats: Stats = {
  timeMs: 1,
  paused: false,
  final: true,
  rings: [{ index: 0, name: 'rb', size: 4096, records: 4, bytes: 16, producerPos: 64, consumerPos: 64, fill: 0, leftRecords: 0, leftBytes: 0 }],
  counters: [{ name: 'dropped', map: '.bss', value: 3 }],
};

describe('HelperSession at stop', () => {
  it('frames that arrive after the exit status (the drain of a full pipe, a slow link) still reach the listeners before it closes', async () => {
    const { p, s } = await opened();
    const loading = s.load({ object: new Uint8Array(8), attachAll: true, attach: [], overrides: {} });
    p.say({ kind: 'loaded', loaded: { maps: [], rings: [{ index: 0, name: 'rb', size: 4096 }], programs: [] } });
    await loading;
    let got = 0;
    s.onBatch((b) => (got += b.count));
    p.say({ kind: 'events', ringIndex: 0, count: 2, timeNs: 1n, records: twoRecords() });
    p.exitBeforeOutputEnds({ code: 0, signal: null });
    await new Promise((r) => setTimeout(r, 800));
    p.say({ kind: 'events', ringIndex: 0, count: 2, timeNs: 2n, records: twoRecords() });
    p.say({ kind: 'stats', stats: finalStats });
    p.say({ kind: 'bye', bye: { reason: 'stop', detached: 1 } });
    p.stdout.end();
    const closed = await s.closed;
    expect(closed.reason).toBe('stopped');
    expect(got).toBe(4);
    expect(s.account).toEqual({ received: [4], lastStats: finalStats, finalStats });
  });

  it('STOP waits for the helper as long as its drain may take (not a fixed 3 s)', async () => {
    const { p, s } = await opened();
    const loading = s.load({ object: new Uint8Array(8), attachAll: true, attach: [], overrides: {}, drainTimeoutMs: 4000 });
    p.say({ kind: 'loaded', loaded: { maps: [], rings: [], programs: [] } });
    await loading;
    const t0 = Date.now();
    const stopping = s.stop();
    await new Promise((r) => setTimeout(r, 3500));
    expect(p.terminated).toBe(false);
    p.say({ kind: 'bye', bye: { reason: 'stop', detached: 1 } });
    p.exit({ code: 0, signal: null });
    expect((await stopping).reason).toBe('stopped');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3500);
  });
});

describe('HelperSession.flush', () => {
  const flushed = (id: number): Flushed => ({ id, complete: true, rings: [{ index: 0, name: 'rb', records: 2, bytes: 8, consumerPos: 32, goalPos: 32, leftRecords: 0, leftBytes: 0 }] });

  it('sends FLUSH with a fresh id and resolves with the matching FLUSHED, after the batches before it', async () => {
    const { p, s } = await opened();
    const sent = new CoreFrameDecoder();
    const requests: number[] = [];
    p.stdin.on('data', (d: Buffer) => {
      for (const m of sent.push(d)) if (m.kind === 'flush') requests.push(m.id);
    });
    let got = 0;
    s.onBatch((b) => (got += b.count));
    const first = s.flush(250);
    const second = s.flush();
    await new Promise((r) => setImmediate(r));
    expect(requests).toHaveLength(2);
    expect(requests[0]).not.toBe(requests[1]);
    p.say({ kind: 'events', ringIndex: 0, count: 2, timeNs: 1n, records: twoRecords() });
    p.say({ kind: 'flushed', flushed: flushed(requests[1]!) });
    p.say({ kind: 'flushed', flushed: flushed(requests[0]!) });
    const [a, b] = await Promise.all([first, second]);
    expect([a.id, b.id]).toEqual(requests);
    expect(got).toBe(2);
  });

  it('rejects when the helper refuses it or goes away first', async () => {
    const { p, s } = await opened('box');
    const refused = s.flush();
    p.say({ kind: 'error', error: { code: 'state', fatal: false, message: 'FLUSH before LOAD', hint: 'send LOAD first and wait for LOADED' } });
    await expect(refused).rejects.toThrow(/box: flush refused: FLUSH before LOAD/);
    const gone = s.flush();
    p.exit({ code: null, signal: null, connectionLost: 'connection to box lost' });
    await expect(gone).rejects.toThrow(/box: helper is gone during flush: connection to box lost/);
  });
});

describe('verifier data', () => {
  it('the VERIFIER_LOG chunks before LOADED become the program\'s log, with the summary read from it', async () => {
    const { p, s } = await opened();
    const loading = s.load({ object: new Uint8Array(8), attachAll: false, attach: [], overrides: {}, verifierLevel: 1 });
    p.say({ kind: 'verifierLog', program: 1, more: true, text: 'func#0 @0\n' });
    p.say({ kind: 'verifierLog', program: 1, more: false, text: 'verification time 713 usec\nstack depth 40+8\nprocessed 102 insns (limit 1000000) max_states_per_insn 2 total_states 10 peak_states 11 mark_read 3\n' });
    const prog = (name: string, verifier?: boolean): Record<string, unknown> => ({
      name,
      section: 'tp/x/y',
      type: 'tracepoint',
      attachTarget: 'x/y',
      attached: false,
      ...(verifier ? { verifier: { level: 1, bytes: 150, truncated: false, log: '' } } : {}),
    });
    p.say({ kind: 'loaded', loaded: { maps: [], rings: [], programs: [prog('a'), prog('b', true)] as never } });
    const loaded = await loading;
    expect(loaded.programs[0]!.verifier).toBeUndefined();
    expect(loaded.programs[1]!.verifier).toEqual({
      level: 1,
      bytes: 150,
      truncated: false,
      log: 'func#0 @0\nverification time 713 usec\nstack depth 40+8\nprocessed 102 insns (limit 1000000) max_states_per_insn 2 total_states 10 peak_states 11 mark_read 3\n',
      insnsProcessed: 102,
      insnLimit: 1000000,
      maxStatesPerInsn: 2,
      totalStates: 10,
      peakStates: 11,
      markRead: 3,
      verificationTimeUs: 713,
      stackDepth: '40+8',
    });
  });

  it('reads the summary of older kernels (fewer fields), and nothing from a log without one', () => {
    expect(parseVerifierSummary('processed 12 insns (limit 131072), stack depth 8\n')).toEqual({ insnsProcessed: 12, insnLimit: 131072 });
    expect(parseVerifierSummary('0: (b7) r0 = 0\n')).toBeUndefined();
  });
});
