// `run PROG … -- CMD [ARGS…]` (like `bpftrace -c`, `perf record --`): once the program is
// attached, CMD runs on every target (transport spawnCommand: argv, no shell, as the login
// user, stdin closed). Its stdout and stderr go to our stderr, so the event stream on stdout
// stays clean. When CMD has exited everywhere the run flushes (every event committed until
// then is printed), stops and detaches. Ctrl-C, --count or --duration end CMD too.
import type { CliIo } from './command';
import { argvText, describeExit } from '../core/livetest/command';
import type { RunHandle } from '../core/run/types';
import type { HelperExit, RemoteProcess } from '../core/transport/types';
import { describeError, StudioError } from '../core/util/errors';

interface Started {
  target: string;
  process: RemoteProcess;
}

/**
 * Starts CMD on every target of the run; rejects (nothing left running) when a target cannot
 * run commands or CMD cannot start. Then, in the background: CMD's exit → flush → stop.
 */
export async function runCommandAfterAttach(handle: RunHandle, argv: readonly string[], io: CliIo, opts: { quiet: boolean }): Promise<void> {
  const shown = argvText(argv);
  const spawners = handle.targets.map((t) => ({ target: t, spawn: t.connection.spawnCommand?.bind(t.connection) }));
  for (const { target: t, spawn } of spawners) {
    if (!spawn || !t.connection.capabilities.canRunCommands) {
      throw new StudioError(`the target ${t.name} cannot run commands, so \`${shown}\` cannot run there`, {
        code: 'ENOCOMMANDS',
        hint: 'run -- CMD works on local, SSH and qemu: targets; without -- CMD the run streams until Ctrl-C, --count or --duration',
      });
    }
  }
  const started: Started[] = [];
  const multi = handle.targets.length > 1;
  try {
    for (const { target: t, spawn } of spawners) {
      if (!spawn) continue; // (checked above)
      const process = await spawn(argv, {
        ...(t.connection.capabilities.sharesHostKernel ? { cwd: io.cwd } : {}),
        signal: io.signal,
      }).catch((err: unknown) => {
        throw commandStartError(err, shown, t.name);
      });
      process.stdin.end();
      // CMD's output is data from the target: our stderr (made printable there), never stdout.
      process.stdout.on('data', (c: Buffer) => io.stderr(c.toString()));
      process.stderr.on('data', (c: Buffer) => io.stderr(c.toString()));
      started.push({ target: t.name, process });
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.process.terminate(0)));
    throw err;
  }
  void handle.done.then(() => Promise.all(started.map((s) => s.process.terminate(0))));
  void finishAfterExit(handle, started, shown, io, { quiet: opts.quiet, multi });
}

async function finishAfterExit(handle: RunHandle, started: Started[], shown: string, io: CliIo, opts: { quiet: boolean; multi: boolean }): Promise<void> {
  const exits = await Promise.all(started.map(async (s) => ({ target: s.target, exit: await s.process.exited })));
  if (handle.state !== 'running' && handle.state !== 'paused') return; // ended first (Ctrl-C, --count, --duration)
  if (!opts.quiet) for (const e of exits) io.stderr(`ringbuf-studio: ${opts.multi ? `${e.target}: ` : ''}\`${shown}\` ended (${exitText(e.exit)}); draining\n`);
  // Everything committed before CMD's exit is printed before the stop begins.
  const flushed = await handle.flush().catch((err: unknown) => {
    io.stderr(`ringbuf-studio: the drain after \`${shown}\` could not be confirmed: ${describeError(err)}\n`);
    return undefined;
  });
  if (flushed && !flushed.complete) io.stderr(`ringbuf-studio: not every event before \`${shown}\` ended could be drained in time (see the books below)\n`);
  await handle.stop();
}

function exitText(exit: HelperExit): string {
  const text = describeExit(exit);
  return exit.code === 127 ? `${text}: the shell's status for a command it did not find` : text;
}

function commandStartError(err: unknown, shown: string, target: string): StudioError {
  const code = err instanceof StudioError ? err.code : (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new StudioError(`the command \`${shown}\` does not exist on ${target}`, { code, hint: 'give its full path, or a program on the login user\'s PATH' });
  if (code === 'EACCES') return new StudioError(`the command \`${shown}\` is not executable on ${target}`, { code, hint: 'chmod +x it, or run it through its interpreter' });
  return new StudioError(`cannot run \`${shown}\` on ${target}: ${describeError(err)}`, { cause: err, ...(code ? { code } : {}) });
}
