// `npm run bench [-- --json] [-- --only name,name]`: runs every bench/*.bench.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Benchmark, Metric } from './metric';

declare const BENCH_MODULES: Record<string, { benchmark: Benchmark }>;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const onlyIdx = args.indexOf('--only');
  const only = onlyIdx >= 0 ? (args[onlyIdx + 1] ?? '').split(',') : null;
  const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
  const metrics: Metric[] = [];
  const failures: string[] = [];
  for (const [file, mod] of Object.entries(BENCH_MODULES)) {
    const b = mod.benchmark;
    if (only && !only.includes(b.name)) continue;
    log(`running ${b.name} (${file})`);
    try {
      metrics.push(...(await b.run(log)));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      failures.push(`${b.name}: ${msg}`);
      log(`FAILED ${b.name}: ${msg}`);
    }
  }
  const out = { metrics, ...(failures.length ? { failures } : {}) };
  fs.mkdirSync(path.join('bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join('bench', 'results', 'latest.json'), JSON.stringify(out, null, 2));
  if (json) {
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    const rows = metrics.map((m) => [
      m.name,
      fmt(m.value),
      m.unit,
      m.baseline === null ? '-' : fmt(m.baseline),
      m.ratio === null ? '-' : m.ratio.toFixed(2),
      m.note ?? '',
    ]);
    const head = ['metric', 'value', 'unit', 'baseline', 'ratio', 'note'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
    process.stdout.write([line(head), ...rows.map(line)].join('\n') + '\n');
    for (const f of failures) process.stdout.write(`FAILED ${f}\n`);
  }
  if (failures.length) process.exitCode = 1;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

void main();
