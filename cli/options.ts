// The option table every command declares: one description per option that is both the
// parser and the `--help` text, so the two cannot drift. Every mistake is a
// CliUsageError (printed with the command's usage, exit status 2), never a stack trace.
import { CliUsageError } from './usageError';

interface OptionBase {
  /** `--page-size` */
  long: string;
  /** `-o` */
  short?: string;
  /** One line (or several, separated by \n) for --help. */
  help: string;
}

/** A flag without a value: false unless given. */
export interface SwitchOption extends OptionBase {
  kind: 'switch';
}

/** A flag with a value, e.g. `--count N`; the last one given wins. */
export interface ValueOption<T> extends OptionBase {
  kind: 'value';
  /** The value's name in --help: `N`, `FILE`, `json|text`. */
  arg: string;
  /** Turns the text into the value; throws CliUsageError naming the flag when it is not valid. */
  parse: (raw: string, flag: string) => T;
  default?: T;
}

/** A flag that may be repeated, e.g. `--target T`…: every value, in order. */
export interface ListOption<T> extends OptionBase {
  kind: 'list';
  arg: string;
  parse: (raw: string, flag: string) => T;
}

export type OptionSpec = SwitchOption | ValueOption<unknown> | ListOption<unknown>;
export type OptionTable = Record<string, OptionSpec>;

/** What a table parses into: switches are booleans, lists arrays, values `T | undefined` (or T with a default). */
export type OptionValues<O extends OptionTable> = {
  [K in keyof O]: O[K] extends SwitchOption
    ? boolean
    : O[K] extends ListOption<infer T>
      ? T[]
      : O[K] extends ValueOption<infer T> & { default: unknown }
        ? T
        : O[K] extends ValueOption<infer T>
          ? T | undefined
          : never;
};

export interface PositionalSpec {
  /** As shown in the usage line: `<file.bpf.c|file.o>...`, `<template> <dir>`. */
  usage: string;
  min: number;
  max: number;
  /** The usage error when fewer than `min` are given (default: "expected <usage>"); a function when it needs looking up. */
  missing?: string | (() => string);
}

/** Arguments after `--` go to the command untouched (e.g. `run prog.bpf.c -- CMD ARGS…`). */
export interface TrailingSpec {
  /** As shown in the usage line: `-- CMD [ARGS…]`. */
  usage: string;
  /** One line for --help. */
  help: string;
}

export interface ParsedArgs<O extends OptionTable> {
  options: OptionValues<O>;
  positionals: string[];
  /** Everything after `--` when the command takes trailing arguments; undefined when there was no `--`. */
  trailing: string[] | undefined;
}

/** Every command takes it (command.ts answers it before parsing); listed in every --help. */
const HELP: SwitchOption = { kind: 'switch', long: '--help', short: '-h', help: 'show this help' };

/** Constructors for table entries, so a table reads as a list of flags. */
export const option = {
  switch(long: string, help: string, more: { short?: string } = {}): SwitchOption {
    return { kind: 'switch', long, help, ...more };
  },
  value<T = string>(long: string, arg: string, help: string, more: { short?: string; parse?: (raw: string, flag: string) => T } = {}): ValueOption<T> {
    return { kind: 'value', long, arg, help, parse: more.parse ?? (identity as (raw: string) => T), ...(more.short ? { short: more.short } : {}) };
  },
  list<T = string>(long: string, arg: string, help: string, more: { short?: string; parse?: (raw: string, flag: string) => T } = {}): ListOption<T> {
    return { kind: 'list', long, arg, help, parse: more.parse ?? (identity as (raw: string) => T), ...(more.short ? { short: more.short } : {}) };
  },
  /**
   * One of a closed set (`--format json|text`), with a default. `aliases` are accepted
   * spellings of a choice (run's `--format json` means jsonl); --help names them.
   */
  choice<C extends string>(long: string, choices: readonly C[], fallback: C, help: string, more: { aliases?: Record<string, C> } = {}): ValueOption<C> & { default: C } {
    const aliases = more.aliases ?? {};
    const aliasNote = Object.entries(aliases).map(([a, c]) => `${a} = ${c}`);
    return {
      kind: 'value',
      long,
      arg: choices.join('|'),
      help: aliasNote.length ? `${help} (${aliasNote.join(', ')})` : help,
      default: fallback,
      parse: (raw, flag) => aliases[raw] ?? oneOf(flag, raw, choices),
    };
  },
};

function identity(raw: string): string {
  return raw;
}

