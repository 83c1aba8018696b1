// Runs a test's trigger (or a setup/teardown command) on a target through the
// transport's spawnCommand: as the login user, argv without a shell (`shell:` lines go
// through /bin/sh -c), stdin closed, output kept (its tail) for messages, bounded in time.
import type { HelperExit, RemoteProcess, TargetConnection } from '../transport/types';
import { StudioError, messageOf } from '../util/errors';
import type { LiveTestCommand } from './model';

/** Output kept from a command (its last bytes), for error messages. */
const OUTPUT_TAIL = 4096;

export interface StartedCommand {
  process: RemoteProcess;
  /** The pid on the target (undefined when the transport cannot tell). */
  pid: number | undefined;
  /** Resolves when the command exited or was killed at its timeout. */
  finished: Promise<CommandOutcome>;
}

export interface CommandOutcome {
  exit: HelperExit;
  timedOut: boolean;
  /** The last OUTPUT_TAIL bytes of stdout and stderr, interleaved as they came. */
  output: string;
  durationMs: number;
}

export interface StartCommandOptions {
  /** Working directory on the target (undefined: the transport's default). */
  cwd?: string;
  signal?: AbortSignal;
}

/**
 * Starts the command. Rejects with a StudioError when it cannot start: the target cannot
 * run commands (ENOCOMMANDS), or the program does not exist / is not executable (ENOENT,
 * EACCES: spawn's own word on this machine; exit status 127 with the shell's "not found"
 * on a remote target).
 */
export async function startCommand(conn: TargetConnection, cmd: LiveTestCommand, opts: StartCommandOptions = {}): Promise<StartedCommand> {
  if (!conn.spawnCommand) {
    throw new StudioError(`the target ${conn.name} cannot run commands, so it cannot run a trigger`, {
      code: 'ENOCOMMANDS',
      hint: 'run this test on a target that can run commands (local or SSH)',
    });
  }
  const began = Date.now();
  const proc = await conn.spawnCommand(cmd.argv, {
    env: cmd.env,
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  proc.stdin.end();
  let output = '';
  const keep = (chunk: Buffer | string): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const pid = await proc.pid;
  const finished = (async (): Promise<CommandOutcome> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      proc.exited.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), cmd.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) await proc.terminate(0);
    const exit = await proc.exited;
    return { exit, timedOut, output, durationMs: Date.now() - began };
  })();
  return { process: proc, pid, finished };
}

/** The remote equivalent of ENOENT: the shell's exit status 127 for a program it did not find. */
export function missingProgram(cmd: LiveTestCommand, outcome: CommandOutcome): boolean {
  return cmd.kind === 'run' && outcome.exit.code === 127 && /not found|no such file/i.test(outcome.output);
}

/** "exit status 3", "killed by SIGKILL", "the connection was lost: …". */
export function describeExit(exit: HelperExit): string {
  if (exit.connectionLost) return `the connection was lost (${exit.connectionLost})`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit status ${exit.code ?? 'unknown'}`;
}

/** The command as the file wrote it, for messages: `/bin/true` or `sh -c "…"`. */
export function commandText(cmd: LiveTestCommand): string {
  return cmd.kind === 'shell' ? `shell: ${JSON.stringify(cmd.argv[2] ?? '')}` : argvText(cmd.argv);
}

/** An argv for messages: plain words as they are, anything else JSON-quoted. */
export function argvText(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w./:=@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Runs a setup/teardown command to its end; resolves with a problem (or undefined when it succeeded). */
export async function runStep(conn: TargetConnection, cmd: LiveTestCommand, opts: StartCommandOptions = {}): Promise<string | undefined> {
  try {
    const started = await startCommand(conn, cmd, opts);
    const outcome = await started.finished;
    await started.process.terminate(0);
    if (outcome.timedOut) return `\`${commandText(cmd)}\` did not finish within ${cmd.timeoutMs / 1000} s (killed)`;
    if (outcome.exit.code !== 0) {
      const out = outcome.output.trim();
      return `\`${commandText(cmd)}\` failed: ${describeExit(outcome.exit)}${out ? `\n${indent(out)}` : ''}`;
    }
    return undefined;
  } catch (err) {
    return `\`${commandText(cmd)}\`: ${messageOf(err)}`;
  }
}

export function indent(text: string, by = '    '): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}
