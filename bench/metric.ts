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
