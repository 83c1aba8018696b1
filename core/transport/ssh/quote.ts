// Commands on an SSH target always go through a remote shell (the exec request
// carries one string). Every argument is therefore quoted here, and remote
// command lines are built only from quoted argv — never by pasting user data.

/**
 * POSIX single-quote quoting: inside '…' nothing is special except the quote
 * itself, which becomes '\'' (close, escaped quote, reopen). NUL cannot be
 * passed through argv at all, so it is refused.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument cannot contain a NUL byte');
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one remote command line, each element quoted. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
