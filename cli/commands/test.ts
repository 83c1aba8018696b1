// `ringbuf-studio test [files|dirs…] [--target T]… [--reporter text|junit|json|tap]
//  [--output FILE] [--filter NAME]` — runs live tests (`*.rbtest.yaml`, core/livetest).
// The report goes to --output FILE, else stdout. Progress (one line per test as it ends, in
// the style of vitest/go test) goes to stdout when the report does not, else to stderr —
// so `--reporter junit > report.xml` and `--reporter junit --output report.xml` both work.
import path from 'node:path';
import { CliUsageError, defineCommand, type CliIo } from '../command';
import { ExitStatus } from '../exitStatus';
import { option, type OptionValues } from '../options';
import { writeOutputFile } from '../output';
import { cliConnectOptions, helperOption, targetOptions } from '../targetOptions';
import {
  findLiveTestFiles,
  formatReport,
  formatSummary,
  formatTestLine,
  REPORTERS,
  runLiveTests,
  suiteHeader,
  type LiveTestProgress,
  type LiveTestReport,
} from '../../core/livetest/index';
import { catalogueKernel, isQemuSpec } from '../../core/transport/qemu/index';
import { describeError, StudioError } from '../../core/util/errors';

const description = `Runs live tests: for each *.rbtest.yaml (the files given, or found under the folders
given; the working directory when none) and each target, loads and attaches the file's
program once, then per test runs its trigger, waits for it to exit, drains the rings and
checks the decoded events against its expectations. Format: docs/live-tests.md.

--target replaces the files' own \`targets:\`; several targets make a matrix (one suite per
file and target). The report goes to --output FILE (replaced atomically), else stdout;
progress lines go to stdout when the report does not, else to stderr.`;

const options = {
  ...targetOptions,
  reporter: option.choice('--reporter', REPORTERS, 'text', 'junit: JUnit XML for CI (GitLab, GitHub, Jenkins); json; tap: TAP 13'),
  output: option.value('--output', 'FILE', 'write the report to FILE instead of stdout', { short: '-o' }),
  filter: option.value('--filter', 'NAME', 'only tests whose name contains NAME (case-insensitive substring)'),
};

type TestArgs = OptionValues<typeof options>;

export const testCommand = defineCommand({
  name: 'test',
  summary: 'run live tests (*.rbtest.yaml): triggers and expectations on real kernels',
  description,
  positionals: { usage: '[files|dirs…]', min: 0, max: Infinity },
  options,
  exitStatus: '0 when every test passed, 1 when one failed or could not run (an error) or no test was found',
  async run({ options: o, positionals }, io) {
    checkTargets(o.targets);
    const files = await findLiveTestFiles(positionals, io.cwd).catch((err: unknown) => {
      if (err instanceof StudioError && err.code === 'ENOENT') throw new CliUsageError(describeError(err));
      throw err;
    });
    const where = positionals.length ? positionals.join(', ') : 'the working directory';
    if (files.length === 0) {
      io.stderr(`ringbuf-studio test: no *.rbtest.yaml files under ${where}\n  hint: a live test is a <name>.rbtest.yaml next to the program (docs/live-tests.md)\n`);
      return ExitStatus.failure;
    }
    return runTests(files, o, io);
  },
});

/** Bad target names are usage errors before anything connects. */
function checkTargets(targets: readonly string[]): void {
  const twice = targets.find((t, i) => targets.indexOf(t) !== i);
  if (twice !== undefined) throw new CliUsageError(`--target ${twice} is given twice`);
  for (const t of targets) {
    if (!isQemuSpec(t)) continue;
    try {
      catalogueKernel(t);
    } catch (err) {
      throw new CliUsageError(`--target ${t}: ${describeError(err)}`);
    }
  }
}

async function runTests(files: string[], o: TestArgs, io: CliIo): Promise<ExitStatus> {
  const reportOnStdout = o.output === undefined;
  // Progress where the report is not; a text report on stdout is the progress itself.
  const progress = reportOnStdout && o.reporter !== 'text' ? io.stderr : io.stdout;
  const shownOpts = { cwd: io.cwd };
  const started = new Set<string>();
  const report: LiveTestReport = await runLiveTests(files, {
    ...(o.targets.length ? { targets: o.targets } : {}),
    ...(o.filter !== undefined ? { testFilter: o.filter } : {}),
    ...helperOption(o, io),
    connect: cliConnectOptions(o, io),
    signal: io.signal,
    onProgress: (p) => progress(progressText(p, shownOpts, started)),
  });
  if (io.signal.aborted) {
    io.stderr('ringbuf-studio test: cancelled\n');
    return ExitStatus.interrupted;
  }
  const total = report.passed + report.failed + report.errored;
  if (total === 0) {
    io.stderr(`ringbuf-studio test: no test name contains '${o.filter ?? ''}' (--filter is a case-insensitive substring)\n`);
    return ExitStatus.failure;
  }
  progress(`\n${formatSummary(report)}\n`);
  if (o.output !== undefined) {
    await writeOutputFile(path.resolve(io.cwd, o.output), o.output, formatReport(report, o.reporter, shownOpts));
  } else if (o.reporter !== 'text') {
    io.stdout(formatReport(report, o.reporter, shownOpts));
  }
  return report.failed + report.errored > 0 ? ExitStatus.failure : ExitStatus.ok;
}

/** What a person watching sees as the run goes: a header per suite, a line per test, its notes. */
function progressText(p: LiveTestProgress, opts: { cwd: string }, started: Set<string>): string {
  switch (p.kind) {
    case 'suite-start':
      started.add(`${p.file}\0${p.target}`);
      return `${suiteHeader({ file: p.file, target: p.target }, opts)}\n`;
    case 'test-start':
      return '';
    case 'test-end':
      return `${formatTestLine(p.result, opts)}\n`;
    case 'suite-end':
      // A file that cannot be read has no suite-start: its header and its one error come here.
      if (!started.has(`${p.suite.file}\0${p.suite.target}`)) {
        return [suiteHeader(p.suite, opts), ...p.suite.tests.map((t) => formatTestLine(t, opts)), ''].join('\n');
      }
      return p.suite.notes.map((n) => `   note: ${n}\n`).join('');
  }
}