/** A usage error unless `value` is one of `allowed`. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const choices = allowed.length > 2 ? `one of ${allowed.join(', ')}` : allowed.join(' or ');
  throw new CliUsageError(`${flag} ${value}: expected ${choices}`);
}

interface Lookup {
  byLong: Map<string, [string, OptionSpec]>;
  byShort: Map<string, [string, OptionSpec]>;
}

function lookupOf(table: OptionTable): Lookup {
  const byLong = new Map<string, [string, OptionSpec]>();
  const byShort = new Map<string, [string, OptionSpec]>();
  for (const [key, spec] of Object.entries(table)) {
    byLong.set(spec.long, [key, spec]);
    if (spec.short) byShort.set(spec.short, [key, spec]);
  }
  return { byLong, byShort };
}

/** The closest known flag to a mistyped one (edit distance ≤ 2), for "did you mean". */
function closest(flag: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(flag, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Finds the table entry for one `-x`/`--long[=value]` argument; the inline value when there is one. */
function matchFlag(arg: string, lookup: Lookup): { key: string; spec: OptionSpec; flag: string; inline: string | undefined } {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const hit = lookup.byLong.get(flag);
    if (hit) return { key: hit[0], spec: hit[1], flag, inline: eq > 0 ? arg.slice(eq + 1) : undefined };
  } else {
    const flag = arg.slice(0, 2);
    const hit = lookup.byShort.get(flag);
    // `-o out.o` or `-oout.o` (like compilers: -Iinclude, -DNAME=1); switches only alone.
    if (hit && (arg.length === 2 || hit[1].kind !== 'switch')) return { key: hit[0], spec: hit[1], flag, inline: arg.length > 2 ? arg.slice(2) : undefined };
  }
  const guess = closest(arg.replace(/=.*$/, ''), lookup.byLong.keys());
  throw new CliUsageError(`unknown argument ${arg}${guess ? ` (did you mean ${guess}?)` : ''}`);
}

/**
 * Parses argv against a table: `--flag value`, `--flag=value`, `-f value`, `-fvalue`;
 * `-` alone is a positional; `--` ends the options (what follows is trailing when the
 * command takes it, else positionals).
 */
export function parseArgv<O extends OptionTable>(argv: readonly string[], table: O, positional: PositionalSpec, trailingSpec?: TrailingSpec): ParsedArgs<O> {
  const lookup = lookupOf(table);
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) values[key] = spec.kind === 'switch' ? false : spec.kind === 'list' ? [] : spec.default;
  const positionals: string[] = [];
  let trailing: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      const rest = argv.slice(i + 1);
      if (trailingSpec) trailing = rest;
      else positionals.push(...rest);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const { key, spec, flag, inline } = matchFlag(arg, lookup);
    if (spec.kind === 'switch') {
      if (inline !== undefined) throw new CliUsageError(`${flag} takes no value`);
      values[key] = true;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || raw === '') throw new CliUsageError(`${flag} needs a value`);
    const value = spec.parse(raw, flag);
    if (spec.kind === 'list') (values[key] as unknown[]).push(value);
    else values[key] = value;
  }
  checkPositionals(positionals, positional);
  return { options: values as OptionValues<O>, positionals, trailing };
}

function checkPositionals(got: string[], spec: PositionalSpec): void {
  if (got.length < spec.min) throw new CliUsageError(typeof spec.missing === 'function' ? spec.missing() : (spec.missing ?? `expected ${spec.usage}`));
  if (got.length > spec.max) throw new CliUsageError(`unexpected argument ${got.slice(spec.max).join(' ')}`);
}

/** The options block of --help: `  -o, --output FILE   help`, continuation lines aligned. */
export function formatOptions(table: OptionTable, trailing?: TrailingSpec): string {
  const specs: OptionSpec[] = [...Object.values(table), HELP];
  const rows: Array<[string, string]> = specs.map((s) => {
    const names = s.short ? `${s.short}, ${s.long}` : s.long;
    return [s.kind === 'switch' ? names : `${names} ${s.arg}`, s.help];
  });
  if (trailing) rows.push([trailing.usage, trailing.help]);
  const width = Math.min(Math.max(...rows.map(([f]) => f.length)), 28);
  return rows
    .map(([flags, help]) => {
      const [first = '', ...more] = help.split('\n');
      const head = flags.length > width ? `  ${flags}\n  ${' '.repeat(width)}  ${first}` : `  ${flags.padEnd(width)}  ${first}`;
      return [head, ...more.map((l) => `  ${' '.repeat(width)}  ${l}`)].join('\n');
    })
    .join('\n');
}
