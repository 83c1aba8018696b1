// The CLI's exit statuses, named once. Scripts and CI depend on the numbers (design.md "CLI").
export enum ExitStatus {
  /** Done; for lint/build: no errors; for run: stopped by --count, --duration or the user. */
  ok = 0,
  /** A failure the output explains (errors in the program, a target that failed, an output that could not be written). */
  failure = 1,
  /** Bad arguments: the cause, then the command's usage. */
  usage = 2,
  /** Cancelled by Ctrl-C before anything started (128 + SIGINT). */
  interrupted = 130,
}
