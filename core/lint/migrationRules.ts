// The lint findings that carry the migrations as quick fixes (source layer):
//   RB017 perf event array written with bpf_perf_event_output → ring buffer
//   RB018 bcc BPF_RINGBUF_OUTPUT → libbpf map definition
// (bpf_ringbuf_output → reserve/submit is RB009's fix, core/migrate/outputToReserve.ts.)
import { bccRingbufMigrations } from '../migrate/bccRingbuf';
import { perfBufferMigrations } from '../migrate/perfToRingbuf';
import type { SourceModel } from '../source/sourceModel';
import { finding, type Finding } from './finding';
import { kernelBefore } from './mapRules';

export function migrationFindings(model: SourceModel, opts: { pageSize: number; kernelRelease?: string }): Finding[] {
  const file = model.src.file;
  const out: Finding[] = [];
  // A ring buffer is no option on kernels before 5.8 (RB012 says so for existing rings).
  const oldKernel = opts.kernelRelease !== undefined && kernelBefore(opts.kernelRelease, 5, 8);
  if (!oldKernel) {
    for (const m of perfBufferMigrations(model)) {
      const typeField = m.map.fields.find((f) => f.name === 'type');
      const range = typeField ? model.src.range(typeField.valueStart, typeField.valueEnd) : model.src.range(m.map.nameStart, m.map.nameEnd);
      const how = m.fixes.length
        ? ' The quick fix migrates the map and its bpf_perf_event_output() calls (reserve → fill → submit where the record is a simple local).'
        : ` (No automatic migration: ${m.reason ?? 'unsupported shape'}.)`;
      out.push(
        finding('RB017', file, range,
          `'${m.map.name}' is a perf event array written with bpf_perf_event_output(): one buffer per CPU, records copied, loss only visible to user space, order lost across CPUs. A BPF ring buffer (kernel ≥ 5.8) is one buffer for all CPUs in event order, and bpf_ringbuf_reserve() lets the program build the record in place.${how}`,
          `RB017 ${m.map.name}`, m.fixes),
      );
    }
  }
  for (const m of bccRingbufMigrations(model, opts.pageSize)) {
    const how = m.fixes.length ? ' The quick fix writes that definition and turns the .ringbuf_*() calls into bpf_ringbuf_*() helpers.' : ` (No automatic migration: ${m.reason ?? 'unsupported shape'}.)`;
    out.push(
      finding('RB018', file, model.src.range(m.ring.nameStart, m.ring.nameEnd),
        `BPF_RINGBUF_OUTPUT(${m.ring.name}, ${m.ring.pageCntText}) is bcc's macro: a libbpf (CO-RE) program defines the ring as a map in SEC(".maps") with __uint(type, BPF_MAP_TYPE_RINGBUF) and its size in bytes, and writes with bpf_ringbuf_reserve()/bpf_ringbuf_submit() or bpf_ringbuf_output().${how}`,
        `RB018 ${m.ring.name}`, m.fixes),
    );
  }
  return out;
}
