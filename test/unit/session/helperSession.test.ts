// HelperSession paths that the real helper cannot be made to take on demand
// (dying before HELLO, writing garbage, a dropped SSH link). FakeHelperProcess plays
// the helper through the real codec; the normal paths run against the real helper
// in test/integration/run.
import { describe, expect, it } from 'vitest';
import { encodeHelperMessage } from '../../../core/protocol/helper';
import { HelperSession, LoadError } from '../../../core/session/helperSession';
import { FakeHelperProcess, fakeHello as hello } from '../../support/fakeHelper';

describe('HelperSession (fake helper for faults)', () => {
  it('a helper that dies before HELLO → clear error with its stderr', async () => {
    const p = new FakeHelperProcess();
    const opening = HelperSession.open(p, { target: 'local' });
    p.stderr.write('ringbuf-helper: cannot raise RLIMIT_MEMLOCK: Operation not permitted\n');
    setTimeout(() => p.exit({ code: 1, signal: null }), 20);
    await expect(opening).rejects.toThrow(/helper did not start: the helper exited before saying hello \(exit code 1\); it said: ringbuf-helper: cannot raise RLIMIT_MEMLOCK/);
  });

  it('no HELLO within the timeout → error, and the process is terminated', async () => {
    const p = new FakeHelperProcess();
    await expect(HelperSession.open(p, { target: 'box', helloTimeoutMs: 50 })).rejects.toThrow(/box: helper did not start: no hello from the helper within 50 ms/);
    expect(p.terminated).toBe(true);
  });

  it('no HELLO within the timeout says so, also when ending the helper makes it exit before open() reports', async () => {
    // Like a process over SSH: terminate() resolves only once the exit and the end of its output arrived.
    class SlowToEnd extends FakeHelperProcess {
      override async terminate(): Promise<void> {
        await super.terminate();
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const p = new SlowToEnd();
    await expect(HelperSession.open(p, { target: 'box', helloTimeoutMs: 50 })).rejects.toThrow(/box: helper did not start: no hello from the helper within 50 ms/);
  });

  it('garbage on stdout closes the session as helper-exited with the protocol error, not a crash', async () => {
    const p = new FakeHelperProcess();
    const opening = HelperSession.open(p, { target: 'local' });
    p.stdout.write(encodeHelperMessage({ kind: 'hello', hello }));
    const s = await opening;
    const closed = new Promise((r) => s.onClosed(r));
    p.stdout.write(Buffer.from([0, 0, 0, 0, 9]));
    expect(await closed).toMatchObject({ reason: 'helper-exited', message: expect.stringMatching(/frame with length 0/) as unknown });
    expect(p.terminated).toBe(true);
  });

  it('a lost SSH link closes the session as connection-lost, and a pending load rejects clearly', async () => {
    const p = new FakeHelperProcess();
    const opening = HelperSession.open(p, { target: 'vm1' });
    p.stdout.write(encodeHelperMessage({ kind: 'hello', hello }));
    const s = await opening;
    const loading = s.load({ object: new Uint8Array(8), attachAll: true, attach: [], overrides: {} });
    p.exit({ code: null, signal: null, connectionLost: 'connection to vm1 lost' });
    await expect(loading).rejects.toThrow(/vm1: helper is gone during load: connection to vm1 lost/);
    expect((await s.closed).reason).toBe('connection-lost');
  });

  it('batches carry host and ring name; LOADED with every program failing → LoadError with attach diagnostics', async () => {
    const p = new FakeHelperProcess();
    const opening = HelperSession.open(p, { target: 'local' });
    p.stdout.write(encodeHelperMessage({ kind: 'hello', hello }));
    const s = await opening;
    const loading = s.load({ object: new Uint8Array(8), attachAll: true, attach: [], overrides: {}, source: { file: 'k.bpf.c', text: 'SEC("kprobe/x")\nint p(void *c) { return 0; }\n' } });
    p.stdout.write(
      encodeHelperMessage({
        kind: 'loaded',
        loaded: { maps: [], rings: [{ index: 0, name: 'rb', size: 4096 }], programs: [{ name: 'p', section: 'kprobe/x', type: 'kprobe', attachTarget: 'x', attached: false, error: { errno: 2, message: 'kprobe attach failed', reason: 'kprobes are not available' } }] },
      }),
    );
    const err = await loading.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).diagnostics[0]).toMatchObject({ file: 'k.bpf.c', line: 1, code: 'attach', message: "cannot attach program 'p' (kprobe/x): kprobes are not available" });
    const batches: Array<{ host: string; map: string; count: number }> = [];
    s.onBatch((b) => batches.push({ host: b.host, map: b.map, count: b.count }));
    // Two records of 4 bytes: headers (len, pg_off) then data padded to 8.
    const rec = Buffer.alloc(32);
    rec.writeUInt32LE(4, 0);
    rec.writeUInt32LE(4, 16);
    p.stdout.write(encodeHelperMessage({ kind: 'events', ringIndex: 0, count: 2, timeNs: 5_000_000n, records: rec }));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([{ host: 'local', map: 'rb', count: 2 }]);
  });
});
