// Bad arguments. Kept apart from command.ts so the option parser can throw it without an import circle.

/** Bad arguments: printed with the command's usage, exit status 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}
