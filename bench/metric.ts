// Every benchmark reports metrics in this shape; bench/run.ts prints them as a
// table, or as {"metrics":[…]} with --json. Baselines are measured in the same run.
export interface Metric {
  /** Stable name (fixed ones in design.md "Tests"), e.g. "helper_drain". */
  name: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run, same unit; null when there is none. */
  baseline: number | null;
  /** value / baseline (or the ratio the metric defines, documented in note). */
  ratio: number | null;
  /** What was measured and against what, one line. */
  note?: string;
}

/** A benchmark module: bench/<name>.bench.ts exports `benchmark`. */
export interface Benchmark {
  name: string;
  /** Runs the benchmark; throws (with a clear message) when a prerequisite is missing. */
  run(log: (line: string) => void): Promise<Metric[]>;
}

export function metric(name: string, value: number, unit: string, baseline: number | null, note?: string): Metric {
  return { name, value, unit, baseline, ratio: baseline ? value / baseline : null, ...(note ? { note } : {}) };
}

/** The middle value (mean of the two middle ones for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Wall time of one synchronous call, in ms. */
export function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
