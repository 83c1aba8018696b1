import { describe, expect, it } from 'vitest';
import {
  CoreFrameDecoder,
  encodeCommand,
  encodeFlush,
  encodeHelperMessage,
  encodeLoad,
  FrameDecoder,
  MAX_FRAME,
  ProtocolError,
  RECORD_BUSY,
  RECORD_DISCARD,
  RecordIndex,
  splitRecords,
  type HelperMessage,
} from '../../../core/protocol/helper';

/** Builds a ring span the way the kernel lays it out: 8-byte header, payload, pad to 8. */
function ringSpan(entries: { data: Uint8Array; discard?: boolean }[]): Uint8Array {
  const size = entries.reduce((s, e) => s + 8 + ((e.data.length + 7) & ~7), 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const e of entries) {
    view.setUint32(off, (e.data.length | (e.discard ? RECORD_DISCARD : 0)) >>> 0, true);
    view.setUint32(off + 4, 0x1234, true);
    out.set(e.data, off + 8);
    off += 8 + ((e.data.length + 7) & ~7);
  }
  return out;
}

const records = ringSpan([
  { data: new TextEncoder().encode('first record') },
  { data: new Uint8Array(5).fill(7), discard: true },
  { data: new Uint8Array(48).map((_, i) => i) },
]);

