// Running a command through `sudo` with a password the user gave us, without ever
// sending the password anywhere but to sudo's own prompt. sudo is started with a
// prompt only we know (`-S -p <random token>`); the password is written only after
// that token appears on stderr. If sudo does not ask (a NOPASSWD rule appeared, a
// cached credential), nothing is written: the command's stdin carries only the
// caller's bytes. The caller's stdin is held back until sudo is done, i.e. until the
// command's first stdout byte (our helper always speaks first) or its exit.
import crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import { StderrMarkers } from './streamMarkers';
import type { HelperExit, RemoteProcess, RemoteShell, RemoteSpawnOptions } from './types';

/**
 * How the sudo step ended: `accepted` (asked, password taken, command running),
 * `not-asked` (command running without a password), `rejected` (asked again after the
 * password), `exited` (the process ended before any of these).
 */
export type SudoOutcome = 'accepted' | 'not-asked' | 'rejected' | 'exited';

export interface SudoProcess extends RemoteProcess {
  readonly sudo: Promise<SudoOutcome>;
}

/** `sudo` argv asking with `prompt` on stderr and reading the password from stdin. */
export function sudoPasswordArgv(prompt: string, argv: readonly string[]): string[] {
  // -k: never use a cached credential, so the outcome does not depend on earlier runs.
  return ['sudo', '-k', '-S', '-p', prompt, '--', ...argv];
}

export async function spawnWithSudoPassword(shell: RemoteShell, argv: readonly string[], password: string, opts: RemoteSpawnOptions = {}): Promise<SudoProcess> {
  const token = `[ringbuf-studio sudo ${crypto.randomBytes(12).toString('hex')}]`;
  const proc = await shell.spawn(sudoPasswordArgv(token, argv), opts);
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let state: 'waiting' | 'sent' | 'done' = 'waiting';
  let resolveOutcome: (o: SudoOutcome) => void = () => undefined;
  const sudo = new Promise<SudoOutcome>((resolve) => (resolveOutcome = resolve));
  const settle = (outcome: SudoOutcome): void => {
    if (state === 'done') return;
    state = 'done';
    resolveOutcome(outcome);
    stderr.stop();
    if (outcome === 'accepted' || outcome === 'not-asked') stdin.pipe(proc.stdin);
    else proc.stdin.end(); // sudo reads EOF and gives up; the caller's bytes never reach it
  };
  const stderr = new StderrMarkers(proc.stderr, [
    {
      pattern: new RegExp(token.replace(/[[\]]/g, '\\$&')),
      onMatch: () => {
        if (state === 'waiting') {
          state = 'sent';
          proc.stdin.write(`${password}\n`);
        } else {
          settle('rejected'); // sudo asks again: it did not take the password
        }
      },
    },
  ]);
  proc.stdout.pipe(stdout);
  proc.stdout.once('data', () => settle(state === 'sent' ? 'accepted' : 'not-asked'));
  const exited = proc.exited.then((e: HelperExit) => {
    settle('exited');
    return e;
  });
  return { stdin, stdout, stderr: stderr.output, pid: proc.pid, exited, terminate: (graceMs) => proc.terminate(graceMs), sudo };
}
