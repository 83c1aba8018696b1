// `ringbuf-studio run <file.bpf.c|.o> [--target T]… [--max-entries MAP=N]… [--count N]
//  [--duration S] [--format jsonl] [--attach PROG]… [--filter EXPR] [--accept-new-host-key]
//  [-- CMD [ARGS…]]`
// Events on stdout (JSON lines, or aligned columns), stats, logs and CMD's output on stderr.
// Failures print like a compiler (`file:line:col: error: …`) and exit 1; so does an
// event that cannot be printed or a stdout that cannot be written (a closed reader is a
// normal end).
import path from 'node:path';
import { asCliUsageError, CliUsageError, defineCommand, type CliIo } from '../command';
import { printDiagnostics } from '../diagnostics';
import { checkFilterSyntax, EventSelector } from '../eventFilter';
import { EventPrinter, eventSinkOf } from '../eventPrinter';
import { ExitStatus } from '../exitStatus';
import { option, type OptionValues } from '../options';
import { runCommandAfterAttach } from '../runCommandAfterAttach';
import { cliConnectOptions, helperOption, targetOptions, targetsOf } from '../targetOptions';
import type { Stats } from '../../core/protocol/helper';
import { describeBooks } from '../../core/run/account';
import { parseOverride } from '../../core/run/overrides';
import { RunError, startRun, type RunHandle, type RunListeners } from '../../core/run/run';
import { copyBatch, type RecordBatch } from '../../core/session/types';
import { describeError, type StudioError, wrapError } from '../../core/util/errors';

export { printDiagnostics } from '../diagnostics';

const description = `Builds (for a .bpf.c), loads and attaches the program on each target and prints
the events its ring buffers deliver, decoded with field names from BTF.
Stops on --count/--duration or Ctrl-C and detaches everything.

With -- CMD [ARGS…], CMD runs on the target once the program is attached (argv, no shell,
as the login user, stdin closed); its stdout and stderr go to stderr so the events on
stdout stay clean. When CMD exits, the events committed until then are printed, the run
stops and the status is 0 (CMD's own status is on stderr).`;

function positiveCount(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new CliUsageError(`${flag} ${raw}: expected a positive whole number`);
  return n;
}

function durationMs(raw: string, flag: string): number {
  const s = Number(raw.replace(/s$/, ''));
  if (!Number.isFinite(s) || s <= 0) throw new CliUsageError(`${flag} ${raw}: expected seconds, e.g. 5 or 0.5`);
  return Math.round(s * 1000);
}

function maxEntriesArg(raw: string): [string, number] {
  try {
    return parseOverride(raw);
  } catch (err) {
    throw new CliUsageError(err instanceof Error ? err.message : String(err));
  }
}

const options = {
  ...targetOptions,
  maxEntries: option.list('--max-entries', 'MAP=N', "override a map's max_entries at load (rings: power of two × page size); repeatable", { parse: maxEntriesArg }),
  count: option.value('--count', 'N', 'stop after N events', { parse: positiveCount }),
  durationMs: option.value('--duration', 'S', 'stop after S seconds', { parse: durationMs }),
  format: option.choice('--format', ['jsonl', 'text'] as const, 'text', 'jsonl: one JSON object per event; text: aligned columns', { aliases: { json: 'jsonl' } }),
  attach: option.list('--attach', 'PROG', 'attach only this program (repeatable; default: all)'),
  noLint: option.switch('--no-lint', 'load even when the ring buffer linter reports errors'),
  filter: option.value('--filter', 'EXPR', 'print only events that match EXPR, e.g. \'comm == "bash" && pid > 100\' (the Live Events filter language)'),
  quiet: option.switch('--quiet', 'no periodic stats on stderr', { short: '-q' }),
};

type RunArgs = OptionValues<typeof options> & { file: string; targets: string[]; command: string[] | undefined };

/** Why the run was cut short by the CLI itself, when it was. */
interface CliStop {
  controller: AbortController;
  failure?: StudioError;
}

export const runCommand = defineCommand({
  name: 'run',
  summary: 'load a program on targets and print its ring buffer events',
  description,
  positionals: { usage: '<file.bpf.c|file.o>', min: 1, max: 1, missing: 'no program given (a .bpf.c or .o file)' },
  options,
  trailing: { usage: '-- CMD [ARGS…]', help: 'run CMD on the target once attached; stop when it exits' },
  exitStatus: '0 when stopped normally (count, duration, Ctrl-C, a closed reader, CMD exited), 1 on failure',
  async run({ options: o, positionals: [file = ''], trailing }, io) {
    if (trailing !== undefined && trailing.length === 0) throw new CliUsageError('-- needs a command to run: run PROG -- CMD [ARGS…]');
    if (o.filter !== undefined) checkFilterSyntax(o.filter);
    return runWith({ ...o, file, targets: targetsOf(o), command: trailing }, io);
  },
});

