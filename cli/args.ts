// Argument parsing shared by the subcommands: every mistake becomes a CliUsageError
// (printed with the command's usage, exit 2), never a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliUsageError } from './command';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs in strict mode with positionals; its errors become usage errors. */
export function parseOptions<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals, options });
  } catch (err) {
    throw new CliUsageError(err instanceof Error ? err.message : String(err));
  }
}

export interface Arg {
  /** `--flag` of `--flag=value`, else the whole argument. */
  flag: string;
  raw: string;
  /** The flag's value (inline after `=`, else the next argument); a usage error when missing. */
  value: () => string;
}

/** Walks argv one flag at a time, for commands whose options need custom handling. */
export function argReader(argv: string[]): { next(): Arg | undefined } {
  let i = 0;
  return {
    next() {
      if (i >= argv.length) return undefined;
      const raw = argv[i++] ?? '';
      const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
      const flag = eq > 0 ? raw.slice(0, eq) : raw;
      const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
      return {
        flag,
        raw,
        value: () => {
          const v = inline ?? argv[i++];
          if (v === undefined || v === '') throw new CliUsageError(`${flag} needs a value`);
          return v;
        },
      };
    },
  };
}

/** A usage error unless `value` is one of `allowed`. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const choices = allowed.length > 2 ? `one of ${allowed.join(', ')}` : allowed.join(' or ');
  throw new CliUsageError(`${flag} ${value}: expected ${choices}`);
}

/** --page-size: a power of two of at least 1 KiB. */
export function pageSizeArg(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024 || !Number.isInteger(Math.log2(n))) {
    throw new CliUsageError(`--page-size ${raw}: expected a power of two such as 4096, 16384 or 65536`);
  }
  return n;
}