const everyKind: HelperMessage[] = [
  {
    kind: 'hello',
    hello: {
      protocol: 2,
      helper: '0.1.0',
      kernel: '6.18.44',
      arch: 'x86_64',
      pageSize: 4096,
      btf: true,
      ringbuf: true,
      pid: 1234,
      uid: 0,
      features: { progTypes: { tracepoint: true, raw_tracepoint: true, lsm: false }, attach: { kprobe: false, tp_btf: true }, bpfLoop: true, dynptr: true },
    },
  },
  { kind: 'log', level: 'warn', more: true, text: "libbpf: map 'rb': failed to create — ünïcode" },
  { kind: 'log', level: 'debug', more: false, text: '' },
  {
    kind: 'loaded',
    loaded: {
      maps: [
        { name: 'rb', type: 27, typeName: 'ringbuf', maxEntries: 262144, requestedMaxEntries: 1000, keySize: 0, valueSize: 0, ringIndex: 0 },
        { name: 'drops', type: 6, typeName: 'percpu_array', maxEntries: 1, keySize: 4, valueSize: 8 },
      ],
      rings: [{ index: 0, name: 'rb', size: 262144 }],
      programs: [
        { name: 'handle_exec', section: 'tp/sched/sched_process_exec', type: 'tracepoint', attachTarget: 'sched/sched_process_exec', attached: true },
        {
          name: 'on_kprobe',
          section: 'kprobe/do_nanosleep',
          type: 'kprobe',
          attachTarget: 'do_nanosleep',
          attached: false,
          error: { errno: 2, message: 'kprobe attach failed: No such file or directory', reason: 'kprobes are not available in this kernel' },
        },
        // With verifier data: LOADED says level, size and truncation; the text comes in VERIFIER_LOG frames.
        { name: 'counted', section: 'tp/syscalls/sys_enter_getpid', type: 'tracepoint', attachTarget: 'syscalls/sys_enter_getpid', attached: false, verifier: { level: 2, bytes: 1234, truncated: true, log: '' } },
        // Verifying: a rejected program is reported with its errno and the verifier's words, the others load.
        { name: 'rejected', section: 'tp/sched/sched_process_exit', type: 'tracepoint', attachTarget: 'sched/sched_process_exit', attached: false, verifier: { level: 1, bytes: 90, truncated: false, log: '' }, loaded: false, rejected: { errno: 13, message: "load program 'rejected': Permission denied: R1 invalid mem access 'scalar'" } },
      ],
    },
  },
  { kind: 'verifierLog', program: 2, more: true, text: '0: (b7) r0 = 0\n; return 0; @ ü.bpf.c:9\n' },
  { kind: 'verifierLog', program: 2, more: false, text: 'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n' },
  { kind: 'events', ringIndex: 3, count: 3, timeNs: 1764050000123456789n, records },
  {
    kind: 'stats',
    stats: {
      timeMs: 1764050000123,
      paused: true,
      rings: [{ index: 0, name: 'rb', size: 262144, records: 1200, bytes: 57600, producerPos: 123456, consumerPos: 123000, fill: 0.0017 }],
      counters: [{ name: 'dropped', map: '.bss', value: 12 }],
    },
  },
  {
    kind: 'stats',
    stats: {
      timeMs: 1764050000999,
      paused: false,
      final: true,
      rings: [{ index: 0, name: 'rb', size: 262144, records: 20000, bytes: 960000, producerPos: 1120000, consumerPos: 1119944, fill: 0.0002, leftRecords: 1, leftBytes: 48 }],
      counters: [],
      drain: { frames: 3, sleeps: 10, outputBlockedMs: 2100, runDelayMs: 0 },
    },
  },
  {
    kind: 'flushed',
    flushed: {
      id: 7,
      complete: false,
      rings: [{ index: 0, name: 'rb', records: 100, bytes: 4800, consumerPos: 5600, goalPos: 5656, leftRecords: 1, leftBytes: 48 }],
    },
  },
  {
    kind: 'error',
    error: { code: 'verifier', fatal: true, errno: 13, message: "load program 'x': Permission denied", hint: 'see log', program: 'x', log: '; int x @ a.bpf.c:3\n"quoted"\n' },
  },
  { kind: 'error', error: { code: 'state', fatal: false, message: 'START before LOAD' } },
  { kind: 'bye', bye: { reason: 'signal', signal: 'SIGTERM', detached: 2 } },
  { kind: 'bye', bye: { reason: 'stdin-eof' } },
];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe('helper protocol codec', () => {
  it('round-trips every helper → core message kind', () => {
    for (const m of everyKind) {
      const decoded = new FrameDecoder().push(encodeHelperMessage(m));
      expect(decoded).toEqual([m]);
    }
  });

  it('decodes a stream split at every byte boundary, and byte by byte', () => {
    const stream = concat(everyKind.map(encodeHelperMessage));
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(got).toEqual(everyKind);
      expect(d.idle).toBe(true);
    }
    const d = new FrameDecoder();
    const got: HelperMessage[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
    expect(got).toEqual(everyKind);
  });

  it('returns EVENTS records as a view into the pushed chunk when the frame fits in it', () => {
    const chunk = encodeHelperMessage(everyKind.find((m) => m.kind === 'events')!);
    const [m] = new FrameDecoder().push(chunk);
    expect(m?.kind).toBe('events');
    if (m?.kind === 'events') expect(m.records.buffer).toBe(chunk.buffer);
  });

  it('assembles an EVENTS frame spanning chunks with its records in a buffer of their own exact size', () => {
    const m = everyKind.find((x) => x.kind === 'events')!;
    const stream = encodeHelperMessage(m);
    for (const cut of [1, 5, 6, 12, 21, 22, stream.length - 1]) {
      const d = new FrameDecoder();
      const [got] = [...d.push(stream.slice(0, cut)), ...d.push(stream.slice(cut))];
      expect(got).toEqual(m);
      if (got?.kind !== 'events') throw new Error('not events');
      // Cut inside the length prefix: the kind byte is unknown when the body starts, so no split.
      if (cut > 4) expect([got.records.byteOffset, got.records.buffer.byteLength]).toEqual([0, got.records.length]);
    }
  });

  it('with reuseBuffers, assembles EVENTS records in two buffers used in turn: a flood of frames allocates none', () => {
    // Frames of different sizes, each split across chunks at an odd place; one chunk ends one
    // assembled frame and starts the next, so both buffers are live within one push.
    const frames = [40, 700, 3, 5000, 64, 2].map((n, i): HelperMessage => ({ kind: 'events', ringIndex: i, count: 1, timeNs: BigInt(i), records: ringSpan([{ data: new Uint8Array(n).fill(i + 1) }]) }));
    // The push that completes one assembled frame starts the next: the first stays intact.
    const [a, b] = [frames[1], frames[3]].map((m) => encodeHelperMessage(m!));
    const d2 = new FrameDecoder({ reuseBuffers: true });
    expect(d2.push(a!.subarray(0, 100))).toEqual([]);
    expect(d2.push(concat([a!.subarray(100), b!.subarray(0, 3000)]))).toEqual([frames[1]]);
    expect(d2.push(b!.subarray(3000))).toEqual([frames[3]]);
    const stream = concat(frames.map(encodeHelperMessage));
    const d = new FrameDecoder({ reuseBuffers: true });
    const buffers = new Set<ArrayBufferLike>();
    const got: HelperMessage[] = [];
    for (let off = 0; off < stream.length; off += 997) {
      // Checked as they come: a message is valid until the next push.
      for (const m of d.push(stream.slice(off, off + 997))) {
        if (m.kind !== 'events') throw new Error(m.kind);
        const i = m.ringIndex;
        expect(m).toEqual(frames[i]);
        if (m.records.buffer.byteLength > 997) buffers.add(m.records.buffer);
        got.push(m);
      }
    }
    expect(got).toHaveLength(frames.length);
    expect(buffers.size).toBe(2);
  });

  it('splitRecords into a RecordIndex reuses its arrays', () => {
    const index = new RecordIndex();
    const a = splitRecords(records, 3, index);
    const b = splitRecords(records, 3, index);
    expect([b.count, [...b.offsets], [...b.lengths]]).toEqual([a.count, [...a.offsets], [...a.lengths]]);
    expect([a.offsets.buffer, a.lengths.buffer]).toEqual([b.offsets.buffer, b.lengths.buffer]);
    expect([a.offsets.buffer]).toEqual([index.offsets.buffer]);
  });

  it('splits an EVENTS span into records, skipping discarded entries', () => {
    const s = splitRecords(records, 3);
    expect(s.count).toBe(2);
    expect(new TextDecoder().decode(records.subarray(s.offsets[0], s.offsets[0]! + s.lengths[0]!))).toBe('first record');
    expect(s.lengths[1]).toBe(48);
    expect(records[s.offsets[1]! + 47]).toBe(47);
    // The same span at an odd offset (read byte by byte) splits the same way as an aligned one (read as words).
    const odd = new Uint8Array(records.length + 1);
    odd.set(records, 1);
    const u = splitRecords(odd.subarray(1), 3);
    expect([u.count, [...u.offsets], [...u.lengths]]).toEqual([s.count, [...s.offsets], [...s.lengths]]);
  });

  it('rejects EVENTS spans that lie about their records', () => {
    expect(() => splitRecords(records, 4)).toThrow(ProtocolError);
    expect(() => splitRecords(records.subarray(0, records.length - 8), 3)).toThrow(ProtocolError);
    const busy = records.slice();
    new DataView(busy.buffer).setUint32(0, (12 | RECORD_BUSY) >>> 0, true);
    expect(() => splitRecords(busy, 3)).toThrow(/busy/);
  });

  it('round-trips LOAD, FLUSH and the commands through the core-frame decoder', () => {
    const object = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]);
    const load = { object, attachAll: false, attach: ['handle_exec', 'ünï'], overrides: { rb: 1 << 20, events: 4096 }, logLevel: 2, drainTimeoutMs: 1500 };
    const flush = { id: 0xfffffffe, timeoutMs: 250 };
    const stream = concat([encodeLoad(load), ...(['start', 'pause', 'resume'] as const).map(encodeCommand), encodeFlush(flush), encodeCommand('stop')]);
    const d = new CoreFrameDecoder();
    const got = [...d.push(stream.subarray(0, 7)), ...d.push(stream.subarray(7))];
    expect(got).toEqual([{ kind: 'load', load }, { kind: 'start' }, { kind: 'pause' }, { kind: 'resume' }, { kind: 'flush', ...flush }, { kind: 'stop' }]);
    expect(new CoreFrameDecoder().push(encodeLoad({ object, attachAll: true, attach: [], overrides: {} }))).toEqual([
      { kind: 'load', load: { object, attachAll: true, attach: [], overrides: {}, logLevel: 1 } },
    ]);
    // Verifier data for every program (level 0 = statistics only); load without attaching anything.
    for (const verifierLevel of [0, 1, 2] as const) {
      const v = { object, attachAll: false, attach: [], overrides: {}, verifierLevel };
      expect(new CoreFrameDecoder().push(encodeLoad(v))).toEqual([{ kind: 'load', load: v }]);
    }
    // Verify: each program on its own, only the listed ones (flag bit 2, which implies bit 1).
    const verify = { object, attachAll: false, attach: ['handle_exec'], overrides: {}, verifierLevel: 0 as const, verify: true };
    expect(new CoreFrameDecoder().push(encodeLoad(verify))).toEqual([{ kind: 'load', load: verify }]);
    expect(new DataView(encodeLoad(verify).buffer).getUint32(5, true)).toBe(0b110);
  });

  it('lays LOAD out as PROTOCOL.md says: flags, level, drain timeout, overrides, attach names, object', () => {
    const bytes = encodeLoad({ object: new Uint8Array([9]), attachAll: true, attach: [], overrides: {}, verifierLevel: 2, drainTimeoutMs: 700 });
    const v = new DataView(bytes.buffer);
    expect([v.getUint32(0, true), bytes[4], v.getUint32(5, true), v.getUint32(9, true), v.getUint32(13, true)]).toEqual([1 + 12 + 2 + 2 + 1, 0x81, 0b11, 2, 700]);
    expect([...bytes.subarray(17)]).toEqual([0, 0, 0, 0, 9]);
  });

  it('refuses a drain timeout or FLUSH fields that cannot be encoded', () => {
    expect(() => encodeLoad({ object: new Uint8Array(1), attachAll: true, attach: [], overrides: {}, drainTimeoutMs: 60_001 })).toThrow(/drain timeout.*60000/);
    expect(() => encodeFlush({ id: -1, timeoutMs: 0 })).toThrow(/id/);
  });

  it('refuses overrides that cannot be encoded, with the map name', () => {
    expect(() => encodeLoad({ object: new Uint8Array(1), attachAll: true, attach: [], overrides: { rb: -1 } })).toThrow(/'rb'/);
  });
});

