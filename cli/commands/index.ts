import type { CliCommand } from '../command';

// Add new subcommands here (one import + one entry).
export const commands: CliCommand[] = [];
