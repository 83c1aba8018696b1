// Options several commands share with the same meaning (the target flags live in targetOptions.ts).
import { CliUsageError } from './usageError';
import { option } from './options';

/** --page-size: a power of two of at least 1 KiB. */
export function pageSizeArg(raw: string, flag = '--page-size'): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024 || !Number.isInteger(Math.log2(n))) {
    throw new CliUsageError(`${flag} ${raw}: expected a power of two such as 4096, 16384 or 65536`);
  }
  return n;
}

export const pageSizeOption = option.value('--page-size', 'N', 'target page size in bytes (default 4096; arm64 may use 16384 or 65536)', { parse: pageSizeArg });

/** lint/build --format: compiler-style lines, or the JSON array fixed in design.md. */
export const formatOption = option.choice('--format', ['json', 'text'] as const, 'text', 'json prints [{file,line,column,endLine,endColumn,severity,code,message}]');
