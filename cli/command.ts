// A CLI subcommand. Each lives in cli/commands/<name>.ts and is listed in cli/commands/index.ts.
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Set when stdout is a terminal (for colours and aligned columns). */
  isTty: boolean;
  cwd: string;
  signal: AbortSignal;
}

export interface CliCommand {
  name: string;
  /** One line for `ringbuf-studio --help`. */
  summary: string;
  /** Full usage text for `ringbuf-studio <name> --help`. */
  usage: string;
  /** Returns the process exit code. Throw CliUsageError for bad arguments. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Bad arguments: printed with the command's usage, exit code 2. */
export class CliUsageError extends Error {}
