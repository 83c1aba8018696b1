// The options every command that reaches a target shares (run, probe, vmlinux; test,
// verify next): where, how to trust a new SSH host, which helper, how talkative. Spread
// `targetOptions` into a command's table and turn the values into connect options with
// `cliConnectOptions`.
import path from 'node:path';
import type { CliIo } from './command';
import { option, type OptionValues } from './options';
import { LOCAL_TARGET, type ConnectTargetOptions } from '../core/transport/registry';

export const TARGET_HELP = 'local (default), an ~/.ssh/config alias, user@host[:port], or a VM kernel such as qemu:debian-5.10 (ringbuf-studio vm list)';

export const targetOptions = {
  targets: option.list('--target', 'T', `${TARGET_HELP}; repeat for several`, { short: '-t' }),
  acceptNewHostKey: option.switch('--accept-new-host-key', 'trust an SSH host key seen for the first time (it is saved to known_hosts)'),
  helperPath: option.value('--helper', 'PATH', 'the local ringbuf-helper binary to use'),
  verbose: option.switch('--verbose', "libbpf's info messages and connection details on stderr", { short: '-v' }),
};

/** For commands that take one target: the same flags, `--target` without "repeat". */
export const singleTargetOptions = {
  ...targetOptions,
  targets: option.list('--target', 'T', TARGET_HELP, { short: '-t' }),
};

export type TargetArgs = OptionValues<typeof targetOptions>;

/** The targets to use: the ones given, else local. */
export function targetsOf(args: Pick<TargetArgs, 'targets'>): string[] {
  return args.targets.length ? args.targets : [LOCAL_TARGET];
}

/** --helper, a path relative to the command's working directory. */
export function helperOption(args: Pick<TargetArgs, 'helperPath'>, io: Pick<CliIo, 'cwd'>): { helperPath?: string } {
  return args.helperPath ? { helperPath: path.resolve(io.cwd, args.helperPath) } : {};
}

/** Connection options for the CLI: no prompts; a new host key only with --accept-new-host-key. */
export function cliConnectOptions(args: TargetArgs, io: CliIo): ConnectTargetOptions {
  return {
    signal: io.signal,
    ...helperOption(args, io),
    qemu: { log: (msg) => io.stderr(`ringbuf-studio: ${msg}\n`) }, // downloads and boots take seconds: say so
    confirmHostKey: (info) => {
      if (args.acceptNewHostKey) {
        io.stderr(`ringbuf-studio: trusting new ${info.keyType} host key for ${info.host}:${info.port} (${info.fingerprint}); saved to known_hosts\n`);
        return Promise.resolve(true);
      }
      io.stderr(
        `ringbuf-studio: ${info.host}:${info.port} presents an unknown ${info.keyType} host key ${info.fingerprint}\n` +
          `  check it with the host's administrator, then re-run with --accept-new-host-key (or add it with ssh-keyscan / ssh)\n`,
      );
      return Promise.resolve(false);
    },
    ...(args.verbose ? { log: (level, msg) => io.stderr(`ringbuf-studio: [${level}] ${msg}\n`) } : {}),
  };
}
