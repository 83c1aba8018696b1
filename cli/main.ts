// `ringbuf-studio` — the CLI over core/. Names and output formats are fixed in design.md ("CLI").
import { commands } from './commands/index';
import { CliUsageError, type CliCommand, type CliIo } from './command';
import { ExitStatus } from './exitStatus';
import { Output } from './output';
import { describeError } from '../core/util/errors';
import { printable } from '../core/util/remoteText';
import { STUDIO_VERSION } from '../core/util/version';

function topUsage(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    'usage: ringbuf-studio <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'options:',
    '  -h, --help     this list; `ringbuf-studio <command> --help` (or `help <command>`) for a command\'s options',
    '  -V, --version  print the version',
  ].join('\n');
}

async function runCommand(command: CliCommand, argv: string[], io: CliIo): Promise<number> {
  try {
    return await command.run(argv, io);
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.stderr(`ringbuf-studio ${command.name}: ${err.message}\n\n${command.usage}\n`);
      return ExitStatus.usage;
    }
    io.stderr(`ringbuf-studio ${command.name}: ${describeError(err)}\n`);
    return ExitStatus.failure;
  }
}

/** The top level: `--help`, `--version`, `help <command>`, or a command. */
async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const about = name === 'help' && rest[0] !== undefined ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stdout(`${about ? about.usage : topUsage()}\n`);
    return name ? ExitStatus.ok : ExitStatus.usage;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`ringbuf-studio ${STUDIO_VERSION}\n`);
    return ExitStatus.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`ringbuf-studio: unknown command '${name}'\n\n${topUsage()}\n`);
    return ExitStatus.usage;
  }
  return runCommand(command, rest, io);
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Nowhere is left to report a failing stderr (e.g. `2>&1 | head`): without a listener Node would crash on it.
  const onStderrError = (): void => undefined;
  process.stderr.on('error', onStderrError);
  const output = new Output(process.stdout);
  const io: CliIo = {
    stdout: (t) => output.write(t),
    // Messages carry text from targets and helpers: control characters never reach the terminal raw.
    stderr: (t) => void process.stderr.write(printable(t, { multiline: true, maxLength: Infinity })),
    output,
    isTty: Boolean(process.stdout.isTTY),
    cwd: process.cwd(),
    signal: controller.signal,
  };
  try {
    const status = await dispatch(argv, io);
    await output.flush();
    if (!output.failure) return status;
    // Whatever the command thought, its output did not arrive: say so in one line (unless it did).
    const unreported = output.takeFailure();
    const name = commands.some((c) => c.name === argv[0]) ? ` ${argv[0]}` : '';
    if (unreported) io.stderr(`ringbuf-studio${name}: ${unreported.message}\n`);
    return ExitStatus.failure;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ringbuf-studio: ${describeError(err)}\n`);
    process.exitCode = ExitStatus.failure;
  },
);
