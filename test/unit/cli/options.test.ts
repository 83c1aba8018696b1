// The declarative option tables: one table is the parser and the --help, so what a
// command accepts is what its help lists; the fixed command lines of design.md ("CLI")
// all still parse; `--` hands the rest to the command untouched.
import { describe, expect, it } from 'vitest';
import { defineCommand, type CliIo } from '../../../cli/command';
import { commands } from '../../../cli/commands/index';
import { ExitStatus } from '../../../cli/exitStatus';
import { formatOptions, option, parseArgv } from '../../../cli/options';
import { CliUsageError } from '../../../cli/usageError';

const table = {
  pageSize: option.value('--page-size', 'N', 'page size', { parse: (raw) => Number(raw) }),
  include: option.list('--include', 'DIR', 'include dir', { short: '-I' }),
  noLint: option.switch('--no-lint', 'skip the linter'),
  verbose: option.switch('--verbose', 'talk more', { short: '-v' }),
  format: option.choice('--format', ['jsonl', 'text'] as const, 'text', 'output', { aliases: { json: 'jsonl' } }),
};
const one = { usage: '<file>', min: 1, max: 1 };

function command(name: string) {
  const c = commands.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
}

describe('parseArgv', () => {
  it('reads --flag value, --flag=value, -f value, -fvalue, repeats and defaults', () => {
    const { options, positionals } = parseArgv(['--page-size=16384', 'p.bpf.c', '-Ia', '-I', 'b', '--include', 'c', '-v', '--format', 'json'], table, one);
    expect(options).toEqual({ pageSize: 16384, include: ['a', 'b', 'c'], noLint: false, verbose: true, format: 'jsonl' });
    expect(positionals).toEqual(['p.bpf.c']);
    expect(parseArgv(['x'], table, one).options).toEqual({ pageSize: undefined, include: [], noLint: false, verbose: false, format: 'text' });
  });

  it('names every mistake: missing value, value on a switch, unknown flag (with a suggestion), bad choice, positionals', () => {
    const fails = (argv: string[], message: string): void => {
      expect(() => parseArgv(argv, table, one)).toThrow(CliUsageError);
      expect(() => parseArgv(argv, table, one)).toThrow(message);
    };
    fails(['x', '--page-size'], '--page-size needs a value');
    fails(['x', '--page-size='], '--page-size needs a value');
    fails(['x', '--no-lint=yes'], '--no-lint takes no value');
    fails(['x', '--formt', 'json'], 'unknown argument --formt (did you mean --format?)');
    fails(['x', '-q'], 'unknown argument -q');
    fails(['x', '--format', 'xml'], '--format xml: expected jsonl or text');
    fails([], 'expected <file>');
    fails(['x', 'y'], 'unexpected argument y');
  });

  it('`--` ends the options: the rest is trailing argv for commands that take it, positionals otherwise', () => {
    const trailing = { usage: '-- CMD [ARGS…]', help: 'run CMD' };
    const withCmd = parseArgv(['p.bpf.c', '--no-lint', '--', 'ls', '-l', '--help', '--', 'x'], table, one, trailing);
    expect(withCmd.trailing).toEqual(['ls', '-l', '--help', '--', 'x']);
    expect(withCmd.options.noLint).toBe(true);
    expect(parseArgv(['p.bpf.c'], table, one, trailing).trailing).toBeUndefined();
    expect(parseArgv(['--', '-odd-name.c'], table, one).positionals).toEqual(['-odd-name.c']);
    expect(parseArgv(['-'], table, one).positionals).toEqual(['-']);
  });
});

