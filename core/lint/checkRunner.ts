// The source layer runs on every keystroke over half-written code: a check that throws
// must cost only that check's findings, never the whole lint — and never silently. A
// throwing check is a bug in Ringbuf Studio, not in the user's file, so each one that
// threw becomes one RB019 finding that names the check, where it failed first, how
// many times, and carries the error's stack as its detail.
import { messageOf } from '../util/errors';
import { finding, FIRST_LINE, type Finding } from './finding';

interface CheckFailure {
  /** Where it failed first, e.g. "function handle_exec". */
  subject: string;
  error: unknown;
  count: number;
}

export class CheckRunner {
  private readonly failures = new Map<string, CheckFailure>();

  constructor(private readonly file: string) {}

  /** The check's findings, or none when it throws (the failure is kept for `failureFindings`). */
  run(check: string, subject: string, analyze: () => Finding[]): Finding[] {
    try {
      return analyze();
    } catch (error) {
      const seen = this.failures.get(check);
      if (seen) seen.count++;
      else this.failures.set(check, { subject, error, count: 1 });
      return [];
    }
  }

  /** One RB019 per check that threw. */
  failureFindings(): Finding[] {
    return [...this.failures].map(([check, f]) => {
      const where = f.count > 1 ? `${f.count} times, first on ${f.subject}` : `on ${f.subject}`;
      const found = finding('RB019', this.file, FIRST_LINE,
        `The lint check "${check}" failed ${where}, so it reported nothing there (the other checks ran): ${messageOf(f.error)}. This is a bug in Ringbuf Studio; please report it with this file.`,
        `RB019 ${check}`);
      found.detail = f.error instanceof Error && f.error.stack ? f.error.stack : messageOf(f.error);
      return found;
    });
  }
}
