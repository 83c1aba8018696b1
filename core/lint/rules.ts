// The rule table: one row per lint rule. Codes are stable (other tools, CI scripts
// and the extension's code actions refer to them); never renumber, only append.
import type { Severity } from '../diagnostics';

export interface LintRule {
  code: string;
  severity: Severity;
  title: string;
  /** Which layer(s) can report it. The object layer sees macro-expanded values. */
  layers: ReadonlyArray<'source' | 'object'>;
  /**
   * When both layers report the same finding: 'object' keeps the object layer's
   * diagnostic (authoritative value; it still takes position and fix from the
   * source), 'source' keeps the source layer's (call-site rules).
   */
  merge: 'object' | 'source';
}

export const RULE_TABLE = [
  { code: 'RB001', severity: 'error', title: 'Ringbuf map has no or zero max_entries', layers: ['source', 'object'], merge: 'object' },
  { code: 'RB002', severity: 'warning', title: 'Ringbuf size is not a power of two multiple of the page size', layers: ['source', 'object'], merge: 'object' },
  { code: 'RB003', severity: 'error', title: 'Key or value size on a ringbuf map', layers: ['source', 'object'], merge: 'object' },
  { code: 'RB004', severity: 'information', title: 'Event type declared on the ringbuf map', layers: ['source', 'object'], merge: 'object' },
  { code: 'RB005', severity: 'warning', title: 'bcc BPF_RINGBUF_OUTPUT page count is not a power of two', layers: ['source'], merge: 'source' },
  { code: 'RB006', severity: 'error', title: 'Perf-buffer helper on a ringbuf map, or ringbuf helper on a perf event array', layers: ['source', 'object'], merge: 'source' },
  { code: 'RB007', severity: 'error', title: 'Reserved record used without a NULL check', layers: ['source'], merge: 'source' },
  { code: 'RB008', severity: 'error', title: 'Reserved record not submitted or discarded on some path', layers: ['source'], merge: 'source' },
  { code: 'RB009', severity: 'information', title: 'bpf_ringbuf_output copies a record that reserve/submit could build in place', layers: ['source'], merge: 'source' },
  { code: 'RB010', severity: 'error', title: 'Record larger than the ring', layers: ['source', 'object'], merge: 'object' },
  { code: 'RB011', severity: 'warning', title: 'Ring holds fewer than 8 records', layers: ['source', 'object'], merge: 'object' },
  { code: 'RB012', severity: 'error', title: 'Ring buffer feature not available on the target kernel', layers: ['source', 'object'], merge: 'object' },
  { code: 'RB013', severity: 'hint', title: 'BPF_RB_FORCE_WAKEUP on every record', layers: ['source'], merge: 'source' },
  { code: 'RB014', severity: 'warning', title: 'Ringbuf map is never written', layers: ['source', 'object'], merge: 'object' },
  { code: 'RB015', severity: 'error', title: 'Submit or discard of a pointer that did not come from bpf_ringbuf_reserve', layers: ['source'], merge: 'source' },
  { code: 'RB016', severity: 'error', title: 'bpf_ringbuf_reserve with non-zero flags always fails', layers: ['source'], merge: 'source' },
  { code: 'RB017', severity: 'information', title: 'Perf event array written with bpf_perf_event_output: migrate to a BPF ring buffer', layers: ['source'], merge: 'source' },
  { code: 'RB018', severity: 'information', title: 'bcc BPF_RINGBUF_OUTPUT: migrate to a libbpf ring buffer map definition', layers: ['source'], merge: 'source' },
  { code: 'RB019', severity: 'warning', title: 'A lint check failed on this file (a bug in Ringbuf Studio)', layers: ['source'], merge: 'source' },
] as const satisfies ReadonlyArray<LintRule>;

export type RuleCode = (typeof RULE_TABLE)[number]['code'];

/** The public list (the extension shows it; docs/lint-rules.md describes each). */
export const RULES: ReadonlyArray<{ code: string; severity: Severity; title: string }> = RULE_TABLE.map(
  ({ code, severity, title }) => ({ code, severity, title }),
);

export function ruleOf(code: RuleCode): LintRule {
  const rule = RULE_TABLE.find((r) => r.code === code);
  if (!rule) throw new Error(`unknown lint rule ${code}`);
  return rule;
}
