// A CLI subcommand: one file in cli/commands/<name>.ts declaring its options, positionals and
// exit statuses with defineCommand (which makes its parser and its --help), plus one line in
// cli/commands/index.ts.
import { StudioError } from '../core/util/errors';
import { ExitStatus } from './exitStatus';
import { formatOptions, parseArgv, type OptionTable, type ParsedArgs, type PositionalSpec, type TrailingSpec } from './options';
import type { Output } from './output';

import { CliUsageError } from './usageError';

export { CliUsageError };

/**
 * A bad argument that only core can see (a target listed twice, a malformed --max-entries) is a
 * usage error here: exit status 2 and the command's usage. For a command's arguments only: core's
 * EUSAGE for what a file says (a live test's empty `run:`) stays that file's error.
 */
export function asCliUsageError(err: unknown): unknown {
  return err instanceof StudioError && err.code === 'EUSAGE' ? new CliUsageError(err.message) : err;
}

export interface CliIo {
  /** Text for stdout (in order with `output`, when there is one). */
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * stdout as bytes, with back-pressure and write errors (the real process's stdout).
   * Absent in tests that capture text: commands then go through `stdout`.
   */
  output?: Output;
  /** Set when stdout is a terminal (for colours and aligned columns). */
  isTty: boolean;
  cwd: string;
  signal: AbortSignal;
}

export interface CliCommand {
  name: string;
  /** One line for `ringbuf-studio --help`. */
  summary: string;
  /** Full usage text for `ringbuf-studio <name> --help`, generated from the option table. */
  usage: string;
  /** Returns the process exit status. Throws CliUsageError for bad arguments. */
  run(argv: string[], io: CliIo): Promise<number>;
  /** Only parses (what run would get); throws CliUsageError. For tests and tools. */
  parse(argv: string[]): ParsedArgs<OptionTable>;
}

export interface CommandSpec<O extends OptionTable> {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** What the command does, for --help (a few lines). */
  description: string;
  /** Default: none. */
  positionals?: PositionalSpec;
  options: O;
  /** Declared when the command takes `-- ARGS…` (they arrive untouched in `args.trailing`). */
  trailing?: TrailingSpec;
  /** Exit statuses other than 2 (bad arguments), for --help: "1 if any error was reported, 0 otherwise". */
  exitStatus: string;
  /** Runs with parsed, validated options; returns the exit status. */
  run(args: ParsedArgs<O>, io: CliIo): Promise<ExitStatus>;
}

const NO_POSITIONALS: PositionalSpec = { usage: '', min: 0, max: 0 };

/** `-h`/`--help` anywhere before `--` wins over everything else, even a mistake in other options. */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export function formatUsage<O extends OptionTable>(spec: CommandSpec<O>): string {
  const synopsis = [spec.positionals?.usage, '[options]', spec.trailing && `[${spec.trailing.usage}]`].filter(Boolean).join(' ');
  return [
    `usage: ringbuf-studio ${spec.name} ${synopsis}`,
    '',
    spec.description,
    '',
    'options:',
    formatOptions(spec.options, spec.trailing),
    '',
    `exit status: ${spec.exitStatus}, 2 for bad arguments.`,
  ].join('\n');
}

/** A command from its declaration: the table parses argv and writes --help. */
export function defineCommand<O extends OptionTable>(spec: CommandSpec<O>): CliCommand {
  const usage = formatUsage(spec);
  const parse = (argv: readonly string[]): ParsedArgs<O> => parseArgv(argv, spec.options, spec.positionals ?? NO_POSITIONALS, spec.trailing);
  return {
    name: spec.name,
    summary: spec.summary,
    usage,
    run: async (argv, io) => {
      if (asksForHelp(argv)) {
        io.stdout(`${usage}\n`);
        return ExitStatus.ok;
      }
      return spec.run(parse(argv), io);
    },
    parse,
  };
}
