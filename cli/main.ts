// `ringbuf-studio` — the CLI over core/. Names and output formats are fixed in design.md ("CLI").
import { commands } from './commands/index';
import { CliUsageError, type CliIo } from './command';
import { describeError } from '../core/util/errors';
import { printable } from '../core/util/remoteText';

const VERSION = process.env.RINGBUF_STUDIO_VERSION ?? '0.1.0';

function topUsage(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    'usage: ringbuf-studio <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `ringbuf-studio <command> --help` for a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const io: CliIo = {
    stdout: (t) => void process.stdout.write(t),
    // Messages carry text from targets and helpers: control characters never reach the terminal raw.
    stderr: (t) => void process.stderr.write(printable(t, { multiline: true, maxLength: Infinity })),
    isTty: Boolean(process.stdout.isTTY),
    cwd: process.cwd(),
    signal: controller.signal,
  };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topUsage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`ringbuf-studio ${VERSION}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`ringbuf-studio: unknown command '${name}'\n\n${topUsage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.stderr(`ringbuf-studio ${name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    io.stderr(`ringbuf-studio ${name}: ${describeError(err)}\n`);
    return 1;
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
    process.exitCode = 1;
  },
);