async function runWith(args: RunArgs, io: CliIo): Promise<ExitStatus> {
  const stop: CliStop = { controller: new AbortController() };
  const signals = [io.signal, stop.controller.signal, ...(io.output ? [io.output.gone] : [])];
  const multi = args.targets.length > 1;
  const printer = new EventPrinter(eventSinkOf(io), {
    format: args.format,
    layouts: new Map(),
    multiHost: multi,
    hostWidth: Math.max(4, ...args.targets.map((t) => t.length)),
    onUntyped: (map) => io.stderr(untypedHint(map)),
    onFailure: (err) => stream.failed(err, 'cannot write the events'),
  });
  const stream = new StreamState(printer, stop);
  const logs = new HeldLogs(io, args.verbose);
  let handle: RunHandle;
  try {
    handle = await startRun({
      file: path.resolve(io.cwd, args.file),
      targets: args.targets,
      maxEntries: Object.fromEntries(args.maxEntries),
      attach: args.attach,
      lint: !args.noLint,
      signal: AbortSignal.any(signals),
      connect: cliConnectOptions(args, io),
      ...(args.count !== undefined ? { count: args.count } : {}),
      ...(args.durationMs !== undefined ? { durationMs: args.durationMs } : {}),
      ...helperOption(args, io),
      listeners: listenersFor(args, io, stream, logs),
    });
  } catch (err) {
    logs.release(!(err instanceof RunError && err.diagnostics.length));
    printer.dispose();
    if (io.signal.aborted) {
      io.stderr('ringbuf-studio run: cancelled\n');
      return ExitStatus.interrupted;
    }
    const usage = asCliUsageError(err);
    if (usage instanceof CliUsageError) throw usage;
    printFailure(err, io, args.file);
    return ExitStatus.failure;
  }
  // libbpf's lines about programs the kernel refused repeat the attach diagnostics above.
  logs.release(!handle.diagnostics.some((d) => d.code === 'attach'));
  if (args.filter !== undefined) {
    try {
      stream.selector = new EventSelector(args.filter, handle.layouts, multi);
    } catch (err) {
      await handle.stop(); // an unknown field: nothing was printed yet
      printer.dispose();
      throw err;
    }
  }
  const following = stream.follow(handle, args, io);
  if (args.command) {
    await runCommandAfterAttach(handle, args.command, io, { quiet: args.quiet }).catch((err: unknown) => stream.failed(err, 'run -- CMD'));
  }
  return following;
}

/** Batches before the layouts are known wait; afterwards they print. A printing failure stops the run. */
class StreamState {
  private pending: RecordBatch[] | undefined = [];
  /** --filter: what is printed (set once the layouts are known, before the first print). */
  selector: EventSelector | undefined;
  private readonly lastStats = new Map<string, { stats: Stats; printedAt: number }>();

  constructor(
    readonly printer: EventPrinter,
    private readonly stop: CliStop,
  ) {}

  batch(b: RecordBatch): void {
    if (this.stop.controller.signal.aborted) return;
    if (this.pending) {
      this.pending.push(copyBatch(b)); // lent: the session reuses its memory for the next frame
      return;
    }
    try {
      const shown = this.selector ? this.selector.select(b) : b;
      if (shown) this.printer.print(shown);
    } catch (err) {
      this.failed(err, `cannot print the events of ring '${b.map}'`);
    }
  }

  /** The event path never swallows: the run ends, and says why. */
  failed(err: unknown, what: string): void {
    if (this.stop.failure) return;
    this.stop.failure = wrapError(err, what);
    this.stop.controller.abort();
  }

  stats(target: string, s: Stats, io: CliIo, quiet: boolean, multi: boolean): void {
    const prev = this.lastStats.get(target);
    const now = Date.now();
    const show = !quiet && (!prev || now - prev.printedAt >= 2000);
    this.lastStats.set(target, { stats: s, printedAt: show ? now : (prev?.printedAt ?? 0) });
    if (show && s.rings.some((r) => r.records > 0)) io.stderr(formatStats(target, s, multi));
  }