describe('helper protocol fuzz: malformed input is a ProtocolError, never a crash or hang', () => {
  const frameOf = (kind: number, payload: Uint8Array): Uint8Array => {
    const b = new Uint8Array(5 + payload.length);
    new DataView(b.buffer).setUint32(0, 1 + payload.length, true);
    b[4] = kind;
    b.set(payload, 5);
    return b;
  };

  it('rejects length 0 and oversized frames before reading on', () => {
    expect(() => new FrameDecoder().push(new Uint8Array([0, 0, 0, 0, 1]))).toThrow(/length 0/);
    const big = new Uint8Array(5);
    new DataView(big.buffer).setUint32(0, MAX_FRAME + 1, true);
    expect(() => new FrameDecoder().push(big)).toThrow(/exceeds/);
    expect(() => new FrameDecoder().push(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toThrow(ProtocolError);
  });

  it('rejects unknown kinds, bad JSON, wrong field types and short binary headers', () => {
    const bad = [
      frameOf(0x42, new Uint8Array(0)),
      frameOf(0x01, new TextEncoder().encode('{"protocol":1')),
      frameOf(0x01, new TextEncoder().encode('[1,2]')),
      frameOf(0x05, new TextEncoder().encode('{"time_ms":"soon","paused":false}')),
      frameOf(0x06, new Uint8Array([0xc3, 0x28])),
      frameOf(0x04, new Uint8Array(15)),
      frameOf(0x02, new Uint8Array(3)),
    ];
    for (const f of bad) expect(() => new FrameDecoder().push(f)).toThrow(ProtocolError);
    expect(() => new CoreFrameDecoder().push(frameOf(0x81, new Uint8Array(9)))).toThrow(/truncated/);
    expect(() => new CoreFrameDecoder().push(frameOf(0x07, new Uint8Array(0)))).toThrow(/unknown core frame kind/);
  });

  it('keeps failing after an error instead of resynchronising on garbage', () => {
    const d = new FrameDecoder();
    expect(() => d.push(new Uint8Array([0, 0, 0, 0]))).toThrow(ProtocolError);
    expect(() => d.push(encodeHelperMessage({ kind: 'bye', bye: { reason: 'stop' } }))).toThrow(ProtocolError);
  });

  it('survives random garbage and truncations of valid streams', () => {
    let seed = 0x2545f491;
    const rand = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const valid = concat(everyKind.map(encodeHelperMessage));
    for (let round = 0; round < 3000; round++) {
      let input: Uint8Array;
      if (round % 3 === 0) {
        input = new Uint8Array(Math.floor(rand() * 64)).map(() => Math.floor(rand() * 256));
      } else if (round % 3 === 1) {
        input = valid.slice(0, Math.floor(rand() * valid.length));
      } else {
        input = valid.slice();
        for (let k = 0; k < 4; k++) input[Math.floor(rand() * input.length)] = Math.floor(rand() * 256);
      }
      const d = new FrameDecoder();
      try {
        for (let off = 0; off < input.length; off += 7) {
          for (const m of d.push(input.subarray(off, off + 7))) if (m.kind === 'events') splitRecords(m.records, m.count);
        }
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }
  });
});
