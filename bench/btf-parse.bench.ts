// btf_parse_vmlinux: read + parse the kernel's BTF (ms, median), against bpftool's raw
// dump of the same file in the same run. decode_records: records/s decoding 48-byte
// event records with a compiled decoder, against a bare DataView loop over the same bytes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parseBtf } from '../core/btf/btf';
import { layoutOf } from '../core/btf/layout';
import { compileDecoder, eventToJson } from '../core/decode/decode';
import type { EventLayout } from '../core/btf/layoutTypes';
import type { Benchmark, Metric } from './metric';
import { median, metric, timeMs } from './metric';

const VMLINUX = '/sys/kernel/btf/vmlinux';

/** A typical exec event: 48 bytes. */
const EVENT_48: EventLayout = {
  typeName: 'struct event',
  size: 48,
  origin: 'btf',
  root: {
    kind: 'struct',
    name: 'struct event',
    size: 48,
    fields: [
      { name: 'pid', offset: 0, type: { kind: 'int', size: 4, signed: false } },
      { name: 'ppid', offset: 4, type: { kind: 'int', size: 4, signed: false } },
      { name: 'uid', offset: 8, type: { kind: 'int', size: 4, signed: false } },
      { name: 'ret', offset: 12, type: { kind: 'int', size: 4, signed: true } },
      { name: 'ts', offset: 16, type: { kind: 'int', size: 8, signed: false } },
      { name: 'comm', offset: 24, type: { kind: 'array', count: 16, elemSize: 1, elem: { kind: 'int', size: 1, signed: true, char: true } } },
      { name: 'duration_ns', offset: 40, type: { kind: 'int', size: 8, signed: false } },
    ],
  },
};

function makeRecords(n: number): Uint8Array {
  const buf = new Uint8Array(n * 48);
  const dv = new DataView(buf.buffer);
  const comms = ['bash', 'true', 'sshd', 'node', 'systemd-journal', 'kworker/0:1'].map((c) => new TextEncoder().encode(c));
  for (let i = 0; i < n; i++) {
    const o = i * 48;
    dv.setUint32(o, 1000 + (i % 50000), true);
    dv.setUint32(o + 4, 1, true);
    dv.setUint32(o + 8, i % 3 ? 0 : 1000, true);
    dv.setInt32(o + 12, i % 7 ? 0 : -2, true);
    dv.setBigUint64(o + 16, 6_500_000_000_000n + BigInt(i) * 1000n, true); // bpf_ktime_get_ns(): ns since boot
    buf.set(comms[i % comms.length]!, o + 24);
    dv.setBigUint64(o + 40, BigInt(i * 13), true);
  }
  return buf;
}

export const benchmark: Benchmark = {
  name: 'btf-parse',
  async run(log) {
    const metrics: Metric[] = [];
    if (!fs.existsSync(VMLINUX)) throw new Error(`${VMLINUX} not found: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF)`);

    // --- btf_parse_vmlinux
    const runs = 9;
    const ours: number[] = [];
    let count = 0;
    for (let i = 0; i < runs + 1; i++) {
      const ms = timeMs(() => {
        count = parseBtf(new Uint8Array(fs.readFileSync(VMLINUX))).count;
      });
      if (i > 0) ours.push(ms); // first run warms the JIT
    }
    const bpftool: number[] = [];
    for (let i = 0; i < 5; i++) {
      const devnull = fs.openSync('/dev/null', 'w');
      const t = timeMs(() => {
        const r = spawnSync('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'raw'], { stdio: ['ignore', devnull, 'ignore'] });
        if (r.error || r.status !== 0) throw new Error(`bpftool failed: ${r.error?.message ?? `exit ${r.status}`} (apt-get install bpftool)`);
      });
      fs.closeSync(devnull);
      bpftool.push(t);
    }
    const parseMs = median(ours);
    log(`vmlinux BTF: ${count} types, parse median ${parseMs.toFixed(1)} ms, bpftool raw dump ${median(bpftool).toFixed(1)} ms`);
    metrics.push(metric('btf_parse_vmlinux', parseMs, 'ms', median(bpftool), `read+parse ${count} types (median of ${runs}); baseline: bpftool btf dump format raw > /dev/null`));

    // Extra: what a caller pays beyond the parse.
    const btf = parseBtf(new Uint8Array(fs.readFileSync(VMLINUX)));
    const layoutMs = median([0, 1, 2].map(() => timeMs(() => layoutOf(parseBtf(new Uint8Array(fs.readFileSync(VMLINUX))), 'task_struct')))) ;
    metrics.push(metric('btf_layout_task_struct', layoutMs, 'ms', parseMs, 'read+parse vmlinux BTF + layoutOf(task_struct); baseline: parse alone'));
    const allMs = timeMs(() => void btf.types.length);
    metrics.push(metric('btf_materialize_all', allMs, 'ms', parseMs, 'decode every type object (btf.types, lazy by default); baseline: parse alone'));

    // --- decode_records
    const n = 200_000;
    const records = makeRecords(n);
    const decoder = compileDecoder(EVENT_48);
    const dv = new DataView(records.buffer);
    let sink = 0;
    const decodeRun = (): number =>
      timeMs(() => {
        for (let i = 0; i < n; i++) {
          const e = decoder.decode(records, i * 48, 48);
          if (e.pid === 0) sink++;
        }
      });
    const baselineRun = (): number =>
      timeMs(() => {
        for (let i = 0; i < n; i++) {
          const o = i * 48;
          let s = 0;
          for (let k = 0; k < 48; k += 4) s += dv.getUint32(o + k, true);
          sink += s & 1;
        }
      });
    decodeRun();
    baselineRun();
    const dMs = median([decodeRun(), decodeRun(), decodeRun(), decodeRun(), decodeRun()]);
    const bMs = median([baselineRun(), baselineRun(), baselineRun(), baselineRun(), baselineRun()]);
    const rate = n / (dMs / 1000);
    const base = n / (bMs / 1000);
    metrics.push(metric('decode_records', rate, 'records/s', base, '48-byte records → objects (7 fields incl. u64, char[16]); baseline: DataView getUint32 loop over the same bytes'));

    const jsonRun = (): number =>
      timeMs(() => {
        for (let i = 0; i < n; i++) sink += JSON.stringify(eventToJson(decoder.decode(records, i * 48, 48))).length & 1;
      });
    jsonRun();
    const jMs = median([jsonRun(), jsonRun(), jsonRun()]);
    metrics.push(metric('decode_records_jsonl', n / (jMs / 1000), 'records/s', rate, 'decode + eventToJson + JSON.stringify (the CLI --format jsonl path); baseline: decode alone'));
    log(`decode: ${(rate / 1e6).toFixed(2)} M records/s (baseline ${(base / 1e6).toFixed(2)} M/s), jsonl ${(n / (jMs / 1000) / 1e6).toFixed(2)} M/s (${sink & 1})`);
    return Promise.resolve(metrics);
  },
};