describe('--help is generated from the same table', () => {
  it('lists every flag with its short form, value name and help, the trailing form and -h', () => {
    const help = formatOptions(table, { usage: '-- CMD [ARGS…]', help: 'run CMD after attach' });
    for (const line of ['--page-size N', '-I, --include DIR', '--no-lint', '-v, --verbose', '--format jsonl|text', 'output (json = jsonl)', '-- CMD [ARGS…]', 'run CMD after attach', '-h, --help']) {
      expect(help).toContain(line);
    }
  });

  it('every command documents every option it parses, and answers --help before judging other arguments', async () => {
    for (const c of commands) {
      let out = '';
      const io: CliIo = { stdout: (t) => void (out += t), stderr: () => undefined, isTty: false, cwd: '/', signal: new AbortController().signal };
      expect(await c.run(['--bogus', '--help'], io), c.name).toBe(ExitStatus.ok);
      expect(out).toBe(`${c.usage}\n`);
      expect(c.usage).toMatch(new RegExp(`^usage: ringbuf-studio ${c.name} `));
      expect(c.usage).toMatch(/\nexit status: .*2 for bad arguments\.$/);
      for (const flag of c.usage.matchAll(/^ {2}(?:(-\w), )?(--[\w-]+)/gm)) {
        if (flag[2] === '--help') continue; // answered before parsing (above)
        // Each listed long flag is accepted by the parser (a usage error would name it).
        const accepted = (() => {
          try {
            c.parse(['a', 'b', flag[2]!, 'v']);
            return true;
          } catch (err) {
            return !(err instanceof CliUsageError && err.message.startsWith(`unknown argument ${flag[2]}`));
          }
        })();
        expect(accepted, `${c.name} ${flag[2]}`).toBe(true);
      }
    }
  });

  it('run documents what it used to accept silently: -t, -v, -q and --format json', () => {
    const run = command('run');
    for (const text of ['-t, --target T', '-v, --verbose', '-q, --quiet', 'json = jsonl', '[-- CMD [ARGS…]]']) expect(run.usage).toContain(text);
  });
});

describe('the fixed command lines of design.md still parse', () => {
  it.each([
    ['lint', ['prog.bpf.c', '--page-size', '16384', '--format', 'json']],
    ['lint', ['prog.bpf.o']],
    ['build', ['prog.bpf.c', '-o', 'out.o', '--format', 'json']],
    ['run', ['prog.bpf.c', '--target', 'local', '--target', 'me@host:2222', '--max-entries', 'rb=8192', '--count', '10', '--duration', '5', '--format', 'jsonl']],
    ['run', ['prog.o', '-t', 'vm1', '-v', '-q', '--format', 'json', '--attach', 'handle_exec', '--no-lint', '--accept-new-host-key', '--helper', '/x/helper']],
    ['new', ['execve', 'dir']],
    ['templates', []],
    ['probe', ['--target', 'vm1', '--format', 'json']],
    ['vmlinux', ['--target', 'vm1', '-o', 'vmlinux.h']],
    ['export-go', ['prog.bpf.c', 'out']],
  ])('%s %j', (name, argv) => {
    expect(() => command(name).parse(argv)).not.toThrow();
  });

  it('run … -- CMD ARGS reaches the command as trailing argv, --help included', () => {
    const parsed = command('run').parse(['prog.bpf.c', '--count', '3', '--', '/bin/ls', '--help', '-l']);
    expect(parsed.trailing).toEqual(['/bin/ls', '--help', '-l']);
    expect(parsed.positionals).toEqual(['prog.bpf.c']);
  });

  it('a command is one declaration: defineCommand gives it parse, run and usage', async () => {
    const hello = defineCommand({
      name: 'hello',
      summary: 'say hello',
      description: 'Says hello.',
      positionals: { usage: '<name>', min: 1, max: 1 },
      options: { loud: option.switch('--loud', 'shout') },
      exitStatus: '0',
      run: ({ options, positionals: [name] }, io) => {
        io.stdout(options.loud ? `HELLO ${name}\n` : `hello ${name}\n`);
        return Promise.resolve(ExitStatus.ok);
      },
    });
    let out = '';
    const io: CliIo = { stdout: (t) => void (out += t), stderr: () => undefined, isTty: false, cwd: '/', signal: new AbortController().signal };
    expect(await hello.run(['--loud', 'you'], io)).toBe(0);
    expect(out).toBe('HELLO you\n');
    expect(hello.usage).toContain('usage: ringbuf-studio hello <name> [options]');
    expect(hello.usage).toContain('--loud');
    await expect(hello.run([], io)).rejects.toThrow('expected <name>');
  });
});