  /** Prints what waited, streams until the run ends, then reports how it ended. */
  async follow(handle: RunHandle, args: RunArgs, io: CliIo): Promise<ExitStatus> {
    this.printer.setLayouts(handle.layouts);
    this.printer.setFlowControl({
      pause: () => handle.targets.forEach((t) => t.session.pauseReading()),
      resume: () => handle.targets.forEach((t) => t.session.resumeReading()),
    });
    const waiting = this.pending ?? [];
    this.pending = undefined;
    for (const b of waiting) this.batch(b);
    const multi = args.targets.length > 1;
    const attached = [...handle.loaded].map(([t, l]) => `${multi ? `${t}: ` : ''}${l.programs.filter((p) => p.attached).map((p) => `${p.name} → ${p.section}`).join(', ')}`);
    if (!args.quiet) io.stderr(`ringbuf-studio: attached ${attached.join('; ')}${args.count ? `; stopping after ${args.count} events` : ''}${args.durationMs ? `; stopping after ${args.durationMs / 1000} s` : ''} (Ctrl-C stops)\n`);
    const end = await handle.done;
    this.printer.dispose();
    if (!args.quiet) for (const [t, { stats }] of this.lastStats) io.stderr(formatStats(t, stats, multi));
    const cut = this.stop.failure ?? io.output?.takeFailure();
    if (cut) {
      io.stderr(`ringbuf-studio run: ${describeError(cut)}; detached after ${end.events} events\n`);
      return ExitStatus.failure;
    }
    const failed = end.reason === 'helper-exited' || end.reason === 'connection-lost';
    // The books: what was delivered, left in a ring, dropped by the program (per target when several).
    if (multi) for (const t of end.targets) io.stderr(`ringbuf-studio: ${t.target}: ${describeBooks(t, '')}\n`);
    if (this.selector) io.stderr(`ringbuf-studio: ${this.selector.matched} of ${end.events} events matched --filter\n`);
    io.stderr(`ringbuf-studio: ${failed ? 'error: ' : ''}${end.message}; detached\n`);
    return failed ? ExitStatus.failure : ExitStatus.ok;
  }
}

/** libbpf's load-failure lines repeat what the diagnostics say: held until we know whether they do. */
class HeldLogs {
  private held: string[] | undefined = [];
  constructor(
    private readonly io: CliIo,
    private readonly verbose: boolean,
  ) {}
  log(line: string): void {
    if (this.held && !this.verbose) this.held.push(line);
    else this.io.stderr(line);
  }
  /** Prints what was held (when `show`) and from now on prints at once. */
  release(show: boolean): void {
    if (show) for (const l of this.held ?? []) this.io.stderr(l);
    this.held = undefined;
  }
}

function listenersFor(args: RunArgs, io: CliIo, stream: StreamState, logs: HeldLogs): Partial<RunListeners> {
  const multi = args.targets.length > 1;
  return {
    // Batches can arrive before startRun returns the layouts: StreamState holds them briefly.
    batch: (b) => stream.batch(b),
    stats: (target, s) => stream.stats(target, s, io, args.quiet, multi),
    log: (target, level, text) => {
      if (level === 'debug' || (level === 'info' && !args.verbose)) return;
      logs.log(`ringbuf-studio: ${multi ? `${target}: ` : ''}${level === 'warn' ? '' : `${level}: `}${text}\n`);
    },
    diagnostics: (d) => printDiagnostics(d, io, { typed: [args.file] }),
    state: (state, detail) => {
      // Stopping: the helpers must be read to the end (their final frames), congested or not.
      if (state === 'stopping') stream.printer.setFlowControl(undefined);
      if (args.verbose) io.stderr(`ringbuf-studio: ${state}${detail ? ` (${detail})` : ''}\n`);
    },
  };
}

function untypedHint(map: string): string {
  return (
    `ringbuf-studio: events of ring '${map}' have no known type; printing them as hex.\n` +
    `  hint: declare it: reserve with sizeof(struct X) (or sizeof(*p) with p a struct X *), or add __type(value, struct X) / btf_decl_tag("event_type:X") to the map\n`
  );
}

function printFailure(err: unknown, io: CliIo, file: string): void {
  if (err instanceof RunError && err.diagnostics.length) {
    printDiagnostics(err.diagnostics, io, { typed: [file] });
    io.stderr(`ringbuf-studio run: ${err.message}\n`);
    if (err.hint) io.stderr(`  hint: ${err.hint}\n`);
    if (err.stage === 'build' && !err.diagnostics.some((d) => d.severity === 'error') && err.detail) io.stderr(`${err.detail}\n`);
    return;
  }
  io.stderr(`ringbuf-studio run: ${describeError(err)}\n`);
}

/** Sums what the stats say about drops: the program's own counters. */
function drops(s: Stats): number {
  return s.counters.reduce((n, c) => n + c.value, 0);
}

function formatStats(target: string, s: Stats, multi: boolean): string {
  const size = (n: number): string => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);
  const rings = s.rings.map((r) => `${r.name}: ${r.records} events, ${size(r.bytes)}, fill ${(r.fill * 100).toFixed(1)}%`).join('; ');
  const d = s.counters.length ? `, drops ${drops(s)}` : '';
  return `ringbuf-studio: ${multi ? `${target}: ` : ''}${rings || 'no rings'}${d}${s.paused ? ' (paused)' : ''}\n`;
}
