// Every subcommand, in the order `ringbuf-studio --help` lists them. Adding one: a file
// cli/commands/<name>.ts that exports `defineCommand({...})`, and one line here.
import type { CliCommand } from '../command';
import { lintCommand } from './lint';
import { buildCommand } from './build';
import { newCommand } from './new';
import { templatesCommand } from './templates';
import { runCommand } from './run';
import { probeCommand } from './probe';
import { vmlinuxCommand } from './vmlinux';
import { exportGoCommand } from './exportGo';
import { verifyCommand } from './verify';
import { vmCommand } from './vm';
import { testCommand } from './test';

export const commands: CliCommand[] = [
  lintCommand,
  buildCommand,
  newCommand,
  templatesCommand,
  runCommand,
  testCommand,
  probeCommand,
  vmlinuxCommand,
  exportGoCommand,
  verifyCommand,
  vmCommand,
];
