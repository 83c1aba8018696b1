// The one line of a verifier log that tools read without parsing the rest (BPF_LOG_STATS):
//   processed 102 insns (limit 1000000) max_states_per_insn 2 total_states 10 peak_states 11 mark_read 0
//   verification time 713 usec
// Older kernels print fewer fields; absent ones stay undefined. The deep reading of a log is
// core/verifier's business.
import type { VerifierSummary } from '../protocol/helper';

const FIELDS: ReadonlyArray<[RegExp, keyof VerifierSummary]> = [
  [/\(limit (\d+)\)/, 'insnLimit'],
  [/max_states_per_insn (\d+)/, 'maxStatesPerInsn'],
  [/total_states (\d+)/, 'totalStates'],
  [/peak_states (\d+)/, 'peakStates'],
  [/mark_read (\d+)/, 'markRead'],
];

/** The last summary line of the log, or undefined when there is none. */
export function parseVerifierSummary(log: string): VerifierSummary | undefined {
  const lines = [...log.matchAll(/^processed (\d+) insns\b.*$/gm)];
  const last = lines.at(-1);
  if (!last?.[1]) return undefined;
  const summary: VerifierSummary = { insnsProcessed: Number(last[1]) };
  for (const [re, key] of FIELDS) {
    const m = re.exec(last[0]);
    if (m?.[1]) summary[key] = Number(m[1]);
  }
  const time = [...log.matchAll(/^verification time (\d+) usec$/gm)].at(-1);
  if (time?.[1]) summary.verificationTimeUs = Number(time[1]);
  return summary;
}
