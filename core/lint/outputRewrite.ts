// RB009: bpf_ringbuf_output() of a record built elsewhere. The hint always shows; the
// rewrite to reserve → fill → submit (core/migrate/outputToReserve.ts) is the fix where
// the record is a simple local on the stack.
import { ringbufOutputMigrations } from '../migrate/outputToReserve';
import type { SourceModel } from '../source/sourceModel';
import { finding, type Finding } from './finding';

export function analyzeOutputCalls(model: SourceModel): Finding[] {
  return ringbufOutputMigrations(model).map(({ call, fixes }) =>
    finding('RB009', model.src.file, model.src.range(call.start, call.end),
      `bpf_ringbuf_output() copies a record that was built elsewhere: when the ring is full the work of building it is wasted and the copy fails. bpf_ringbuf_reserve() → fill → bpf_ringbuf_submit() writes the record in place and lets the program return early when reserve returns NULL.${fixes.length ? '' : ' (No automatic rewrite: this function is not the simple struct-on-stack shape.)'}`,
      `RB009 ${call.start}`, fixes),
  );
}
